/**
 * The messages of `k8s.io/api/discovery/v1` (protobuf package `k8s.io.api.discovery.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/discovery/v1`, referenced from other tables as `discoveryv1.Name`. */
export const discoveryV1: MessageTable = {
  Endpoint: `
    addresses=1:[]string conditions=2:EndpointConditions hostname=3:*string
    targetRef=4:*corev1.ObjectReference deprecatedTopology=5:{string} nodeName=6:*string zone=7:*string
    hints=8:*EndpointHints
  `,
  EndpointConditions: 'ready=1:*bool serving=2:*bool terminating=3:*bool',
  EndpointHints: 'forZones=1:[]ForZone forNodes=2:[]ForNode',
  EndpointPort: 'name=1:*string protocol=2:*string port=3:*int32 appProtocol=4:*string',
  EndpointSlice: `
    metadata=1:metav1.ObjectMeta addressType=4:!string endpoints=2:[]Endpoint ports=3:[]EndpointPort
  `,
  ForNode: 'name=1:!string',
  ForZone: 'name=1:!string',
};
