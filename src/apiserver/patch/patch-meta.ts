/**
 * Patch metadata for the built-in kinds: which fields strategic merge patch treats specially.
 * Upstream reads it from the `patchStrategy` / `patchMergeKey` struct tags of the Go API types;
 * Skiff writes the same facts down as a tree of reusable object shapes (a PodSpec is one shape,
 * used by Pods and by every pod template).
 */

/**
 * How strategic merge patch treats the fields of one object shape. A field not listed here
 * behaves as in a JSON merge patch: objects merge key by key, lists and scalars are replaced.
 */
export interface PatchMeta {
  readonly fields: Readonly<Record<string, FieldPatchMeta>>;
}

/** The patch behaviour of one field (upstream's struct tags on that field). */
export interface FieldPatchMeta {
  /**
   * `merge` on a list: elements merge by {@link mergeKey}, or, without a merge key, the list is
   * an ordered set of scalars. `replace` on an object: the patch value replaces it whole.
   * Absent: objects merge, lists are replaced (upstream's `+listType=atomic`).
   */
  readonly strategy?: 'merge' | 'replace';
  /** The element field that identifies a list element (`name`, `containerPort`, `uid`, …). */
  readonly mergeKey?: string;
  /**
   * Upstream's `retainKeys` strategy: clients computing a patch send `$retainKeys` for this
   * object (or for each element of this list). Applying a patch honours `$retainKeys` wherever
   * it appears, as upstream does, so this is a fact about the API, not a switch.
   */
  readonly retainKeys?: boolean;
  /** The shape of the object this field holds, or of each element of the list it holds. */
  readonly meta?: PatchMeta;
}

/** The metadata of field `name` of `meta`, if it has any; never an inherited property. */
export function fieldPatchMeta(meta: PatchMeta | undefined, name: string): FieldPatchMeta | undefined {
  return meta !== undefined && Object.hasOwn(meta.fields, name) ? meta.fields[name] : undefined;
}

// ---- Building blocks -------------------------------------------------------------------------

function shape(fields: Record<string, FieldPatchMeta>): PatchMeta {
  return Object.freeze({ fields: Object.freeze(fields) });
}

/** An object-valued field whose own fields have patch metadata. */
function nested(meta: PatchMeta): FieldPatchMeta {
  return { meta };
}

/** A list whose elements merge by `mergeKey` (`patchStrategy:"merge" patchMergeKey:…`). */
function byKey(mergeKey: string, options: { meta?: PatchMeta; retainKeys?: boolean } = {}): FieldPatchMeta {
  return { strategy: 'merge', mergeKey, ...options };
}

/** A list of scalars merged as an ordered set (`patchStrategy:"merge"` without a merge key). */
const SCALAR_SET: FieldPatchMeta = { strategy: 'merge' };

/** `status.conditions` of most kinds: merged by `type`. */
const CONDITIONS = byKey('type');

// ---- Shapes ----------------------------------------------------------------------------------

/** meta/v1 ObjectMeta: `finalizers` is a set, `ownerReferences` merge by `uid`. */
const objectMeta = shape({ finalizers: SCALAR_SET, ownerReferences: byKey('uid') });

/** Every kind's top level: `metadata` plus the kind's own fields. */
function kindShape(fields: Record<string, FieldPatchMeta> = {}): PatchMeta {
  return shape({ metadata: nested(objectMeta), ...fields });
}

/** core/v1 Container, and EphemeralContainer, whose common fields carry the same tags. */
const container = shape({
  ports: byKey('containerPort'),
  env: byKey('name'),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
});

/**
 * core/v1 PodSpec. Lists not named here are atomic upstream and so replaced by a patch:
 * `tolerations`, `readinessGates`, `dnsConfig.*`, `securityContext.*`, affinity terms.
 */
const podSpec = shape({
  volumes: byKey('name', { retainKeys: true }),
  initContainers: byKey('name', { meta: container }),
  containers: byKey('name', { meta: container }),
  ephemeralContainers: byKey('name', { meta: container }),
  imagePullSecrets: byKey('name'),
  hostAliases: byKey('ip'),
  topologySpreadConstraints: byKey('topologyKey'),
  schedulingGates: byKey('name'),
  resourceClaims: byKey('name', { retainKeys: true }),
});

const podStatus = shape({
  conditions: CONDITIONS,
  podIPs: byKey('ip'),
  hostIPs: byKey('ip'),
  resourceClaimStatuses: byKey('name', { retainKeys: true }),
});

/** core/v1 PodTemplateSpec: an ObjectMeta and a PodSpec. */
const podTemplateSpec = kindShape({ spec: nested(podSpec) });

/** A status whose only merging list is `conditions`. */
const statusWithConditions = nested(shape({ conditions: CONDITIONS }));

