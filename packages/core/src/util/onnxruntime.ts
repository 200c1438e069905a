/**
 * @module onnxruntime-node without its telemetry. From 1.30 its Linux build carries Microsoft's 1DS
 * telemetry: every process that loads it writes /tmp/mat-debug-<pid>.log and queues events (a device
 * id, the OS, hashes of the models run) in ~/.cache/Microsoft/DeveloperTools/.onnxruntime, to upload
 * over HTTPS wherever the machine reaches the internet. The images people label may be patients',
 * and nothing of theirs leaves the machine unless they ask: onnxruntime reads ORT_DISABLE_TELEMETRY
 * from the process environment when it starts, so it is set here, at import, before any module
 * loads it. Core's entry points import this module first. A user who wants onnxruntime's telemetry
 * sets ORT_DISABLE_TELEMETRY=0.
 */
import { isMainThread } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';

/**
 * Sets ORT_DISABLE_TELEMETRY unless the user has. Only the main thread's process.env is the
 * process's environment (a worker's is a copy), and workers start from the main thread after it.
 */
function optOutOfTelemetry(): void {
  if (isMainThread) process.env.ORT_DISABLE_TELEMETRY ??= '1';
}

optOutOfTelemetry();

/** onnxruntime (a native add-on) loads with the first session, not when core is imported. */
export function loadOnnxRuntime(): Promise<typeof Ort> {
  optOutOfTelemetry();
  return import('onnxruntime-node');
}
