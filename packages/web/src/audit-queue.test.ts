// One queue of the audit view (app/audit-queue.ts), here because tests are collected from packages/*/src.
import { describe, expect, it } from 'vitest';
import { AuditQueue } from '../app/audit-queue.js';

const findings = (...ids: string[]) => ids.map((id) => ({ id }));
const shown = (queue: AuditQueue<{ id: string }>) => queue.current?.id ?? null;

describe('AuditQueue', () => {
  it('shows the most likely finding first and steps through the rest, stopping at the ends', () => {
    const queue = new AuditQueue<{ id: string }>();
    expect(queue.loaded).toBe(false);
    expect(shown(queue)).toBe(null);
    queue.replace(findings('a', 'b', 'c'));
    expect(queue.loaded).toBe(true);
    expect(shown(queue)).toBe('a');
    expect(queue.position).toEqual({ index: 1, total: 3 });
    expect(queue.step(-1)).toBe(false);
    expect(queue.step(1)).toBe(true);
    expect(queue.step(1)).toBe(true);
    expect(queue.step(1)).toBe(false);
    expect(shown(queue)).toBe('c');
    expect(queue.position).toEqual({ index: 3, total: 3 });
  });

  it('moves on to the next finding once one is decided, and keeps it out of lists fetched before', () => {
    const queue = new AuditQueue<{ id: string }>();
    queue.replace(findings('a', 'b', 'c'));
    queue.step(1);
    queue.handled('b');
    expect(shown(queue)).toBe('c');
    expect(queue.position).toEqual({ index: 2, total: 2 });
    // A list the server sent before it heard of the decision still names b.
    queue.replace(findings('a', 'b', 'c'));
    expect(queue.items.map((f) => f.id)).toEqual(['a', 'c']);
    expect(shown(queue)).toBe('c');
    // The last one decided: the one before it is shown, then nothing.
    queue.handled('c');
    expect(shown(queue)).toBe('a');
    queue.handled('a');
    expect(shown(queue)).toBe(null);
    expect(queue.position).toEqual({ index: 0, total: 0 });
  });

  it('stays on the finding shown when a new list reorders the queue, else on its place', () => {
    const queue = new AuditQueue<{ id: string }>();
    queue.replace(findings('a', 'b', 'c', 'd'));
    queue.step(1);
    queue.replace(findings('x', 'a', 'c', 'b', 'd'));
    expect(shown(queue)).toBe('b');
    // b is gone (decided in another tab): the finding now at its place is shown.
    queue.replace(findings('x', 'a', 'c', 'd'));
    expect(shown(queue)).toBe('d');
    queue.replace(findings('x'));
    expect(shown(queue)).toBe('x');
  });

  it('shows a new audit’s list as it is, decisions made before it forgotten', () => {
    const queue = new AuditQueue<{ id: string }>();
    queue.replace(findings('a', 'b'));
    queue.handled('a');
    queue.forgetHandled();
    queue.replace(findings('a', 'b'));
    expect(queue.items.map((f) => f.id)).toEqual(['a', 'b']);
  });

  it('gives a finding back when its decision failed', () => {
    const queue = new AuditQueue<{ id: string }>();
    queue.replace(findings('a', 'b'));
    queue.handled('a');
    queue.unhandled('a');
    queue.replace(findings('a', 'b'));
    expect(queue.items.map((f) => f.id)).toEqual(['a', 'b']);
  });
});
