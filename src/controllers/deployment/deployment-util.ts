/**
 * The arithmetic of Deployments, as upstream's `deployment/util`: pure functions over the API
 * objects, so the controller's decisions can be tested without a cluster.
 *
 * - The pod-template hash that names a Deployment's ReplicaSets (FNV-32a, encoded with
 *   upstream's `SafeEncodeString` alphabet). Skiff hashes the template's canonical JSON rather
 *   than Go's in-memory dump, so the values differ from upstream's but are just as stable: the
 *   same template gives the same name on every server and after every restart.
 * - maxSurge/maxUnavailable resolution (surge rounds up, unavailable rounds down; both zero
 *   means one unavailable), how far a rolling update may grow the new ReplicaSet, proportional
 *   scaling (`getProportion`), revisions and the annotations copied to ReplicaSets, and the
 *   status and conditions a Deployment reports.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { timestamp } from '../pod-util.ts';

export const podTemplateHashLabel = 'pod-template-hash';
export const revisionAnnotation = 'deployment.kubernetes.io/revision';
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
export const changeCauseAnnotation = 'kubernetes.io/change-cause';

/** Deployment annotations never copied to its ReplicaSets (upstream's `annotationsToSkip`). */
export const annotationsToSkip: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  revisionAnnotation,
  revisionHistoryAnnotation,
  desiredReplicasAnnotation,
  maxReplicasAnnotation,
  'deprecated.deployment.rollback.to',
]);

// Condition reasons and messages, worded as upstream's.
export const reasons = {
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
  available: 'MinimumReplicasAvailable',
  unavailable: 'MinimumReplicasUnavailable',
} as const;

// --- the pod-template hash ------------------------------------------------------------------

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-32a of some bytes. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Upstream's `rand.SafeEncodeString`: each byte mapped into an alphabet without vowels. */
export function safeEncodeString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += safeAlphabet[text.charCodeAt(i) % safeAlphabet.length];
  return out;
}

/** JSON with object keys sorted, so equal templates give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The pod-template hash of a template (upstream's `controller.ComputeHash`): a collision count
 * is mixed in after the template, so bumping it gives a new name.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const bytes = new TextEncoder().encode(canonicalJson(template ?? {}));
  let hash = fnv32a(bytes);
  if (collisionCount !== undefined) {
    const extra = new Uint8Array(4);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(extra, hash);
  }
  return safeEncodeString(String(hash));
}

// --- semantic equality ------------------------------------------------------------------------

/** Drops empty maps and lists, as Go's semantic equality treats them like absent ones. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? value.map(normalize) : undefined;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const n = normalize(v);
      if (n !== undefined && n !== null) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value;
}

/** Deep equality ignoring key order and empty maps/lists. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(normalize(a)) === canonicalJson(normalize(b));
}

/** Whether two templates are the same once the pod-template-hash label is set aside. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined): PodTemplateSpec => {
    const copy = structuredClone(t ?? {});
    if (copy.metadata?.labels) delete copy.metadata.labels[podTemplateHashLabel];
    return copy;
  };
  return semanticEqual(strip(a), strip(b));
}

// --- strategy arithmetic ------------------------------------------------------------------------

/** An int-or-percent of `total`: percentages round up or down as asked. */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) {
    const plain = Number(value);
    if (Number.isInteger(plain)) return plain;
    throw new RangeError(`invalid value for IntOrString: invalid value "${value}"`);
  }
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

function replicasOf(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

/** maxSurge and maxUnavailable as pod counts (upstream's `ResolveFenceposts`). */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const rolling = d.spec?.strategy?.rollingUpdate;
  const desired = replicasOf(d);
  const surge = scaledValue(rolling?.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(rolling?.maxUnavailable ?? '25%', desired, false);
  // Validation forbids both zero, but rounding down can make maxUnavailable zero: then one pod
  // may be unavailable, or no rollout could ever start.
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** Pods a rolling update may run above the desired count. 0 for Recreate. */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

/** Pods a rolling update may have unavailable, at most the desired count. 0 for Recreate. */
export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas);
}

