/**
 * The Endpoints controller: for every Service with a selector, an Endpoints object of the same
 * name listing the selected pods' addresses — ready ones under `addresses`, the others under
 * `notReadyAddresses` (all under `addresses` with `publishNotReadyAddresses`) — with each
 * Service port resolved to the pod's port. Services without a selector are left alone: their
 * Endpoints belong to the user. As upstream, at most 1,000 addresses are kept (ready ones
 * first) and the object is then annotated `endpoints.kubernetes.io/over-capacity: truncated`.
 */
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, objectKey, processQueue, splitKey, WorkQueue, type EventRecorder, type Informer, type ResourceClient } from '../../client/index.ts';
import type { Controller, ControllerContext, ControllerDescriptor } from '../manager.ts';
import { isPodReady } from '../pod-util.ts';
import {
  findPort,
  headlessLabel,
  isHeadless,
  lastChangeTriggerTimeAnnotation,
  podEndpointsChanged,
  podIPOfFamily,
  podReference,
  serviceFamilies,
  serviceSelector,
  servicesOfPod,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  TriggerTimeTracker,
} from './pod-endpoints.ts';

/** Addresses one Endpoints object holds at most. */
export const maxEndpointsCapacity = 1000;
const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';
/** The annotation leader election once kept on Endpoints: such objects are never deleted. */
const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

/** See the file header. */
export class EndpointsController implements Controller {
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #endpoints: Informer<Endpoints>;
  readonly #api: ResourceClient<Endpoints>;
  readonly #recorder: EventRecorder;
  readonly #queue = new WorkQueue();
  readonly #workers: number;
  readonly #triggers = new TriggerTimeTracker();

  constructor(context: ControllerContext) {
    this.#services = context.informers.informer(kinds.services);
    this.#pods = context.informers.informer(kinds.pods);
    this.#endpoints = context.informers.informer(kinds.endpoints);
    this.#api = context.client.resource(kinds.endpoints);
    this.#recorder = context.recorder('endpoint-controller');
    this.#workers = context.settings.workers;
  }

  start(): void {
    const enqueue = (object: { metadata?: { namespace?: string; name?: string } }) => this.#queue.add(objectKey(object));
    this.#services.addHandler({ add: enqueue, update: (_, s) => enqueue(s), delete: enqueue });
    this.#pods.addHandler({
      add: (pod) => this.#enqueuePod(pod),
      update: (old, pod) => {
        if (old !== pod && !podEndpointsChanged(old, pod)) return;
        this.#enqueuePod(pod);
        // A pod whose labels changed may have left some Services.
        if (old !== pod && JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) this.#enqueuePod(old);
      },
      delete: (pod) => this.#enqueuePod(pod),
    });
    // Endpoints left over from a Service deleted while the controller was down: every
    // Endpoints object is looked at once at start (its Service missing means it goes), as
    // upstream's checkLeftoverEndpoints.
    for (const endpoints of this.#endpoints.list()) enqueue(endpoints);
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        onError: (key, error) => console.error(`skiff: endpoint-controller: syncing service "${key}":`, error instanceof Error ? error.message : error),
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  #enqueuePod(pod: Pod): void {
    for (const service of servicesOfPod(this.#services, pod)) this.#queue.add(objectKey(service));
  }

  async #sync(key: string): Promise<void> {
    const { namespace = '', name } = splitKey(key);
    const service = this.#services.get(namespace, name);
    if (!service) {
      const current = this.#endpoints.get(namespace, name);
      this.#triggers.forget(namespace, name);
      // The Service is gone, so are its Endpoints — except an old leader-election record,
      // which never had a Service.
      if (!current || current.metadata?.annotations?.[leaderAnnotation] !== undefined) return;
      try {
        await this.#api.delete(namespace, name);
      } catch (error) {
        if (!isApiError(error, 404)) throw error;
      }
      return;
    }
    const selector = serviceSelector(service);
    if (!selector) return;
    const pods = this.#pods.list(namespace, selector);
    const { time: triggerTime, commit } = this.#triggers.compute(service, pods);
    const subsets = buildSubsets(service, pods);

    const current = this.#endpoints.get(namespace, name);
    const labels = { ...(service.metadata?.labels ?? {}) };
    if (current && subsetsEqual(current.subsets ?? [], subsets) && labelsEqual(withoutHeadless(current.metadata?.labels), labels) && capacityAnnotationCorrect(current)) {
      commit();
      return;
    }
    const next: Endpoints = current ? structuredClone(current) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    const annotations = { ...(next.metadata!.annotations ?? {}) };
    if (triggerTime) annotations[lastChangeTriggerTimeAnnotation] = triggerTime;
    else delete annotations[lastChangeTriggerTimeAnnotation];
    const truncated = truncate(subsets);
    if (truncated) annotations[overCapacityAnnotation] = 'truncated';
    else delete annotations[overCapacityAnnotation];
    if (isHeadless(service)) labels[headlessLabel] = '';
    next.metadata!.labels = labels;
    if (Object.keys(annotations).length > 0) next.metadata!.annotations = annotations;
    else delete next.metadata!.annotations;
    next.subsets = subsets;
    try {
      if (current) await this.#api.update(next);
      else await this.#api.create(next);
      commit();
    } catch (error) {
      // A namespace being deleted refuses creates; there is nothing to publish into it.
      if (!current && isApiError(error) && error.code === 403 && /terminat/i.test(error.message)) return;
      if (current) this.#recorder.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${name}: ${errorText(error)}`);
      else this.#recorder.event(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${namespace}/${name}: ${errorText(error)}`);
      throw error;
    }
  }
}

