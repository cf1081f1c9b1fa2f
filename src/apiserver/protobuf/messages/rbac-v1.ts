/**
 * The messages of `k8s.io/api/rbac/v1` (protobuf package `k8s.io.api.rbac.v1`) that
 * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of
 * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.
 */
import type { MessageTable } from '../schema.ts';

/** `k8s.io/api/rbac/v1`, referenced from other tables as `rbacv1.Name`. */
export const rbacV1: MessageTable = {
  AggregationRule: 'clusterRoleSelectors=1:[]metav1.LabelSelector',
  ClusterRole: 'metadata=1:metav1.ObjectMeta rules=2:[]PolicyRule aggregationRule=3:*AggregationRule',
  ClusterRoleBinding: 'metadata=1:metav1.ObjectMeta subjects=2:[]Subject roleRef=3:!RoleRef',
  PolicyRule: `
    verbs=1:[]string apiGroups=2:[]string resources=3:[]string resourceNames=4:[]string
    nonResourceURLs=5:[]string
  `,
  Role: 'metadata=1:metav1.ObjectMeta rules=2:[]PolicyRule',
  RoleBinding: 'metadata=1:metav1.ObjectMeta subjects=2:[]Subject roleRef=3:!RoleRef',
  RoleRef: 'apiGroup=1:!string kind=2:!string name=3:!string',
  Subject: 'kind=1:!string apiGroup=2:string name=3:!string namespace=4:string',
};
