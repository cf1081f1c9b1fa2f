/**
 * A StatefulSet's pods and claims, as upstream's `stateful_set_utils.go` describes them: the pod
 * `<set>-<ordinal>` with hostname, subdomain and identity labels; its claims
 * `<template>-<set>-<ordinal>` mounted under the template's name; the revision label; and the
 * predicates the update loop asks (running and ready, available, terminating). Pure functions.
 */
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { controllerRef } from '../../client/index.ts';
import { podRevisionLabel } from '../history/index.ts';
import { isPodAvailable, isPodReady } from '../pod-util.ts';

/** Label naming the pod (a Service can select one member). */
export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
/** Label holding the pod's ordinal. */
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

const ordinalPattern = /^(.*)-([0-9]+)$/;

/** The set's name and ordinal a pod name encodes; ordinal -1 when it encodes none. */
export function parentAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const match = ordinalPattern.exec(pod.metadata?.name ?? '');
  if (!match) return { parent: '', ordinal: -1 };
  const ordinal = Number(match[2]);
  return Number.isSafeInteger(ordinal) && ordinal <= 0x7fffffff ? { parent: match[1]!, ordinal } : { parent: match[1]!, ordinal: -1 };
}

/** The pod's ordinal, or -1. */
export function ordinalOf(pod: Pod): number {
  return parentAndOrdinal(pod).ordinal;
}

/** `spec.ordinals.start`, default 0. */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

/** The highest ordinal the set wants (start + replicas − 1). */
export function endOrdinal(set: StatefulSet): number {
  return startOrdinal(set) + (set.spec?.replicas ?? 1) - 1;
}

/** Whether the pod's ordinal is one the set currently wants. */
export function inOrdinalRange(pod: Pod, set: StatefulSet): boolean {
  const ordinal = ordinalOf(pod);
  return ordinal >= startOrdinal(set) && ordinal <= endOrdinal(set);
}

