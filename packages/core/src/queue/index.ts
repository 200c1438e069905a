/** @module Job queues on an existing engine (BullMQ on PostgreSQL or Redis): jobs, workers, producers, status. */
export { DEFAULT_QUEUE_NAME, parseQueueUrl, type QueueLocation } from './connection.js';
export { type EmbedJob, type EmbedJobResult, JOB_KINDS, type JobKind } from './jobs.js';
export { embedOnQueue, type QueueEmbedOptions, type QueueEmbedResult } from './producer.js';
export { type QueueStatus, queueStatus } from './status.js';
export { type QueueWorkerOptions, type QueueWorkerSummary, runQueueWorker, type WorkerJobEvent } from './worker.js';
