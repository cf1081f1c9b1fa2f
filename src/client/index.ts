/**
 * The client library: transports to the API server (HTTPS and in-process), a typed client per
 * kind, informers with listers and indexes, the work queue controllers are built on,
 * expectations, and an event recorder. Exported for users writing their own controllers.
 */
export type { ApiRequest, ApiResponse, EventStream, EventStreamOptions, WatchHints } from './api-request.ts';
export { Client, ResourceClient, type DeleteOptions, type ListOptions, type PatchOptions, type WatchOptions, type WriteOptions } from './client.ts';
export { formatInZone, parseSchedule, ScheduleError, type Schedule } from './cron-schedule.ts';
export { ApiError, isApiError, type Status } from './errors.ts';
export { EventRecorder, type EventRecorderOptions } from './event-recorder.ts';
export { Expectations, type ExpectationsOptions } from './expectations.ts';
export { Histogram, type HistogramCounts } from './histogram.ts';
export { HttpTransport, type HttpTransportOptions } from './http-transport.ts';
export { Informer, type IndexFunction, type InformerHandler, type InformerOptions, type Lister } from './informer.ts';
export { InformerFactory, type InformerFactoryOptions } from './informer-factory.ts';
export * as kinds from './kinds.ts';
export { LeaderElector, type LeaderElectorOptions } from './leader-election.ts';
export { readKubeconfig, type Credentials } from './kubeconfig.ts';
export { selectorIsEmpty, selectorMatches, selectorToString } from './labels.ts';
export {
  byControllerUid,
  controllerOf,
  controllerRef,
  controllerUidIndex,
  objectKey,
  orphanIndex,
  orphansByNamespace,
  splitKey,
  type KubeList,
  type KubeObject,
} from './object.ts';
export { nodeSelectorTermMatches, nodeSelectorTermsMatch, tolerates, untoleratedTaint } from './scheduling.ts';
export { apiVersionOf, collectionPath, objectPath, resourceType, type ResourceType } from './resources.ts';
export { ShardedMap } from './sharded-map.ts';
export * from './transport.ts';
export { processQueue, WorkQueue, type ProcessQueueOptions, type WorkQueueOptions } from './work-queue.ts';
export { yaml } from './yaml.ts';
