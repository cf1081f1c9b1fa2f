/**
 * The messages of `k8s.io/api/autoscaling/v1` (protobuf package `k8s.io.api.autoscaling.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/autoscaling/v1`, referenced from other tables as `autoscalingv1.Name`. */
export const autoscalingV1: MessageTable = {
  CrossVersionObjectReference: 'kind=1:!string name=2:!string apiVersion=3:string',
  HorizontalPodAutoscaler: `
    metadata=1:metav1.ObjectMeta spec=2:HorizontalPodAutoscalerSpec status=3:HorizontalPodAutoscalerStatus
  `,
  HorizontalPodAutoscalerSpec: `
    scaleTargetRef=1:!CrossVersionObjectReference minReplicas=2:*int32 maxReplicas=3:!int32
    targetCPUUtilizationPercentage=4:*int32
  `,
  HorizontalPodAutoscalerStatus: `
    observedGeneration=1:*int64 lastScaleTime=2:*Time currentReplicas=3:!int32 desiredReplicas=4:!int32
    currentCPUUtilizationPercentage=5:*int32
  `,
  Scale: 'metadata=1:metav1.ObjectMeta spec=2:ScaleSpec status=3:ScaleStatus',
  ScaleSpec: 'replicas=1:int32',
  ScaleStatus: 'replicas=1:!int32 selector=2:string',
};
