import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedColourWorkspace, runCli, runCliJson } from './testing/cli.js';

// The audit as a user runs it with the built CLI (npm run build first): colour photos labelled by
// their class, one label given wrong, and one photo copied under another name.
const dir = mkdtempSync(join(tmpdir(), 'autolabel-audit-cli-'));
const FLIPPED = 'img_am03.png';

interface AuditJson {
  findings: { kind: string; images: string[]; score: number; reason: string; givenLabel?: string }[];
  notes: string[];
}

beforeAll(async () => {
  const truth = await embeddedColourWorkspace(dir, 12);
  copyFileSync(join(dir, 'photos', 'img_az05.png'), join(dir, 'photos', 'copy of img_az05.png'));
  for (const args of [
    ['scan', '-q'],
    ['embed', '-q'],
  ])
    expect(runCli(dir, args).code).toBe(0);
  const rows = [...truth].map(([path, label]) => `${path},${path === FLIPPED ? 'moss' : label}`);
  writeFileSync(join(dir, 'labels.csv'), `image,label\n${rows.join('\n')}\n`);
  expect(runCli(dir, ['import', 'labels.csv']).code).toBe(0);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('autolabel audit', () => {
  it('--json: the findings, most likely first, the flipped label and the copy among them', () => {
    const { findings, notes } = runCliJson<AuditJson>(dir, ['audit']);
    expect(notes).toEqual([]);
    const scores = findings.map((f) => f.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const errors = findings.filter((f) => f.kind === 'label-error');
    expect(errors[0]).toMatchObject({ images: [FLIPPED], givenLabel: 'moss' });
    // The fixture's photos of one pattern differ by noise only, so they may group too; the copy is with its original.
    const group = findings.find((f) => f.kind === 'duplicate' && f.images.includes('copy of img_az05.png'));
    expect(group?.images).toContain('img_az05.png');
  });

  it('prints ranked findings with their reason and evidence; --kind takes one kind', () => {
    const result = runCli(dir, ['audit', '--kind', 'label-error', '--limit', '3']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Likely label errors: [1-3]$/m);
    expect(result.stdout).toMatch(new RegExp(`^\\s+1\\. \\d\\.\\d\\d  ${FLIPPED}$`, 'm'));
    expect(result.stdout).toMatch(
      /labelled "moss", but a model that never saw this label, with the labels of its neighbours, gives "amber"/,
    );
    expect(result.stdout).toMatch(/^\s+neighbours: img_am\d\d\.png \(amber, /m);
    expect(result.stdout).not.toMatch(/Near-duplicate groups/);
    expect(result.stderr).toMatch(/label errors: \d+\/\d+/);
  });

  it('refuses an unknown kind with a non-zero exit', () => {
    const result = runCli(dir, ['audit', '--kind', 'typos']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--kind.*typos|typos.*--kind|Allowed choices are label-error, duplicate, outlier/);
  });
});
