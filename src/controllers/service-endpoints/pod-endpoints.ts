/**
 * What the Endpoints and EndpointSlice controllers share: which Services a pod belongs to,
 * whether a pod is published at all, which port a Service port reaches on a pod, and the
 * address facts (IP of the Service's family, hostname, node, target reference). Worded as
 * upstream's `endpointslice/util` and `podutil.FindPort`.
 */
import type { ObjectReference, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { selectorMatches, type Lister } from '../../client/index.ts';
import { podCondition } from '../pod-util.ts';

/** The label a Service without a cluster IP (headless) gives its Endpoints and slices. */
export const headlessLabel = 'service.kubernetes.io/headless';
/** Annotation: when the change that produced this object happened. */
export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';

/**
 * The pods a Service selects, as a label selector; undefined when the controllers leave the
 * Service alone: no selector (its Endpoints are the user's) or type ExternalName.
 */
export function serviceSelector(service: Service): LabelSelector | undefined {
  if (service.spec?.type === 'ExternalName') return undefined;
  const selector = service.spec?.selector;
  // An empty map reaches the server as "no selector" from protobuf clients; treat JSON's `{}`
  // the same, so a selector-less Service never has every pod of its namespace published.
  if (!selector || Object.keys(selector).length === 0) return undefined;
  return { matchLabels: selector };
}

/** Services whose selector matches the pod's labels (same namespace). */
export function servicesOfPod(services: Lister<Service>, pod: Pod): Service[] {
  const labels = pod.metadata?.labels;
  return services.list(pod.metadata?.namespace ?? '').filter((service) => selectorMatches(serviceSelector(service), labels));
}

/**
 * Whether a pod is published at all (upstream's `ShouldPodBeInEndpoints`): not finished, has an
 * IP, and — unless `includeTerminating` — not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/**
 * The pod port a Service port reaches (upstream's `FindPort`): a numeric targetPort as is; a
 * named one looked up among the containers' (and restartable init containers') ports with the
 * same name and protocol. Undefined when the pod has no such port.
 */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  const spec = pod.spec;
  const sidecars = (spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const container of [...(spec?.containers ?? []), ...sidecars]) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

/** A pod's hostname is published when it names the Service as its subdomain. */
export function shouldSetHostname(pod: Pod, service: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === service.metadata?.name && pod.metadata?.namespace === service.metadata?.namespace;
}

/** `IPv4` or `IPv6`, by the address's spelling. */
export function ipFamilyOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

/**
 * The address families a Service is published in: its `ipFamilies`, else the family of its
 * cluster IP, else IPv4 (a headless Service created before families were set).
 */
export function serviceFamilies(service: Service): ('IPv4' | 'IPv6')[] {
  const families = (service.spec?.ipFamilies ?? []).filter((f): f is 'IPv4' | 'IPv6' => f === 'IPv4' || f === 'IPv6');
  if (families.length > 0) return families;
  const ip = service.spec?.clusterIP;
  if (ip && ip !== 'None') return [ipFamilyOf(ip)];
  return ['IPv4'];
}

/** The pod's IP of one family, if it has one. */
export function podIPOfFamily(pod: Pod, family: 'IPv4' | 'IPv6'): string | undefined {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.find((ip) => ipFamilyOf(ip) === family);
}

/** Whether the Service has no cluster IP (`None`, or none yet). */
export function isHeadless(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return !ip || ip === 'None';
}

/** The reference from an address to its pod. */
export function podReference(pod: Pod): ObjectReference {
  return { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}

/**
 * The fields of a pod that change what the controllers publish; an update that leaves them
 * alone (an annotation, a container restart count) does not re-sync the pod's Services.
 */
export function podEndpointsChanged(old: Pod, pod: Pod): boolean {
  const facts = (p: Pod) =>
    JSON.stringify([
      p.status?.podIP,
      p.status?.podIPs,
      p.status?.phase,
      podCondition(p, 'Ready')?.status,
      p.metadata?.deletionTimestamp,
      p.metadata?.labels,
      p.spec?.nodeName,
      p.spec?.hostname,
      p.spec?.subdomain,
    ]);
  return facts(old) !== facts(pod);
}

/**
 * Upstream's trigger-time tracker, in small: for each Service, the time of the earliest change
 * not yet published — a pod's Ready transition, or the Service's creation when it is new to the
 * controller. Undefined when nothing new happened (the annotation is then removed).
 */
export class TriggerTimeTracker {
  readonly #seen = new Map<string, Map<string, string>>();

  /**
   * The earliest unpublished change among the Service and its pods. The changes count as
   * published only when `commit` is called — after the write that carries them succeeded — so a
   * write lost to a conflict publishes them on its retry.
   */
  compute(service: Service, pods: readonly Pod[]): { time: string | undefined; commit: () => void } {
    const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
    const known = this.#seen.get(key);
    let earliest: string | undefined;
    const consider = (time: string | undefined) => {
      if (time && (earliest === undefined || Date.parse(time) < Date.parse(earliest))) earliest = time;
    };
    if (!known) consider(service.metadata?.creationTimestamp);
    const current = new Map<string, string>();
    for (const pod of pods) {
      const ready = podCondition(pod, 'Ready');
      const time = ready?.lastTransitionTime ?? pod.metadata?.creationTimestamp ?? '';
      // Transition times have whole seconds: two flips within one second share a time, so the
      // Ready status is part of what "changed" means (the trigger is still the time).
      const state = `${ready?.status ?? ''}@${time}`;
      const name = pod.metadata?.name ?? '';
      current.set(name, state);
      if (known?.get(name) !== state) consider(time);
    }
    const time = earliest === undefined ? undefined : new Date(earliest).toISOString().replace('.000Z', 'Z');
    return { time, commit: () => void this.#seen.set(key, current) };
  }

  /** Forgets a deleted Service. */
  forget(namespace: string, name: string): void {
    this.#seen.delete(`${namespace}/${name}`);
  }
}
