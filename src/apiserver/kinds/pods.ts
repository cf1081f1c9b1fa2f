/** The core/v1 Pod kind. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject, ResourceDef } from '../resource.ts';
import { ageColumn, column, wideColumn } from './columns.ts';
import { str } from './checks.ts';
import { defaultPod, podQOSClass, validatePodSpec, validatePodSpecUpdate } from './pod-spec.ts';
import { podStatusCells, readinessGatesCell } from './pod-status.ts';

function pod(o: KubeObject): Pod {
  return o as Pod;
}

/** The first pod IP (`status.podIPs[0]`, falling back to `status.podIP`). */
function podIP(o: KubeObject): string {
  const status = pod(o).status;
  return status?.podIPs?.[0]?.ip || status?.podIP || '';
}

/**
 * Upstream's DefaultTolerationSeconds admission: a new pod tolerates `not-ready` and
 * `unreachable` NoExecute taints for 300 s unless it already tolerates them, so pods leave a
 * failed node after five minutes.
 */
function defaultTolerationSeconds(p: Pod): void {
  if (!p.spec) return;
  const tolerations = [...(p.spec.tolerations ?? [])];
  const covers = (key: string) => tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const added = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
    .filter((key) => !covers(key))
    .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }));
  if (added.length > 0) (p.spec as { tolerations?: unknown[] }).tolerations = [...tolerations, ...added];
}

/**
 * Pods: `po`, in `kubectl get all`. On create the status is reset to `phase: Pending` with the
 * computed QoS class (and a `SchedulingGated` PodScheduled condition while scheduling gates
 * remain), as upstream's pod strategy does.
 */
export const podsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: false,
  printerColumns: [
    column('Ready', 'string', 'How many of the pod\'s containers are ready.', (o, now) => podStatusCells(o, now).ready),
    column('Status', 'string', 'Summary of the pod\'s phase and container states.', (o, now) => podStatusCells(o, now).status),
    column('Restarts', 'string', 'Container restarts, and how long ago the last one was.', (o, now) => podStatusCells(o, now).restarts),
    ageColumn,
    wideColumn('IP', 'string', 'The pod\'s IP address.', (o) => podIP(o) || '<none>'),
    wideColumn('Node', 'string', 'The node the pod is bound to.', (o) => pod(o).spec?.nodeName || '<none>'),
    wideColumn('Nominated Node', 'string', 'The node preemption nominated for the pod.', (o) => pod(o).status?.nominatedNodeName || '<none>'),
    wideColumn('Readiness Gates', 'string', 'How many readiness gates are satisfied.', readinessGatesCell),
  ],
  defaults: defaultPod,
  prepareForCreate(object) {
    const p = pod(object);
    defaultTolerationSeconds(p);
    const conditions = (p.spec?.schedulingGates?.length ?? 0) > 0
      ? [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' }]
      : undefined;
    object.status = { phase: 'Pending', qosClass: podQOSClass(object), ...(conditions ? { conditions } : {}) };
  },
  validate(object, old) {
    const errors = validatePodSpec(object.spec, 'spec', { isPod: true });
    if (old) errors.push(...validatePodSpecUpdate(object, old));
    return errors;
  },
  fieldSelectors: {
    'spec.nodeName': (o) => pod(o).spec?.nodeName ?? '',
    'spec.restartPolicy': (o) => pod(o).spec?.restartPolicy ?? '',
    'spec.schedulerName': (o) => pod(o).spec?.schedulerName ?? '',
    'spec.serviceAccountName': (o) => pod(o).spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (o) => String(pod(o).spec?.hostNetwork === true),
    'status.phase': (o) => str(pod(o).status?.phase),
    'status.podIP': podIP,
    'status.nominatedNodeName': (o) => pod(o).status?.nominatedNodeName ?? '',
  },
};