/** A workload spec whose pod template is `spec.template`. */
function withPodTemplate(fields: Record<string, FieldPatchMeta> = {}): FieldPatchMeta {
  return nested(shape({ template: nested(podTemplateSpec), ...fields }));
}

const jobSpec = shape({ template: nested(podTemplateSpec) });

// ---- Kinds -----------------------------------------------------------------------------------

const KINDS: [group: string, version: string, kind: string, meta: PatchMeta][] = [
  ['', 'v1', 'Pod', kindShape({ spec: nested(podSpec), status: nested(podStatus) })],
  [
    '',
    'v1',
    'Service',
    // Upstream's list-map key for ports is (port, protocol); strategic merge uses `port` alone.
    kindShape({ spec: nested(shape({ ports: byKey('port') })), status: statusWithConditions }),
  ],
  ['', 'v1', 'ConfigMap', kindShape()],
  ['', 'v1', 'Secret', kindShape()],
  ['', 'v1', 'Namespace', kindShape({ status: statusWithConditions })],
  [
    '',
    'v1',
    'Node',
    kindShape({
      spec: nested(shape({ podCIDRs: SCALAR_SET })),
      status: nested(shape({ conditions: CONDITIONS, addresses: byKey('type') })),
    }),
  ],
  ['', 'v1', 'ServiceAccount', kindShape({ secrets: byKey('name') })],
  ['', 'v1', 'Endpoints', kindShape()],
  ['', 'v1', 'Event', kindShape()],
  ['', 'v1', 'PersistentVolume', kindShape()],
  ['', 'v1', 'PersistentVolumeClaim', kindShape({ status: statusWithConditions })],
  ['', 'v1', 'LimitRange', kindShape()],
  ['', 'v1', 'ResourceQuota', kindShape()],
  ['apps', 'v1', 'Deployment', kindShape({ spec: withPodTemplate({ strategy: { retainKeys: true } }), status: statusWithConditions })],
  ['apps', 'v1', 'ReplicaSet', kindShape({ spec: withPodTemplate(), status: statusWithConditions })],
  ['apps', 'v1', 'StatefulSet', kindShape({ spec: withPodTemplate(), status: statusWithConditions })],
  ['apps', 'v1', 'DaemonSet', kindShape({ spec: withPodTemplate(), status: statusWithConditions })],
  ['batch', 'v1', 'Job', kindShape({ spec: nested(jobSpec), status: statusWithConditions })],
  ['batch', 'v1', 'CronJob', kindShape({ spec: nested(shape({ jobTemplate: nested(kindShape({ spec: nested(jobSpec) })) })) })],
  ['coordination.k8s.io', 'v1', 'Lease', kindShape()],
  ['discovery.k8s.io', 'v1', 'EndpointSlice', kindShape()],
  ['events.k8s.io', 'v1', 'Event', kindShape()],
  // The `scale` subresource's body.
  ['autoscaling', 'v1', 'Scale', kindShape()],
  ['autoscaling', 'v2', 'HorizontalPodAutoscaler', kindShape({ status: statusWithConditions })],
  // v1 keeps its conditions in an annotation.
  ['autoscaling', 'v1', 'HorizontalPodAutoscaler', kindShape()],
  ['policy', 'v1', 'PodDisruptionBudget', kindShape({ status: statusWithConditions })],
  // Kinds whose lists are all atomic: rules, subjects, ingress rules, topologies.
  ...(
    [
      ['networking.k8s.io', 'NetworkPolicy'],
      ['networking.k8s.io', 'Ingress'],
      ['networking.k8s.io', 'IngressClass'],
      ['rbac.authorization.k8s.io', 'Role'],
      ['rbac.authorization.k8s.io', 'ClusterRole'],
      ['rbac.authorization.k8s.io', 'RoleBinding'],
      ['rbac.authorization.k8s.io', 'ClusterRoleBinding'],
      ['node.k8s.io', 'RuntimeClass'],
      ['scheduling.k8s.io', 'PriorityClass'],
      ['storage.k8s.io', 'StorageClass'],
    ] as const
  ).map(([group, name]): [string, string, string, PatchMeta] => [group, 'v1', name, kindShape()]),
];

const byGroupVersionKind = new Map(KINDS.map(([group, version, name, meta]) => [`${group}/${version}/${name}`, meta]));

/**
 * The strategic-merge metadata of a built-in kind (`group` is `''` for core), or `undefined`
 * for any other kind. Upstream has none for custom resources and answers a strategic merge
 * patch to one with 415 Unsupported Media Type (kubectl then sends a merge patch).
 */
export function patchMetaFor(group: string, version: string, kind: string): PatchMeta | undefined {
  return byGroupVersionKind.get(`${group}/${version}/${kind}`);
}
