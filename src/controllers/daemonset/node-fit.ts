/**
 * Which nodes a DaemonSet's pod belongs on, as upstream's `NodeShouldRunDaemonPod`: the node
 * must match the template's `nodeName` (when set), its nodeSelector and required node affinity,
 * and every NoSchedule/NoExecute taint must be tolerated — counting the tolerations the
 * controller adds to every daemon pod. A pod already on a node may stay while only NoSchedule
 * taints are untolerated. Also: those default tolerations, and the node-name affinity that pins
 * each daemon pod to its node for the scheduler. Pure functions.
 */
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Affinity, Node, Pod, PodSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { nodeSelectorTermsMatch, untoleratedTaint } from '../../client/index.ts';

/** The tolerations every daemon pod gets (upstream's `AddOrUpdateDaemonPodTolerations`), in upstream's order. */
export function daemonTolerations(spec: PodSpec): Toleration[] {
  const out: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) out.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return out;
}

/**
 * `spec` with the daemon tolerations added: one the pod already has with the same key,
 * operator, value and effect is replaced in place (its tolerationSeconds dropped), others are
 * appended — as upstream's `AddOrUpdateTolerationInPodSpec`.
 */
export function withDaemonTolerations(spec: PodSpec): PodSpec {
  const tolerations = [...(spec.tolerations ?? [])];
  for (const add of daemonTolerations(spec)) {
    const at = tolerations.findIndex((t) => t.key === add.key && (t.operator || 'Equal') === add.operator && (t.value ?? '') === '' && t.effect === add.effect);
    if (at >= 0) tolerations[at] = add;
    else tolerations.push(add);
  }
  return { ...spec, tolerations };
}

/** Whether some taint of `effects` is tolerated by none of `tolerations`. */
function hasUntolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): boolean {
  return untoleratedTaint(taints, tolerations, (taint) => effects.includes(taint.effect)) !== undefined;
}

/** The pod's nodeSelector and required node affinity both match the node. */
export function nodeMatchesPod(spec: PodSpec, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !nodeSelectorTermsMatch(required.nodeSelectorTerms, labels, node.metadata?.name ?? '')) return false;
  return true;
}

/** Whether a node should run the set's pod, and whether a pod already there may keep running. */
export interface NodeFit {
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

/** See the file header. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeFit {
  const spec = withDaemonTolerations(ds.spec?.template?.spec ?? { containers: [] });
  const name = node.metadata?.name ?? '';
  if (spec.nodeName && spec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false };
  if (!nodeMatchesPod(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = spec.tolerations ?? [];
  if (hasUntolerated(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    // Already-running pods leave only for an untolerated NoExecute taint.
    return { shouldRun: false, shouldContinueRunning: !hasUntolerated(taints, tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * The affinity that pins a daemon pod to `nodeName` (upstream's
 * `ReplaceDaemonSetPodNodeNameNodeAffinity`): the required node-selector terms become one term
 * matching `metadata.name`; preferred terms and pod (anti-)affinity are kept.
 */
export function pinnedAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  const copy = structuredClone(affinity ?? {});
  copy.nodeAffinity = { ...copy.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required };
  return copy;
}

/** The node a daemon pod is on, or is pinned to (upstream's `GetTargetNodeName`); undefined if neither. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  const fields = terms[0]!.matchFields ?? [];
  const pin = fields.find((f) => f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1);
  return pin?.values?.[0];
}