/** The subsets a Service's pods give, packed as upstream's `RepackSubsets`. */
export function buildSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const family = serviceFamilies(service)[0]!;
  const servicePorts = service.spec?.ports ?? [];
  /** Per address (by IP and pod uid): its address, readiness, and ports. */
  const entries = new Map<string, { address: EndpointAddress; ready: boolean; ports: EndpointPort[] }>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPOfFamily(pod, family);
    if (!ip) continue;
    const address: EndpointAddress = { ip, targetRef: podReference(pod) };
    if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
    if (shouldSetHostname(pod, service)) address.hostname = pod.spec!.hostname!;
    const ready = publishNotReady || isPodReady(pod);
    const ports: EndpointPort[] = [];
    if (servicePorts.length === 0) {
      // Only a headless Service may publish addresses without ports.
      if (!isHeadless(service)) continue;
    } else {
      for (const servicePort of servicePorts) {
        const port = findPort(pod, servicePort);
        if (port === undefined) continue;
        const endpointPort: EndpointPort = { port, protocol: servicePort.protocol ?? 'TCP' };
        if (servicePort.name) endpointPort.name = servicePort.name;
        if (servicePort.appProtocol) endpointPort.appProtocol = servicePort.appProtocol;
        ports.push(endpointPort);
      }
      if (ports.length === 0) continue;
    }
    entries.set(`${ip}/${pod.metadata?.uid ?? ''}`, { address, ready, ports });
  }
  // Addresses with the same set of ports share one subset.
  const bySet = new Map<string, EndpointSubset>();
  for (const { address, ready, ports } of entries.values()) {
    const sorted = [...ports].sort(comparePorts);
    const setKey = JSON.stringify(sorted);
    let subset = bySet.get(setKey);
    if (!subset) bySet.set(setKey, (subset = sorted.length > 0 ? { ports: sorted } : {}));
    const list = ready ? (subset.addresses ??= []) : (subset.notReadyAddresses ??= []);
    list.push(address);
  }
  const subsets = [...bySet.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  for (const subset of subsets) {
    subset.addresses?.sort(compareAddresses);
    subset.notReadyAddresses?.sort(compareAddresses);
  }
  return subsets;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? '');
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return a.ip.localeCompare(b.ip, 'en', { numeric: true }) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

/**
 * Keeps at most {@link maxEndpointsCapacity} addresses, ready ones first, each subset keeping a
 * share proportional to its size (upstream's `truncateEndpoints`). Returns whether it cut.
 */
function truncate(subsets: EndpointSubset[]): boolean {
  let ready = 0;
  let notReady = 0;
  for (const s of subsets) {
    ready += s.addresses?.length ?? 0;
    notReady += s.notReadyAddresses?.length ?? 0;
  }
  if (ready + notReady <= maxEndpointsCapacity) return false;
  const cutReady = ready > maxEndpointsCapacity;
  const room = cutReady ? maxEndpointsCapacity : maxEndpointsCapacity - ready;
  const total = cutReady ? ready : notReady;
  let left = room;
  for (const subset of subsets) {
    const inSubset = (cutReady ? subset.addresses?.length : subset.notReadyAddresses?.length) ?? 0;
    const share = Math.min(Math.ceil((inSubset / total) * room), left);
    if (cutReady) {
      if (subset.addresses) subset.addresses = subset.addresses.slice(0, share);
      delete subset.notReadyAddresses;
      left -= subset.addresses?.length ?? 0;
    } else {
      if (subset.notReadyAddresses) subset.notReadyAddresses = subset.notReadyAddresses.slice(0, share);
      left -= subset.notReadyAddresses?.length ?? 0;
    }
  }
  return true;
}

/** True when the over-capacity annotation says what the stored addresses say. */
function capacityAnnotationCorrect(endpoints: Endpoints): boolean {
  let count = 0;
  for (const s of endpoints.subsets ?? []) count += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  if (count > maxEndpointsCapacity) return false;
  return endpoints.metadata?.annotations?.[overCapacityAnnotation] === undefined;
}

/** Subsets compared as the API stores them, ignoring the pods' resourceVersions. */
function subsetsEqual(a: EndpointSubset[], b: EndpointSubset[]): boolean {
  const norm = (subsets: EndpointSubset[]) =>
    JSON.stringify(
      subsets.map((s) => ({
        a: (s.addresses ?? []).map(normAddress),
        n: (s.notReadyAddresses ?? []).map(normAddress),
        p: (s.ports ?? []).map((p) => [p.name ?? '', p.port, p.protocol ?? 'TCP', p.appProtocol ?? '']),
      })),
    );
  return norm(a) === norm(b);
}

function normAddress(a: EndpointAddress): unknown[] {
  const ref = a.targetRef;
  return [a.ip, a.hostname ?? '', a.nodeName ?? '', ref ? [ref.kind ?? '', ref.namespace ?? '', ref.name ?? '', ref.uid ?? ''] : null];
}

function withoutHeadless(labels: Record<string, string> | undefined): Record<string, string> {
  const out = { ...(labels ?? {}) };
  delete out[headlessLabel];
  return out;
}

function labelsEqual(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The `endpoints-controller` descriptor. */
export const endpointsControllerDescriptor: ControllerDescriptor = {
  name: 'endpoints-controller',
  create: (context) => new EndpointsController(context),
};
