/**
 * @module Worker-thread entry for background refits: its own workspace connection and learner, so a
 * refit (seconds of matrix work at 50k images) never blocks the thread that answers label writes.
 * The worker makes the learner (loading the embeddings, the features, the graph) and shares its memory
 * with the main thread on request: one copy of the features and graph in the process. Started by
 * live-model.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  type AccuracyFigure,
  type ChecksNeeded,
  type ErrorCode,
  type ErrorHint,
  isAutolabelError,
  type Learner,
  messageOf,
  openWorkspace,
  type Progress,
  type SharedLearner,
} from '@autolabel/core';

export interface RefitWorkerData {
  readonly workspace: string;
  /** The server's model, when not the workspace's default (serve --model). */
  readonly model?: string;
  readonly targetPrecision?: number;
  /** A full cross-validated fit once labels grew by this share since the last one. */
  readonly fullFitGrowth: number;
}

export type RefitRequest =
  | { readonly type: 'refit'; readonly id: number }
  /** The learner's memory, for a learner in the main thread over the same buffers. */
  | { readonly type: 'share'; readonly id: number }
  | { readonly type: 'close' };

export type RefitReply = { readonly id: number } & (
  | {
      readonly type: 'done';
      readonly fitId: number;
      readonly accuracy: AccuracyFigure;
      readonly threshold: number | null;
      readonly certified: number;
      readonly next: ChecksNeeded | null;
    }
  | { readonly type: 'shared'; readonly learner: SharedLearner }
  /** The learner's graph build (id 0: no request's answer), at most every `PROGRESS_MS`, and its end. */
  | { readonly type: 'progress'; readonly progress: Progress }
  | {
      readonly type: 'failed';
      readonly message: string;
      /** The AutolabelError's code and hint, so the main thread can throw the same error. */
      readonly code?: ErrorCode;
      readonly hint?: ErrorHint;
    }
);

/** Progress this often at most: a message per block of neighbours would flood the port and the pages. */
const PROGRESS_MS = 250;

async function main(port: NonNullable<typeof parentPort>, data: RefitWorkerData): Promise<void> {
  const ws = await openWorkspace(data.workspace, { model: data.model });
  let last = 0;
  const onProgress = (progress: Progress): void => {
    const now = performance.now();
    if (now - last < PROGRESS_MS && progress.done !== progress.total) return;
    last = now;
    port.postMessage({ id: 0, type: 'progress', progress } satisfies RefitReply);
  };
  // One learner, however many requests ask for it at once.
  let learner: Promise<Learner> | undefined;
  const ready = (): Promise<Learner> => {
    learner ??= ws.openLearner(undefined, { onProgress }).catch((error: unknown) => {
      learner = undefined; // the next request tries again
      throw error;
    });
    return learner;
  };
  let labelsAtFullFit = 0;
  port.on('message', (message: RefitRequest) => {
    if (message.type === 'close') {
      // A message handler cannot be awaited; a failed close ends the worker, which is what close asks.
      void (async () => {
        await (await learner?.catch(() => undefined))?.close();
        await ws.close();
        port.close();
      })();
      return;
    }
    const { id } = message;
    // A message handler cannot be awaited; failures are caught below and replied as 'failed'.
    void (async () => {
      try {
        if (message.type === 'share') {
          port.postMessage({ id, type: 'shared', learner: (await ready()).share() } satisfies RefitReply);
          return;
        }
        const current = await ready();
        const labels = await ws.labels.countHuman();
        const quick = labels - labelsAtFullFit < Math.max(5, data.fullFitGrowth * labelsAtFullFit);
        const result = await ws.suggest({ learner: current, quick, targetPrecision: data.targetPrecision });
        if (!result.reused) labelsAtFullFit = labels;
        port.postMessage({
          id,
          type: 'done',
          fitId: result.fitId,
          accuracy: result.accuracy,
          threshold: result.threshold,
          certified: result.certificate?.certified ?? 0,
          next: result.certificate?.next ?? null,
        } satisfies RefitReply);
      } catch (error) {
        const known = isAutolabelError(error) ? { code: error.code, hint: error.hint } : {};
        port.postMessage({ id, type: 'failed', message: messageOf(error), ...known } satisfies RefitReply);
      }
    })();
  });
}

// Not awaited: a failed start is an unhandled rejection, which ends the worker with an 'error' event (live-model.ts).
if (parentPort) void main(parentPort, workerData as RefitWorkerData);
