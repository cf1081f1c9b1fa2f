/**
 * The EndpointSlice controller: for every Service with a selector, EndpointSlices (labelled
 * `kubernetes.io/service-name`, managed by `endpointslice-controller.k8s.io`, owned by the
 * Service) listing the selected pods with an IP — ready, serving and terminating conditions,
 * node, zone and pod reference — at most 100 endpoints a slice, one set of slices per address
 * type and per set of resolved ports. Changes are planned by `slice-reconciler.ts` to touch as
 * few slices as possible. Slices managed by anyone else are never touched.
 */
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isApiError, kinds, objectKey, processQueue, splitKey, WorkQueue, type Informer, type ResourceClient } from '../../client/index.ts';
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
import { planSlices, type DesiredGroup } from './slice-reconciler.ts';

/** The label naming a slice's Service. */
export const serviceNameLabel = 'kubernetes.io/service-name';
/** The label naming who manages a slice. */
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
/** This controller's value of {@link managedByLabel}. */
export const managedByValue = 'endpointslice-controller.k8s.io';
const zoneLabel = 'topology.kubernetes.io/zone';
const serviceIndex = 'endpointslice-service';

/** Options of {@link EndpointSliceController}. */
export interface EndpointSliceControllerOptions {
  /** `--max-endpoints-per-slice`. Default 100. */
  maxEndpointsPerSlice?: number;
}

/** See the file header. */
export class EndpointSliceController implements Controller {
  readonly #services: Informer<Service>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #api: ResourceClient<EndpointSlice>;
  readonly #queue = new WorkQueue();
  readonly #workers: number;
  readonly #max: number;
  readonly #triggers = new TriggerTimeTracker();
  /**
   * What this controller last wrote, per Service: slice name → resourceVersion (or `deleted`).
   * A sync whose cache is older than its own writes waits, rather than creating twice.
   */
  readonly #written = new Map<string, Map<string, string>>();

