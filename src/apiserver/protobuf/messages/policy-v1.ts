/**
 * The messages of `k8s.io/api/policy/v1` (protobuf package `k8s.io.api.policy.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/policy/v1`, referenced from other tables as `policyv1.Name`. */
export const policyV1: MessageTable = {
  Eviction: 'metadata=1:metav1.ObjectMeta deleteOptions=2:*metav1.DeleteOptions',
  PodDisruptionBudget: `
    metadata=1:metav1.ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:PodDisruptionBudgetStatus
  `,
  PodDisruptionBudgetSpec: `
    minAvailable=1:*IntOrString selector=2:*metav1.LabelSelector maxUnavailable=3:*IntOrString
    unhealthyPodEvictionPolicy=4:*string
  `,
  PodDisruptionBudgetStatus: `
    observedGeneration=1:int64 disruptedPods=2:{Time} disruptionsAllowed=3:!int32 currentHealthy=4:!int32
    desiredHealthy=5:!int32 expectedPods=6:!int32 conditions=7:[]metav1.Condition
  `,
};