/** `<set>-<ordinal>`. */
export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name ?? ''}-${ordinal}`;
}

/** Whether a pod's name says it belongs to the set. */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentAndOrdinal(pod).parent === set.metadata?.name;
}

/** The claim of `template` for the pod with `ordinal`: `<template>-<set>-<ordinal>`. */
export function claimName(set: StatefulSet, template: PersistentVolumeClaim, ordinal: number): string {
  return `${template.metadata?.name ?? ''}-${set.metadata?.name ?? ''}-${ordinal}`;
}

/**
 * The claims the pod with `ordinal` needs, keyed by template name: the template with its
 * per-pod name, the set's namespace, and the selector's labels added.
 */
export function claimsFor(set: StatefulSet, ordinal: number): Map<string, PersistentVolumeClaim> {
  const claims = new Map<string, PersistentVolumeClaim>();
  for (const template of set.spec?.volumeClaimTemplates ?? []) {
    const claim = structuredClone(template);
    const meta = claim.metadata ?? {};
    claim.metadata = {
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
      name: claimName(set, template, ordinal),
      namespace: set.metadata?.namespace ?? '',
      labels: { ...meta.labels, ...set.spec?.selector?.matchLabels },
    };
    const loose = claim as { status?: unknown; apiVersion?: unknown; kind?: unknown };
    delete loose.status;
    delete loose.apiVersion;
    delete loose.kind;
    claims.set(template.metadata?.name ?? '', claim);
  }
  return claims;
}

/** Sets the identity labels (name, index) on a pod. */
function setIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = ordinalOf(pod);
  const meta = (pod.metadata ??= {});
  meta.name = podName(set, ordinal);
  meta.namespace = set.metadata?.namespace ?? '';
  meta.labels = { ...meta.labels, [podNameLabel]: meta.name, [podIndexLabel]: String(ordinal) };
}

/** The pod's volumes with one claim volume per claim template, replacing same-named ones. */
function withClaimVolumes(set: StatefulSet, ordinal: number, volumes: readonly Volume[] | undefined): Volume[] {
  const claims = claimsFor(set, ordinal);
  const out: Volume[] = [];
  for (const [name, claim] of claims) out.push({ name, persistentVolumeClaim: { claimName: claim.metadata!.name! } });
  for (const volume of volumes ?? []) if (!claims.has(volume.name)) out.push(volume);
  return out;
}

/**
 * A new pod of the set with `ordinal`, from the set's template (which may be a revision's):
 * controller reference, identity labels, hostname and subdomain, claim volumes, and the
 * revision label `controller-revision-hash: <revision>`.
 */
export function newStatefulPod(set: StatefulSet, template: PodTemplateSpec | undefined, ordinal: number, revision: string): Pod {
  const tmeta = template?.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      namespace: set.metadata?.namespace ?? '',
      labels: { ...tmeta.labels },
      ...(tmeta.annotations ? { annotations: { ...tmeta.annotations } } : {}),
      ...(tmeta.finalizers ? { finalizers: [...tmeta.finalizers] } : {}),
      ownerReferences: [controllerRef(set, 'apps/v1', 'StatefulSet')],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  };
  setIdentity(set, pod);
  pod.spec!.hostname = pod.metadata!.name!;
  if (set.spec?.serviceName) pod.spec!.subdomain = set.spec.serviceName;
  pod.spec!.volumes = withClaimVolumes(set, ordinal, pod.spec!.volumes);
  if (pod.spec!.volumes.length === 0) delete pod.spec!.volumes;
  pod.metadata!.labels![podRevisionLabel] = revision;
  return pod;
}

/** Whether the pod's name, namespace and name label are the set's. */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  const name = pod.metadata?.name;
  return ordinal >= 0 && parent === set.metadata?.name && name === podName(set, ordinal) && pod.metadata?.namespace === set.metadata?.namespace && pod.metadata?.labels?.[podNameLabel] === name;
}

/** Whether the pod mounts every claim its templates call for. */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const template of set.spec?.volumeClaimTemplates ?? []) {
    const volume = volumes.get(template.metadata?.name ?? '');
    if (volume?.persistentVolumeClaim?.claimName !== claimName(set, template, ordinal)) return false;
  }
  return true;
}

/** A copy of the pod with its identity labels restored (the part of a pod that may change). */
export function withIdentity(set: StatefulSet, pod: Pod): Pod {
  const copy = structuredClone(pod);
  setIdentity(set, copy);
  return copy;
}

/** The revision a pod was made from. */
export function podRevision(pod: Pod): string {
  return pod.metadata?.labels?.[podRevisionLabel] ?? '';
}

/** The API has the pod (a pod we only built has no phase yet). */
export function isCreated(pod: Pod): boolean {
  return !!pod.status?.phase;
}

export function isTerminating(pod: Pod): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

export function isFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
}

export function isPending(pod: Pod): boolean {
  return pod.status?.phase === 'Pending';
}

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

export function isRunningAndAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  return isPodAvailable(pod, minReadySeconds, now);
}

/** Not available, or on its way out. */
export function isUnavailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  return !isPodAvailable(pod, minReadySeconds, now) || isTerminating(pod);
}

/**
 * The owner references a claim should carry under the set's retention policy (upstream's
 * `updateClaimOwnerRefForSetAndPod`): the set owns it when `whenDeleted: Delete` (so deleting the
 * set deletes it), the pod owns it when `whenScaled: Delete` and the pod was scaled away. Other
 * owners are kept. Returns undefined when nothing changes.
 */
export function claimOwnersFor(set: StatefulSet, pod: Pod, claim: PersistentVolumeClaim): OwnerReference[] | undefined {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy;
  const deleteWithSet = policy?.whenDeleted === 'Delete';
  const scaledAway = policy?.whenScaled === 'Delete' && !inOrdinalRange(pod, set);
  const setUid = set.metadata?.uid;
  const podUid = pod.metadata?.uid;
  const refs = claim.metadata?.ownerReferences ?? [];
  const wantSet = deleteWithSet && !scaledAway;
  const wantPod = scaledAway && !!podUid;
  const hasSet = refs.some((r) => r.uid === setUid);
  const hasPod = refs.some((r) => r.uid === podUid);
  if (wantSet === hasSet && wantPod === hasPod) return undefined;
  const out = refs.filter((r) => r.uid !== setUid && r.uid !== podUid);
  if (wantSet) out.push({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata?.name ?? '', uid: setUid ?? '' });
  if (wantPod) out.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: podUid! });
  return out;
}
