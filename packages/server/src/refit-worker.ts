/**
 * @module Worker-thread entry for background refits: its own workspace connection and learner, so a
 * refit (seconds of matrix work at 50k images) never blocks the thread that answers label writes.
 * Started by live.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type AccuracyFigure, type ChecksNeeded, type Learner, messageOf, openWorkspace } from '@autolabel/core';

export interface RefitWorkerData {
  readonly workspace: string;
  /** The server's model, when not the workspace's default (serve --model). */
  readonly model?: string;
  readonly targetPrecision?: number;
  /** A full cross-validated fit once labels grew by this share since the last one. */
  readonly fullFitGrowth: number;
}

export type RefitReply =
  | {
      readonly type: 'done';
      readonly fitId: number;
      readonly accuracy: AccuracyFigure;
      readonly threshold: number | null;
      readonly certified: number;
      readonly next: ChecksNeeded | null;
    }
  | { readonly type: 'failed'; readonly message: string };

async function main(port: NonNullable<typeof parentPort>, data: RefitWorkerData): Promise<void> {
  const ws = await openWorkspace(data.workspace, { model: data.model });
  let learner: Learner | undefined;
  let labelsAtFullFit = 0;
  port.on('message', (message: { type: 'refit' } | { type: 'close' }) => {
    if (message.type === 'close') {
      // A message handler cannot be awaited; a failed close ends the worker, which is what close asks.
      void (async () => {
        await learner?.close();
        await ws.close();
        port.close();
      })();
      return;
    }
    // A message handler cannot be awaited; failures are caught below and replied as 'failed'.
    void (async () => {
      try {
        learner ??= await ws.openLearner();
        const labels = await ws.labels.countHuman();
        const quick = labels - labelsAtFullFit < Math.max(5, data.fullFitGrowth * labelsAtFullFit);
        const result = await ws.suggest({ learner, quick, targetPrecision: data.targetPrecision });
        if (!result.reused) labelsAtFullFit = labels;
        port.postMessage({
          type: 'done',
          fitId: result.fitId,
          accuracy: result.accuracy,
          threshold: result.threshold,
          certified: result.certificate?.certified ?? 0,
          next: result.certificate?.next ?? null,
        } satisfies RefitReply);
      } catch (error) {
        port.postMessage({ type: 'failed', message: messageOf(error) } satisfies RefitReply);
      }
    })();
  });
}

// Not awaited: a failed start is an unhandled rejection, which ends the worker with an 'error' event (live-model.ts).
if (parentPort) void main(parentPort, workerData as RefitWorkerData);