/** Sum of `spec.replicas` over ReplicaSets. */
export function specReplicas(sets: readonly (ReplicaSet | undefined)[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.spec?.replicas ?? 0), 0);
}

/** Sum of `status.replicas`. */
export function actualReplicas(sets: readonly (ReplicaSet | undefined)[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.status?.replicas ?? 0), 0);
}

/** Sum of `status.readyReplicas`. */
export function readyReplicas(sets: readonly (ReplicaSet | undefined)[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.status?.readyReplicas ?? 0), 0);
}

/** Sum of `status.availableReplicas`. */
export function availableReplicas(sets: readonly (ReplicaSet | undefined)[]): number {
  return sets.reduce((sum, rs) => sum + (rs?.status?.availableReplicas ?? 0), 0);
}

/**
 * The size the new ReplicaSet may grow to now (upstream's `NewRSNewReplicas`): for a rolling
 * update, as far as maxSurge allows above the desired count; for Recreate, all at once.
 */
export function newRSNewReplicas(d: Deployment, all: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const current = newRS.spec?.replicas ?? 0;
  if (!isRollingUpdate(d)) return replicasOf(d);
  const total = specReplicas(all);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (total >= maxTotal) return current;
  const room = Math.min(maxTotal - total, replicasOf(d) - current);
  return current + room;
}

// --- ReplicaSet sets ------------------------------------------------------------------------------

function created(rs: ReplicaSet): number {
  const t = rs.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** Oldest first; equal times by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** Largest first; equal sizes newest first (scaling up gives the newest the leftovers). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0) || byCreation(b, a);
}

/** Largest first; equal sizes oldest first (scaling down takes from the oldest). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0) || byCreation(a, b);
}

/** Lowest revision first; equal revisions oldest first. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** ReplicaSets that should have pods. */
export function filterActive(sets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return sets.filter((rs): rs is ReplicaSet => !!rs && (rs.spec?.replicas ?? 0) > 0);
}

