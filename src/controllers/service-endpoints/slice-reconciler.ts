/**
 * Plans the EndpointSlice writes that bring a Service's slices to the desired endpoints, as
 * upstream's reconciler does, with as little churn as it can: an endpoint that did not change
 * stays in its slice; changed and removed endpoints update their slices in place; new
 * endpoints fill slices that are being written anyway, then the fullest untouched slice that
 * can take them all, and only then go into new slices of at most `maxEndpointsPerSlice`. A
 * slice about to be deleted is reused for one that would be created. A Service with nothing
 * to publish keeps one empty placeholder slice. Pure: the controller performs the plan.
 */
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** What to create, update and delete. */
export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** Desired endpoints of one address type, grouped by the ports they have. */
export interface DesiredGroup {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** Options of {@link planSlices}. */
export interface PlanOptions {
  addressType: string;
  maxEndpointsPerSlice: number;
  /** A fresh slice (metadata, labels, owner) with these ports and no endpoints. */
  newSlice(ports: EndpointPort[]): EndpointSlice;
  /** The labels every slice of the Service should carry. */
  labels: Record<string, string>;
}

/** The identity of an endpoint across syncs: its addresses, hostname, and pod. */
export function endpointKey(endpoint: Endpoint): string {
  return JSON.stringify([[...endpoint.addresses].sort(), endpoint.hostname ?? '', endpoint.targetRef?.namespace ?? '', endpoint.targetRef?.name ?? '']);
}

/** The identity of a set of ports, in any order. */
export function portsKey(ports: readonly EndpointPort[] | undefined): string {
  return JSON.stringify((ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']).sort());
}

function endpointEqual(a: Endpoint, b: Endpoint): boolean {
  const norm = (e: Endpoint) =>
    JSON.stringify([
      [...e.addresses].sort(),
      e.conditions?.ready ?? null,
      e.conditions?.serving ?? null,
      e.conditions?.terminating ?? null,
      e.hostname ?? '',
      e.nodeName ?? '',
      e.zone ?? '',
      e.targetRef ? [e.targetRef.kind, e.targetRef.namespace, e.targetRef.name, e.targetRef.uid] : null,
    ]);
  return norm(a) === norm(b);
}

function labelsEqual(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const have = a ?? {};
  return Object.keys(have).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => have[k] === v);
}

/**
 * Plans one address type's slices. `existing` are the Service's own slices of that type;
 * `desired` its endpoints by port set.
 */
export function planSlices(existing: readonly EndpointSlice[], desired: readonly DesiredGroup[], options: PlanOptions): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const slice of existing) {
    const key = portsKey(slice.ports);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }
  const desiredByPorts = new Map<string, DesiredGroup>();
  for (const group of desired) desiredByPorts.set(portsKey(group.ports), group);

  for (const [key, group] of desiredByPorts) {
    const part = planPortGroup(existingByPorts.get(key) ?? [], group, options);
    plan.create.push(...part.create);
    plan.update.push(...part.update);
    plan.delete.push(...part.delete);
  }
  for (const [key, slices] of existingByPorts) if (!desiredByPorts.has(key)) plan.delete.push(...slices);

  // Nothing to publish: keep (or make) one empty placeholder so consumers see the Service was seen.
  if (existing.length === plan.delete.length && plan.create.length === 0) {
    const placeholder = options.newSlice([]);
    const only = plan.delete[0];
    if (plan.delete.length === 1 && only && (only.endpoints ?? []).length === 0 && (only.ports ?? []).length === 0 && labelsEqual(only.metadata?.labels, options.labels)) {
      plan.delete = [];
    } else {
      plan.create.push(placeholder);
    }
  }

  // Reuse slices about to be deleted for those about to be created: an update, not two writes.
  while (plan.create.length > 0 && plan.delete.length > 0) {
    const reused = plan.delete.shift()!;
    const created = plan.create.pop()!;
    plan.update.push({ ...created, metadata: { ...reused.metadata, labels: created.metadata?.labels ?? {}, ownerReferences: created.metadata?.ownerReferences ?? [] } });
  }
  return plan;
}

function planPortGroup(existing: readonly EndpointSlice[], group: DesiredGroup, options: PlanOptions): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const wanted = new Map<string, Endpoint>();
  for (const endpoint of group.endpoints) wanted.set(endpointKey(endpoint), endpoint);
  const unchanged: EndpointSlice[] = [];

  // 1. Existing slices keep what is still wanted (refreshed), and lose what is not.
  for (const slice of existing) {
    let changed = !labelsEqual(slice.metadata?.labels, options.labels);
    const kept: Endpoint[] = [];
    for (const endpoint of slice.endpoints ?? []) {
      const key = endpointKey(endpoint);
      const want = wanted.get(key);
      if (!want) {
        changed = true;
        continue;
      }
      if (!endpointEqual(want, endpoint)) changed = true;
      kept.push(want);
      wanted.delete(key);
    }
    if (!changed) unchanged.push(slice);
    else if (kept.length === 0) plan.delete.push(slice);
    else plan.update.push({ ...slice, metadata: { ...slice.metadata, labels: options.labels }, endpoints: kept });
  }

  const remaining = [...wanted.values()];
  // 2. New endpoints go first into slices being written anyway, fullest first.
  plan.update.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
  for (const slice of plan.update) {
    while (remaining.length > 0 && slice.endpoints!.length < options.maxEndpointsPerSlice) slice.endpoints!.push(remaining.shift()!);
  }

  // 3. Then into the fullest untouched slice that takes them all, else into new slices.
  while (remaining.length > 0) {
    let target: EndpointSlice | undefined;
    if (remaining.length < options.maxEndpointsPerSlice) {
      let best = -1;
      for (const slice of unchanged) {
        const size = slice.endpoints?.length ?? 0;
        if (size + remaining.length <= options.maxEndpointsPerSlice && size > best) {
          best = size;
          target = slice;
        }
      }
    }
    if (target) {
      unchanged.splice(unchanged.indexOf(target), 1);
      const filled: EndpointSlice = { ...target, endpoints: [...(target.endpoints ?? [])] };
      filled.endpoints!.push(...remaining.splice(0));
      plan.update.push(filled);
      continue;
    }
    const slice = options.newSlice(group.ports);
    slice.endpoints = remaining.splice(0, options.maxEndpointsPerSlice);
    plan.create.push(slice);
  }
  return plan;
}