  constructor(context: ControllerContext, options: EndpointSliceControllerOptions = {}) {
    this.#services = context.informers.informer(kinds.services);
    this.#pods = context.informers.informer(kinds.pods);
    this.#nodes = context.informers.informer(kinds.nodes);
    this.#slices = context.informers.informer(kinds.endpointSlices, {
      [serviceIndex]: (slice) => {
        const labels = slice.metadata?.labels ?? {};
        const service = labels[serviceNameLabel];
        return service && labels[managedByLabel] === managedByValue ? [`${slice.metadata?.namespace}/${service}`] : [];
      },
    });
    this.#api = context.client.resource(kinds.endpointSlices);
    this.#workers = context.settings.workers;
    this.#max = options.maxEndpointsPerSlice ?? 100;
  }

  start(): void {
    const enqueue = (object: { metadata?: { namespace?: string; name?: string } }) => this.#queue.add(objectKey(object));
    this.#services.addHandler({ add: enqueue, update: (_, s) => enqueue(s), delete: enqueue });
    this.#pods.addHandler({
      add: (pod) => this.#enqueuePod(pod),
      update: (old, pod) => {
        if (old !== pod && !podEndpointsChanged(old, pod)) return;
        this.#enqueuePod(pod);
        if (old !== pod && JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) this.#enqueuePod(old);
      },
      delete: (pod) => this.#enqueuePod(pod),
    });
    // A managed slice changed or removed by someone else is put back.
    const enqueueSlice = (slice: EndpointSlice) => {
      const labels = slice.metadata?.labels ?? {};
      if (labels[managedByLabel] === managedByValue && labels[serviceNameLabel]) this.#queue.add(`${slice.metadata?.namespace}/${labels[serviceNameLabel]}`);
    };
    this.#slices.addHandler({ add: enqueueSlice, update: (_, s) => enqueueSlice(s), delete: enqueueSlice });
    // A node's zone is part of every endpoint on it.
    this.#nodes.addHandler({
      update: (old, node) => {
        if (old.metadata?.labels?.[zoneLabel] === node.metadata?.labels?.[zoneLabel]) return;
        for (const pod of this.#pods.list()) if (pod.spec?.nodeName === node.metadata?.name) this.#enqueuePod(pod);
      },
    });
    for (let i = 0; i < this.#workers; i++) {
      void processQueue(this.#queue, (key) => this.#sync(key), {
        recheckMs: 100,
        onError: (key, error) => console.error(`skiff: endpointslice-controller: syncing service "${key}":`, error instanceof Error ? error.message : error),
      });
    }
  }

  stop(): void {
    this.#queue.shutDown();
  }

  #enqueuePod(pod: Pod): void {
    for (const service of servicesOfPod(this.#services, pod)) this.#queue.add(objectKey(service));
  }

  /** Whether the cache has caught up with this controller's own writes for the Service. */
  #cacheCurrent(key: string): boolean {
    const written = this.#written.get(key);
    if (!written) return true;
    const { namespace } = splitKey(key);
    for (const [name, version] of written) {
      const cached = this.#slices.get(namespace, name);
      const caughtUp = version === 'deleted' ? !cached : !!cached && BigInt(cached.metadata?.resourceVersion ?? '0') >= BigInt(version);
      if (caughtUp) written.delete(name);
    }
    if (written.size === 0) this.#written.delete(key);
    return written.size === 0;
  }

  #remember(key: string, name: string, version: string): void {
    let written = this.#written.get(key);
    if (!written) this.#written.set(key, (written = new Map()));
    written.set(name, version);
  }

  /** Resolves true to be looked at again shortly (the cache is behind this controller's writes). */
  async #sync(key: string): Promise<boolean> {
    const { namespace = '', name } = splitKey(key);
    const service = this.#services.get(namespace, name);
    if (!service) {
      // The slices carry an ownerReference: the garbage collector removes them.
      this.#triggers.forget(namespace, name);
      this.#written.delete(key);
      return false;
    }
    const selector = serviceSelector(service);
    if (!selector) return false;
    if (!this.#cacheCurrent(key)) return true;

    const pods = this.#pods.list(namespace, selector);
    const { time: triggerTime, commit } = this.#triggers.compute(service, pods);
    const labels = sliceLabels(service);
    const existing = this.#slices.byIndex(serviceIndex, key);
    const families = serviceFamilies(service);
    const missingNodes: string[] = [];
    const plans = families.map((family) => {
      const desired = this.#desired(service, pods, family, missingNodes);
      const own = existing.filter((s) => s.addressType === family && ownedBy(s, service));
      return planSlices(own, desired, {
        addressType: family,
        maxEndpointsPerSlice: this.#max,
        labels,
        newSlice: (ports) => newSlice(service, family, ports, labels),
      });
    });
    // Slices of another address type, or of an older Service of the same name, go.
    const stray = existing.filter((s) => !families.includes(s.addressType as 'IPv4' | 'IPv6') || !ownedBy(s, service));

    const annotate = (slice: EndpointSlice) => {
      const annotations = { ...(slice.metadata?.annotations ?? {}) };
      if (triggerTime) annotations[lastChangeTriggerTimeAnnotation] = triggerTime;
      else delete annotations[lastChangeTriggerTimeAnnotation];
      const { annotations: _, ...meta } = slice.metadata ?? {};
      return { ...slice, metadata: Object.keys(annotations).length > 0 ? { ...meta, annotations } : meta };
    };
    // Creating alongside the garbage collector deleting would race it: a Service being deleted
    // gets no new slices.
    if (!service.metadata?.deletionTimestamp) {
      for (const plan of plans) {
        for (const slice of plan.create) {
          try {
            const created = await this.#api.create(annotate(slice), { namespace });
            this.#remember(key, created.metadata!.name!, created.metadata!.resourceVersion!);
          } catch (error) {
            if (isApiError(error) && error.code === 403 && /terminat/i.test(error.message)) return false;
            throw error;
          }
        }
      }
    }
    for (const plan of plans) {
      for (const slice of plan.update) {
        const updated = await this.#api.update(annotate(slice));
        this.#remember(key, updated.metadata!.name!, updated.metadata!.resourceVersion!);
      }
    }
    for (const slice of [...plans.flatMap((p) => p.delete), ...stray]) {
      try {
        await this.#api.delete(namespace, slice.metadata!.name!, { preconditions: { uid: slice.metadata!.uid! } });
      } catch (error) {
        if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
      }
      this.#remember(key, slice.metadata!.name!, 'deleted');
    }
    commit();
    if (missingNodes.length > 0) {
      throw new Error(`skipping pods of Service ${key} on missing nodes: ${[...new Set(missingNodes)].join(', ')}`);
    }
    return false;
  }

  /** The Service's endpoints of one family, grouped by resolved ports. */
  #desired(service: Service, pods: readonly Pod[], family: 'IPv4' | 'IPv6', missingNodes: string[]): DesiredGroup[] {
    const groups = new Map<string, DesiredGroup>();
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = endpointPorts(service, pod);
      const portKey = JSON.stringify(ports);
      let group = groups.get(portKey);
      if (!group) groups.set(portKey, (group = { ports, endpoints: [] }));
      const nodeName = pod.spec?.nodeName ?? '';
      const node = nodeName ? this.#nodes.get(undefined, nodeName) : undefined;
      // A pod on a node that does not exist (yet) is left out and the Service retried, unless
      // the Service publishes everything regardless.
      if (!node && !publishNotReady) {
        missingNodes.push(nodeName || `(none, pod ${pod.metadata?.name})`);
        continue;
      }
      const ip = podIPOfFamily(pod, family);
      if (!ip) continue;
      const serving = isPodReady(pod);
      const terminating = !!pod.metadata?.deletionTimestamp;
      const endpoint: Endpoint = {
        addresses: [ip],
        // Never ready while terminating, unless the Service publishes not-ready addresses.
        conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
        targetRef: podReference(pod),
      };
      if (shouldSetHostname(pod, service)) endpoint.hostname = pod.spec!.hostname!;
      if (nodeName) endpoint.nodeName = nodeName;
      const zone = node?.metadata?.labels?.[zoneLabel];
      if (zone) endpoint.zone = zone;
      group.endpoints.push(endpoint);
    }
    for (const group of groups.values()) group.endpoints.sort((a, b) => a.addresses[0]!.localeCompare(b.addresses[0]!, 'en', { numeric: true }));
    return [...groups.values()];
  }
}