/**
 * The one ReplicaSet to scale when the Deployment is not mid-rollout (upstream's
 * `FindActiveOrLatest`): the only active one, or the newest when none is; undefined while
 * several are active.
 */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** The new ReplicaSet runs every desired pod, all available (upstream's `IsSaturated`). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = Number(rs.metadata?.annotations?.[desiredReplicasAnnotation]);
  const replicas = replicasOf(d);
  return (rs.spec?.replicas ?? 0) === replicas && desired === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

/**
 * How many replicas `rs` gains (or loses, negative) when the Deployment changes size by
 * `toAdd` mid-rollout (upstream's `GetProportion`): its share by the size the Deployment had
 * when `rs` last scaled (the max-replicas annotation), capped by what is left to hand out.
 */
export function getProportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if ((rs.spec?.replicas ?? 0) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const size = rs.spec?.replicas ?? 0;
  if (replicasOf(d) === 0) return -size;
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = Number.parseInt(rs.metadata?.annotations?.[maxReplicasAnnotation] ?? '', 10);
  const base = Number.isNaN(annotated) ? (d.status?.replicas ?? 0) : annotated;
  // Go's math.Round: halves away from zero (sizes are non-negative here).
  return Math.round((size * deploymentReplicas) / base) - size;
}

// --- revisions and annotations ---------------------------------------------------------------------

/** The ReplicaSet's revision number (0 when it has none). */
export function revisionOf(rs: ReplicaSet | Deployment | undefined): number {
  const value = Number.parseInt(rs?.metadata?.annotations?.[revisionAnnotation] ?? '', 10);
  return Number.isNaN(value) ? 0 : value;
}

/** The highest revision among ReplicaSets. */
export function maxRevision(sets: readonly ReplicaSet[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** Whether the desired/max-replicas annotations differ from these values. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = rs.metadata?.annotations ?? {};
  return annotations[desiredReplicasAnnotation] !== String(desired) || annotations[maxReplicasAnnotation] !== String(max);
}

/** Sets the desired/max-replicas annotations; whether anything changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  if (!replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  rs.metadata ??= {};
  rs.metadata.annotations = { ...rs.metadata.annotations, [desiredReplicasAnnotation]: String(desired), [maxReplicasAnnotation]: String(max) };
  return true;
}

/**
 * Copies the Deployment's annotations to its new ReplicaSet (change-cause included), raises the
 * ReplicaSet's revision to `newRevision` if it is lower (remembering the old one in
 * revision-history), and for a ReplicaSet being created sets the replicas annotations.
 * Upstream's `SetNewReplicaSetAnnotations`; returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean): boolean {
  rs.metadata ??= {};
  const annotations = { ...rs.metadata.annotations };
  let changed = false;
  for (const [key, value] of Object.entries(d.metadata?.annotations ?? {})) {
    if (annotationsToSkip.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldRevision = annotations[revisionAnnotation];
  const oldNumber = oldRevision === undefined ? 0 : Number.parseInt(oldRevision, 10);
  if (!Number.isNaN(oldNumber) && oldNumber < Number(newRevision)) {
    annotations[revisionAnnotation] = newRevision;
    changed = true;
    if (oldRevision) {
      const history = annotations[revisionHistoryAnnotation];
      annotations[revisionHistoryAnnotation] = history ? `${history},${oldRevision}` : oldRevision;
    }
  }
  rs.metadata.annotations = annotations;
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

// --- progress and status --------------------------------------------------------------------------

/** Whether a progress deadline applies (unset or MaxInt32 means none). */
export function hasProgressDeadline(d: Deployment): boolean {
  const deadline = d.spec?.progressDeadlineSeconds;
  return deadline !== undefined && deadline !== 2147483647;
}

/** The condition of `type`, if any. */
export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** A condition stamped `now`. */
export function newCondition(type: string, status: string, reason: string, message: string, now: Date): DeploymentCondition {
  const at = timestamp(now);
  return { type, status, lastUpdateTime: at, lastTransitionTime: at, reason, message };
}

/**
 * Sets a condition (upstream's `SetDeploymentCondition`): no change when status and reason are
 * the same; the transition time is kept when only the reason changes.
 */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = current && current.status === condition.status ? { ...condition, lastTransitionTime: current.lastTransitionTime } : condition;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

/** Removes the condition of `type`. */
export function removeCondition(status: DeploymentStatus, type: string): void {
  const left = (status.conditions ?? []).filter((c) => c.type !== type);
  if (left.length) status.conditions = left;
  else delete status.conditions;
}

/** Every desired pod updated and available, and the latest spec observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** Whether `status` shows progress since the Deployment's recorded status. */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** Whether the Progressing condition has gone un-updated past the deadline. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(status, 'Progressing');
  if (!condition) return false;
  if (condition.reason === reasons.newRSAvailable) return false;
  if (condition.reason === reasons.timedOut) return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now.getTime();
}

/**
 * The Deployment's status from its ReplicaSets (upstream's `calculateStatus`), with the
 * Available condition; other conditions are carried over. Zero counts are left out, as
 * upstream's JSON does.
 */
export function calculateStatus(all: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment, now: Date): DeploymentStatus {
  const available = availableReplicas(all);
  const unavailable = Math.max(0, specReplicas(all) - available);
  const counts: Record<string, number> = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicas(all),
    updatedReplicas: actualReplicas([newRS]),
    readyReplicas: readyReplicas(all),
    availableReplicas: available,
    unavailableReplicas: unavailable,
  };
  const status: DeploymentStatus = {};
  for (const [key, value] of Object.entries(counts)) if (value) (status as Record<string, number>)[key] = value;
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', reasons.available, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', reasons.unavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}
