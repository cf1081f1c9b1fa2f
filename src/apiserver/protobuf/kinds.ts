/**
 * Which message decodes which apiVersion and kind. Upstream names each top-level message after
 * its kind, so a group version lists its table alias and its kinds.
 */
const GROUP_VERSIONS: Readonly<Record<string, readonly [alias: string, kinds: string]>> = {
  v1: [
    'corev1',
    'Binding ConfigMap Endpoints Event LimitRange Namespace Node PersistentVolume PersistentVolumeClaim Pod ' +
      'PodTemplate ReplicationController ResourceQuota Secret Service ServiceAccount',
  ],
  'apps/v1': ['appsv1', 'ControllerRevision DaemonSet Deployment ReplicaSet StatefulSet'],
  'batch/v1': ['batchv1', 'CronJob Job'],
  'rbac.authorization.k8s.io/v1': ['rbacv1', 'ClusterRole ClusterRoleBinding Role RoleBinding'],
  'scheduling.k8s.io/v1': ['schedulingv1', 'PriorityClass'],
  'policy/v1': ['policyv1', 'Eviction PodDisruptionBudget'],
  'coordination.k8s.io/v1': ['coordinationv1', 'Lease'],
  'discovery.k8s.io/v1': ['discoveryv1', 'EndpointSlice'],
  'networking.k8s.io/v1': ['networkingv1', 'Ingress IngressClass NetworkPolicy'],
  'autoscaling/v1': ['autoscalingv1', 'HorizontalPodAutoscaler Scale'],
  'autoscaling/v2': ['autoscalingv2', 'HorizontalPodAutoscaler'],
  'storage.k8s.io/v1': ['storagev1', 'StorageClass'],
  'node.k8s.io/v1': ['nodev1', 'RuntimeClass'],
  'events.k8s.io/v1': ['eventsv1', 'Event'],
  'authentication.k8s.io/v1': ['authenticationv1', 'SelfSubjectReview TokenRequest'],
  'authorization.k8s.io/v1': [
    'authorizationv1',
    'LocalSubjectAccessReview SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview',
  ],
};

/**
 * Upstream registers the option kinds (DeleteOptions among them) in every group version and in
 * `meta.k8s.io/v1`; clients send DeleteOptions with the apiVersion of the resource they delete
 * or with `v1`.
 */
const OPTION_KINDS: Readonly<Record<string, string>> = { DeleteOptions: 'metav1.DeleteOptions' };
const META_GROUP_VERSION = 'meta.k8s.io/v1';

const BY_KIND = new Map<string, string>();
for (const [apiVersion, [alias, kinds]] of Object.entries(GROUP_VERSIONS)) {
  for (const kind of kinds.split(' ')) BY_KIND.set(`${apiVersion} ${kind}`, `${alias}.${kind}`);
}
for (const apiVersion of [...Object.keys(GROUP_VERSIONS), META_GROUP_VERSION]) {
  for (const [kind, message] of Object.entries(OPTION_KINDS)) BY_KIND.set(`${apiVersion} ${kind}`, message);
}

/** The qualified message name for an apiVersion and kind, or undefined. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  return BY_KIND.get(`${apiVersion} ${kind}`);
}

/** Every apiVersion and kind with a message, sorted. */
export function protobufKinds(): { apiVersion: string; kind: string }[] {
  return [...BY_KIND.keys()].sort().map((key) => {
    const [apiVersion, kind] = key.split(' ') as [string, string];
    return { apiVersion, kind };
  });
}
