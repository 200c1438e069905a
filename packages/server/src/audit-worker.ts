/**
 * @module Worker-thread entry for one data quality audit (started by audit-runs.ts): its own workspace
 * connection, so the nearest-neighbour and probability work (a minute or more at 50k images) never
 * blocks the thread that answers label writes. Posts progress as it goes, then the outcome, and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  type AuditKind,
  type ErrorHint,
  isAutolabelError,
  messageOf,
  openWorkspace,
  type Progress,
} from '@autolabel/core';

export interface AuditWorkerData {
  readonly workspace: string;
  /** The server's model, when not the workspace's default (serve --model). */
  readonly model?: string;
  readonly kinds?: readonly AuditKind[];
  readonly limit?: number;
}

export type AuditReply =
  | { readonly type: 'progress'; readonly progress: Progress }
  | { readonly type: 'done'; readonly notes: readonly string[] }
  | { readonly type: 'failed'; readonly message: string; readonly hint?: ErrorHint };

/** Progress this often at most: a message per neighbour would flood the port. */
const PROGRESS_MS = 100;

async function main(port: NonNullable<typeof parentPort>, data: AuditWorkerData): Promise<void> {
  const reply = (message: AuditReply) => port.postMessage(message);
  let last = 0;
  try {
    const ws = await openWorkspace(data.workspace, { model: data.model });
    try {
      const { notes } = await ws.audit.run({
        kinds: data.kinds,
        limit: data.limit,
        onProgress: (progress) => {
          const now = performance.now();
          if (now - last < PROGRESS_MS && progress.done !== progress.total) return;
          last = now;
          reply({ type: 'progress', progress });
        },
      });
      reply({ type: 'done', notes });
    } finally {
      await ws.close();
    }
  } catch (error) {
    reply({
      type: 'failed',
      message: messageOf(error),
      ...(isAutolabelError(error) && error.hint ? { hint: error.hint } : {}),
    });
  }
}

if (parentPort) await main(parentPort, workerData as AuditWorkerData);
