/**
 * @module Worker-thread entry of the embed pipeline's decode pool: fills batch buffers with
 * model-ready images (batch-decoder.ts) while the model thread runs the previous batch. Started
 * by decode-pool.ts, which defines the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { preloadJpegDecoder } from '../image/jpeg.js';
import { describeError } from './backends/worker-slot.js';
import { BatchDecoder, type BatchDecoderConfig } from './batch-decoder.js';
import type { DecodeReply, DecodeRequest } from './decode-pool.js';

async function main(port: NonNullable<typeof parentPort>, config: BatchDecoderConfig): Promise<void> {
  const decoder = new BatchDecoder(config, { blockingReads: true });
  const post = (message: DecodeReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  // Requests sent meanwhile wait in the port's queue until the listener below is attached. sharp
  // loads at the first image that needs it: it costs a worker about 85 CPU-ms, twice the rest of its start.
  await preloadJpegDecoder();
  post({ type: 'ready' });
  port.on('message', (message: DecodeRequest) => {
    try {
      if (message.type === 'begin') {
        decoder.begin(message.batch, message.buffer);
      } else if (message.type === 'decode') {
        decoder.decode(message.batch, message.slot, message.item).then(
          (skip) => post({ type: 'decoded', id: message.id, skip }),
          (error: unknown) => post({ type: 'failed', message: describeError(error) }),
        );
      } else {
        const buffer = decoder.seal(message.batch, message.slots);
        post({ type: 'sealed', batch: message.batch, buffer }, [buffer]);
      }
    } catch (error) {
      post({ type: 'failed', message: describeError(error) });
    }
  });
}

// Not awaited: a failed start is an unhandled rejection, which ends the worker with an 'error' event (decode-pool.ts).
if (parentPort) void main(parentPort, workerData as BatchDecoderConfig);