/** The Service's ports resolved on one pod; ports the pod lacks are left out. */
function endpointPorts(service: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const port = findPort(pod, servicePort);
    if (port === undefined) continue;
    const endpointPort: EndpointPort = { name: servicePort.name ?? '', port, protocol: servicePort.protocol ?? 'TCP' };
    if (servicePort.appProtocol) endpointPort.appProtocol = servicePort.appProtocol;
    out.push(endpointPort);
  }
  return out;
}

/** The Service's own labels (reserved ones aside) plus the slice labels. */
function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata?.labels ?? {})) {
    if (k !== serviceNameLabel && k !== managedByLabel && k !== headlessLabel) labels[k] = v;
  }
  labels[serviceNameLabel] = service.metadata?.name ?? '';
  labels[managedByLabel] = managedByValue;
  if (isHeadless(service)) labels[headlessLabel] = '';
  return labels;
}

function ownedBy(slice: EndpointSlice, service: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((ref) => ref.kind === 'Service' && ref.uid === service.metadata?.uid);
}

function newSlice(service: Service, addressType: string, ports: EndpointPort[], labels: Record<string, string>): EndpointSlice {
  const name = service.metadata?.name ?? '';
  // generateName adds 5 characters to the prefix; the whole name stays a DNS subdomain.
  const prefix = `${name.length > 57 ? name.slice(0, 57) : name}-`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: prefix,
      namespace: service.metadata?.namespace ?? '',
      labels,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: service.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType,
    ports,
    endpoints: [],
  };
}

/** The `endpointslice-controller` descriptor. */
export const endpointSliceControllerDescriptor: ControllerDescriptor = {
  name: 'endpointslice-controller',
  create: (context) => new EndpointSliceController(context),
};
