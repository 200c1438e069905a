/**
 * @module Worker-thread entry of the embed pipeline's decode pool: fills batch buffers with
 * model-ready images (batch-decoder.ts) while the model thread runs the previous batch. Started
 * by decode-pool.ts, which defines the messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from './backends/worker-slot.js';
import { BatchDecoder, type BatchDecoderConfig } from './batch-decoder.js';
import type { DecodeReply, DecodeRequest } from './decode-pool.js';

function main(port: NonNullable<typeof parentPort>, config: BatchDecoderConfig): void {
  const decoder = new BatchDecoder(config, { blockingReads: true });
  const post = (message: DecodeReply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
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

if (parentPort) main(parentPort, workerData as BatchDecoderConfig);
