/** @module Checks that the throwaway servers answer while started, and that a missing one skips, or fails in CI. */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { missingServer, REDIS_URL_VARIABLE, testRedis } from './servers.js';

/** Sends one RESP command and resolves with the first reply line, or the connection error. */
async function redisCommand(url: string, command: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${command}\r\n`));
    socket.once('data', (data) => {
      resolve(data.toString().trim());
      socket.end();
    });
    socket.once('error', reject);
  });
}

const saved = { ...process.env };
afterEach(() => {
  for (const name of ['CI', REDIS_URL_VARIABLE]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('test servers', () => {
  it('uses the server CI names as it is, and stops nothing of it', async () => {
    process.env[REDIS_URL_VARIABLE] = 'redis://127.0.0.1:1';
    const given = await testRedis();
    expect(given.server?.url).toBe('redis://127.0.0.1:1');
    await given.server!.stop();
  });

  it('starts a throwaway Redis on loopback that answers until stopped', async (context) => {
    delete process.env[REDIS_URL_VARIABLE];
    const found = await testRedis();
    if (!found.server) return context.skip(found.skip);
    expect(found.server.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(await redisCommand(found.server.url, 'PING')).toBe('+PONG');
    await found.server.stop();
    await expect(redisCommand(found.server.url, 'PING')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('skips with the reason when there is no server outside CI, and fails in CI', () => {
    delete process.env.CI;
    expect(missingServer('no redis-server binary was found')).toEqual({ skip: 'no redis-server binary was found' });
    process.env.CI = 'true';
    expect(() => missingServer('no redis-server binary was found')).toThrow(
      /CI=true, but no redis-server binary was found: CI must run the tests that need it/,
    );
  });
});
