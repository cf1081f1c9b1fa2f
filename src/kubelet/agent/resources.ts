/**
 * Resource arithmetic as the kubelet does it: quantities, the pod's QoS class (upstream's
 * `GetPodQOS`), the container cgroup values (cpu shares from requests, CFS quota from limits,
 * memory limit, OOM score) and the pod-level cgroup (sums over the containers).
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerResources, PodResources } from '../runtime/container-runtime.ts';

/** A pod's QoS class. */
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** `500m` → 0.5, `1Gi` → 1073741824, `1e3` → 1000; undefined when malformed. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'number') return text;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?\d+))?([numkKMGTPE]i?|)$/.exec(text.trim());
  if (!m) return undefined;
  const factor = SUFFIX[m[3]!];
  if (factor === undefined) return undefined;
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * factor;
}

function resource(map: Record<string, string | number> | undefined, name: string): number {
  return parseQuantity(map?.[name]) ?? 0;
}

/** CPU request of a container in millicores (the API defaults requests to limits). */
function cpuRequestMilli(c: Container): number {
  const req = c.resources?.requests?.cpu ?? c.resources?.limits?.cpu;
  return Math.ceil((parseQuantity(req) ?? 0) * 1000);
}

/** The QoS class as upstream computes it (from every container, init ones too). */
export function podQosClass(pod: Pod): QosClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const name of ['cpu', 'memory']) {
      const req = resource(c.resources?.requests, name);
      if (req > 0) requests.set(name, (requests.get(name) ?? 0) + req);
      const lim = resource(c.resources?.limits, name);
      if (lim > 0) limits.set(name, (limits.get(name) ?? 0) + lim);
    }
    if (!(resource(c.resources?.limits, 'cpu') > 0 && resource(c.resources?.limits, 'memory') > 0)) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) if (limits.get(name) !== req) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** The cgroup values of one container (upstream's `generateLinuxContainerResources`). */
export function containerResources(pod: Pod, c: Container, qos: QosClass, memoryCapacity: number): ContainerResources {
  const out: ContainerResources = {};
  const milli = cpuRequestMilli(c);
  out.cpuShares = Math.max(2, Math.floor((milli * 1024) / 1000));
  const cpuLimit = parseQuantity(c.resources?.limits?.cpu);
  if (cpuLimit) {
    out.cpuPeriod = 100_000;
    out.cpuQuota = Math.max(1000, Math.floor(cpuLimit * 100_000));
  }
  const mem = parseQuantity(c.resources?.limits?.memory);
  if (mem) out.memoryLimitBytes = Math.floor(mem);
  out.oomScoreAdj = oomScoreAdj(pod, c, qos, memoryCapacity);
  return out;
}

/** Upstream's OOM score policy: -997 Guaranteed, 1000 BestEffort, in between by memory request. */
function oomScoreAdj(pod: Pod, c: Container, qos: QosClass, memoryCapacity: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical') return -997;
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const req = resource(c.resources?.requests, 'memory');
  const score = 1000 - Math.floor((1000 * req) / Math.max(memoryCapacity, 1));
  return Math.min(999, Math.max(3, score));
}

/** The pod cgroup's values: shares from summed requests; quota and memory only when every container has that limit. */
export function podResources(pod: Pod, qos: QosClass): PodResources | undefined {
  if (qos === 'BestEffort') return undefined;
  const containers = pod.spec?.containers ?? [];
  let milli = 0;
  let quota = 0;
  let memory = 0;
  let allCpu = true;
  let allMem = true;
  for (const c of containers) {
    milli += cpuRequestMilli(c);
    const cpuLimit = parseQuantity(c.resources?.limits?.cpu);
    if (cpuLimit) quota += Math.floor(cpuLimit * 100_000);
    else allCpu = false;
    const mem = parseQuantity(c.resources?.limits?.memory);
    if (mem) memory += Math.floor(mem);
    else allMem = false;
  }
  // Init containers run alone: the pod needs at least the largest of them.
  for (const c of pod.spec?.initContainers ?? []) {
    milli = Math.max(milli, cpuRequestMilli(c));
    const mem = parseQuantity(c.resources?.limits?.memory);
    if (mem && allMem) memory = Math.max(memory, Math.floor(mem));
  }
  const out: PodResources = { cpuShares: Math.max(2, Math.floor((milli * 1024) / 1000)) };
  if (allCpu && quota > 0) {
    out.cpuQuota = Math.max(1000, quota);
    out.cpuPeriod = 100_000;
  }
  if (allMem && memory > 0) out.memoryLimitBytes = memory;
  return out;
}

/** A container's resource as `resourceFieldRef` reads it (limits default to the node's allocatable). */
export function resourceFieldValue(c: Container | undefined, name: string, divisor: string | number | undefined, allocatable: { cpu: number; memory: number; ephemeralStorage: number }): string {
  const div = parseQuantity(divisor) || 1;
  const [kind, res] = name.split('.') as ['limits' | 'requests', string];
  let value = parseQuantity(c?.resources?.[kind]?.[res]);
  if (value === undefined) {
    if (kind === 'limits') value = res === 'cpu' ? allocatable.cpu : res === 'memory' ? allocatable.memory : allocatable.ephemeralStorage;
    else value = 0;
  }
  // Upstream rounds up: cpu to whole divisors (at least 1), the others likewise.
  const out = Math.ceil(value / div);
  return String(res === 'cpu' && kind === 'limits' ? Math.max(out, 1) : out);
}
