/**
 * The messages of `k8s.io/api/events/v1` (protobuf package `k8s.io.api.events.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/events/v1`, referenced from other tables as `eventsv1.Name`. */
export const eventsV1: MessageTable = {
  Event: `
    metadata=1:!metav1.ObjectMeta eventTime=2:MicroTime series=3:*EventSeries reportingController=4:string
    reportingInstance=5:string action=6:string reason=7:string regarding=8:corev1.ObjectReference
    related=9:*corev1.ObjectReference note=10:string type=11:string deprecatedSource=12:corev1.EventSource
    deprecatedFirstTimestamp=13:Time deprecatedLastTimestamp=14:Time deprecatedCount=15:int32
  `,
  EventSeries: 'count=1:!int32 lastObservedTime=2:MicroTime',
};
