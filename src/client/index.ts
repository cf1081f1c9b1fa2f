/**
 * The client library: transports to the API server and the work queue controllers are built
 * on. (Typed clients, informers and listers grow here; see issue #4.)
 */
export type { ApiRequest, ApiResponse, EventStream, EventStreamOptions } from './api-request.ts';
export * from './transport.ts';
export { processQueue, WorkQueue, type ProcessQueueOptions, type WorkQueueOptions } from './work-queue.ts';
