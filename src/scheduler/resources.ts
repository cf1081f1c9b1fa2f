/**
 * Resource arithmetic as the scheduler does it: quantities read into integers (CPU in
 * millicores, everything else in whole units, both rounded up as upstream's `MilliValue()` and
 * `Value()`), a pod's effective requests (containers summed, init containers' maximum, sidecars
 * counted for the pod's whole life, overhead added), and the non-zero requests used for scoring
 * (100m CPU and 200 MiB memory for a container that asks for nothing).
 */
import type { Container, Pod, ResourceRequirements } from 'kubernetes-types/core/v1.js';

/** Amounts of every resource the scheduler tracks. */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Only meaningful on a node's allocatable: how many pods fit. */
  pods: number;
  /** Extended resources (`example.com/gpu`, `hugepages-2Mi`), when any. */
  scalar: Map<string, number> | undefined;
}

/** upstream's `DefaultMilliCPURequest`. */
export const defaultMilliCPURequest = 100;
/** upstream's `DefaultMemoryRequest`: 200 MiB. */
export const defaultMemoryRequest = 200 * 1024 * 1024;

/** An empty {@link Resource}. */
export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: undefined };
}

const SHAPE = /^([+-]?)([0-9]*(?:\.[0-9]*)?)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const parsed = new Map<string, number>();

/** A quantity's numeric value (`"100m"` → 0.1, `"1Gi"` → 1073741824); 0 when malformed. */
export function quantityValue(text: string | number | undefined): number {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return 0;
  const cached = parsed.get(text);
  if (cached !== undefined) return cached;
  let value = 0;
  const match = SHAPE.exec(text);
  if (match && /[0-9]/.test(match[2]!)) {
    const mantissa = `${match[1]}${match[2]!.startsWith('.') ? `0${match[2]}` : match[2]}`.replace(/\.$/, '');
    const suffix = match[3]!;
    if (Object.hasOwn(DECIMAL, suffix)) value = Number(`${mantissa}e${DECIMAL[suffix]}`);
    else if (Object.hasOwn(BINARY, suffix)) value = Number(mantissa) * 2 ** BINARY[suffix]!;
    else if (/^[eE][+-]?[0-9]+$/.test(suffix)) value = Number(`${mantissa}e${suffix.slice(1)}`);
  }
  if (!Number.isFinite(value)) value = 0;
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(text, value);
  return value;
}

/** `MilliValue()`: rounded up to a whole millicore. */
export function milliValue(text: string | number | undefined): number {
  return Math.ceil(quantityValue(text) * 1000 - 1e-9);
}

/** `Value()`: rounded up to a whole unit. */
export function wholeValue(text: string | number | undefined): number {
  return Math.ceil(quantityValue(text) - 1e-9);
}

/** Whether a resource name is an extended (scalar) resource the scheduler accounts. */
export function isScalarResource(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('attachable-volumes-') || (name.includes('/') && !name.startsWith('requests.'));
}

/** Adds a ResourceList (`{cpu: "1", memory: "1Gi"}`) into `into`. */
export function addList(into: Resource, list: Record<string, string | number> | undefined): void {
  if (!list) return;
  for (const name in list) {
    const q = list[name];
    switch (name) {
      case 'cpu':
        into.milliCPU += milliValue(q);
        break;
      case 'memory':
        into.memory += wholeValue(q);
        break;
      case 'ephemeral-storage':
        into.ephemeralStorage += wholeValue(q);
        break;
      case 'pods':
        into.pods += wholeValue(q);
        break;
      default:
        if (isScalarResource(name)) {
          into.scalar ??= new Map();
          into.scalar.set(name, (into.scalar.get(name) ?? 0) + wholeValue(q));
        }
    }
  }
}

function add(into: Resource, r: Resource): void {
  into.milliCPU += r.milliCPU;
  into.memory += r.memory;
  into.ephemeralStorage += r.ephemeralStorage;
  if (r.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of r.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
  }
}

function max(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  if (r.scalar) {
    into.scalar ??= new Map();
    for (const [k, v] of r.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
  }
}

function copy(r: Resource): Resource {
  return { ...r, scalar: r.scalar ? new Map(r.scalar) : undefined };
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const r = emptyResource();
  const requests = (c.resources as ResourceRequirements | undefined)?.requests as Record<string, string> | undefined;
  addList(r, requests);
  if (nonZero) {
    if (!requests || requests.cpu === undefined) r.milliCPU = defaultMilliCPURequest;
    if (!requests || requests.memory === undefined) r.memory = defaultMemoryRequest;
  }
  return r;
}

/**
 * A pod's effective requests, as upstream's `resourcehelper.PodRequests`: regular containers
 * and sidecars (init containers with `restartPolicy: Always`) summed; each ordinary init
 * container, with the sidecars started before it, taken as a peak; the larger of the two; then
 * `spec.overhead`. With `nonZero`, a container without a CPU or memory request counts as the
 * scheduler's defaults (used by scoring only).
 */
export function podRequests(pod: Pod, nonZero = false): Resource {
  const spec = pod.spec;
  const reqs = emptyResource();
  if (!spec) return reqs;
  for (const c of spec.containers ?? []) add(reqs, containerRequests(c, nonZero));
  const sidecars = emptyResource();
  const initPeak = emptyResource();
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if ((c as { restartPolicy?: string }).restartPolicy === 'Always') {
      add(reqs, r);
      add(sidecars, r);
      max(initPeak, copy(sidecars));
    } else {
      add(r, sidecars);
      max(initPeak, r);
    }
  }
  max(reqs, initPeak);
  addList(reqs, spec.overhead as Record<string, string> | undefined);
  return reqs;
}
