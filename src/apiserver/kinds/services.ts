/** The core/v1 Service and Endpoints kinds. */
import { isIP } from 'node:net';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { dns1123LabelErrors, dns1123SubdomainErrors, duplicate, forbidden, immutable, invalid, notSupported, required, validateLabels } from '../validation/index.ts';
import { ageColumn, column, formatLabels, listWithMore, wideColumn } from './columns.ts';
import {
  PORT_PROTOCOLS,
  at,
  isObject,
  objectsOf,
  portNumErrors,
  portNumOrNameErrors,
  specOf,
  str,
  type JsonObject,
} from './checks.ts';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
/** Upstream's `DefaultClientIPServiceAffinitySeconds`: three hours. */
const CLIENT_IP_AFFINITY_SECONDS = 10800;

function service(o: KubeObject): Service {
  return o as Service;
}

/** Reachable from outside the cluster: NodePort and LoadBalancer, or any with external IPs. */
function externallyAccessible(spec: JsonObject): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
}

/**
 * Upstream's service defaults (`type: ClusterIP`, `sessionAffinity: None`, port protocol TCP,
 * `targetPort` = `port`, traffic policies), plus what its service registry fills before
 * allocating addresses: `clusterIP`/`clusterIPs` mirrored into each other and the IP family
 * fields of a single-stack IPv4 cluster. Address allocation itself is the server's.
 */
function defaultService(object: KubeObject): void {
  const spec = specOf(object);
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const config = isObject(spec.sessionAffinityConfig) ? spec.sessionAffinityConfig : undefined;
    const clientIP = config && isObject(config.clientIP) ? config.clientIP : undefined;
    if (!clientIP || clientIP.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) {
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: CLIENT_IP_AFFINITY_SECONDS } };
    }
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const [, port] of objectsOf(spec.ports)) {
    if (!port.protocol) port.protocol = 'TCP';
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') {
      port.targetPort = port.port;
    }
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (!spec.internalTrafficPolicy && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(str(spec.type))) {
    spec.internalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    spec.allocateLoadBalancerNodePorts = true;
  }

  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (str(spec.clusterIP) !== '' && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
  else if (str(spec.clusterIP) === '' && typeof ips[0] === 'string' && ips[0] !== '') spec.clusterIP = ips[0];

  if (spec.type !== 'ExternalName') {
    // Headless services without a selector publish every family the cluster has.
    const headlessWithoutSelector = spec.clusterIP === 'None' && Object.keys(isObject(spec.selector) ? spec.selector : {}).length === 0;
    if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack';
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
  }
}

function validateService(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  const type = str(spec.type);
  const clusterIP = str(spec.clusterIP);
  const headless = clusterIP === 'None';
  const ports = objectsOf(spec.ports);

  if (ports.length === 0 && !headless && type !== 'ExternalName') errors.push(required('spec.ports'));
  if (type === '') errors.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errors.push(notSupported('spec.type', type, SERVICE_TYPES));

  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    errors.push(invalid('spec.clusterIP', clusterIP, `may not be set to 'None' for ${type} services`));
  }
  if (type === 'ExternalName') {
    if (clusterIP !== '') errors.push(forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    // The name may end with a dot to mark it fully qualified.
    const cname = str(spec.externalName).replace(/\.$/, '');
    if (cname === '') errors.push(required('spec.externalName'));
    else for (const m of dns1123SubdomainErrors(cname)) errors.push(invalid('spec.externalName', cname, m));
  } else if (clusterIP !== '' && !headless && isIP(clusterIP) === 0) {
    errors.push(invalid('spec.clusterIP', clusterIP, "must be empty, 'None', or a valid IP address"));
  }

  const names = new Set<string>();
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  for (const [i, port] of ports) {
    const p = at('spec.ports', i);
    const name = str(port.name);
    if (ports.length > 1 && name === '') {
      errors.push(required(at(p, 'name')));
    } else if (name !== '') {
      for (const m of dns1123LabelErrors(name)) errors.push(invalid(at(p, 'name'), name, m));
      if (names.has(name)) errors.push(duplicate(at(p, 'name'), name));
      names.add(name);
    }
    for (const m of portNumErrors(port.port as number)) errors.push(invalid(at(p, 'port'), port.port, m));
    const protocol = str(port.protocol);
    if (protocol === '') errors.push(required(at(p, 'protocol')));
    else if (!(PORT_PROTOCOLS as readonly string[]).includes(protocol)) errors.push(notSupported(at(p, 'protocol'), protocol, [...PORT_PROTOCOLS]));
    if (port.targetPort !== undefined && port.targetPort !== null) {
      errors.push(...portNumOrNameErrors(port.targetPort, at(p, 'targetPort')));
    }
    if (port.nodePort) {
      if (type === 'ClusterIP') errors.push(forbidden(at(p, 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
      for (const m of portNumErrors(port.nodePort as number)) errors.push(invalid(at(p, 'nodePort'), port.nodePort, m));
      const nodeKey = `${protocol}/${String(port.nodePort)}`;
      if (seenNodePorts.has(nodeKey)) errors.push(duplicate(at(p, 'nodePort'), port.nodePort));
      seenNodePorts.add(nodeKey);
    }
    const portKey = `${protocol}/${String(port.port)}`;
    if (seenPorts.has(portKey)) errors.push(duplicate(p, { port: port.port, protocol }));
    seenPorts.add(portKey);
  }

  errors.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinity = str(spec.sessionAffinity);
  if (affinity === '') errors.push(required('spec.sessionAffinity'));
  else if (!SESSION_AFFINITIES.includes(affinity)) errors.push(notSupported('spec.sessionAffinity', affinity, SESSION_AFFINITIES));

  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip, i) => {
    if (typeof ip !== 'string' || isIP(ip) === 0) {
      errors.push(invalid(at('spec.externalIPs', i), ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    }
  });
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null && !IP_FAMILY_POLICIES.includes(str(spec.ipFamilyPolicy))) {
    errors.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  (Array.isArray(spec.ipFamilies) ? spec.ipFamilies : []).forEach((family, i) => {
    if (family !== 'IPv4' && family !== 'IPv6') errors.push(notSupported(at('spec.ipFamilies', i), family, ['IPv4', 'IPv6']));
  });
  if (spec.internalTrafficPolicy !== undefined && spec.internalTrafficPolicy !== null && !TRAFFIC_POLICIES.includes(str(spec.internalTrafficPolicy))) {
    errors.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (externallyAccessible(spec)) {
    const policy = str(spec.externalTrafficPolicy);
    if (policy === '') errors.push(required('spec.externalTrafficPolicy'));
    else if (!TRAFFIC_POLICIES.includes(policy)) errors.push(notSupported('spec.externalTrafficPolicy', policy, TRAFFIC_POLICIES));
  } else if (str(spec.externalTrafficPolicy) !== '') {
    errors.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  }

  if (old) {
    const oldSpec = isObject(old.spec) ? old.spec : {};
    // Allocated addresses stay put, unless the service becomes (or stops being) ExternalName.
    if (type !== 'ExternalName' && oldSpec.type !== 'ExternalName' && str(oldSpec.clusterIP) !== '' && clusterIP !== str(oldSpec.clusterIP)) {
      errors.push(immutable('spec.clusterIP', clusterIP));
    }
  }
  return errors;
}

/** The EXTERNAL-IP cell, as upstream's `getServiceExternalIP`. */
function externalIPCell(o: KubeObject): string {
  const s = service(o);
  const externalIPs = s.spec?.externalIPs ?? [];
  switch (s.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = [...new Set((s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((x) => x !== ''))];
      if (externalIPs.length > 0) return [...lb, ...externalIPs].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return s.spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** The PORT(S) cell: `80/TCP`, `80:30080/TCP`, comma-joined; `<none>` without ports. */
function portsCell(o: KubeObject): string {
  const ports = service(o).spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`)).join(',');
}

/** Services: `svc`, in `kubectl get all`. The server allocates cluster IPs and node ports. */
export const servicesKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  subresources: { status: true },
  generation: false,
  printerColumns: [
    column('Type', 'string', 'How the service is exposed.', (o) => service(o).spec?.type ?? ''),
    column('Cluster-IP', 'string', 'The virtual IP of the service inside the cluster.', (o) => service(o).spec?.clusterIPs?.[0] || '<none>'),
    column('External-IP', 'string', 'Addresses the service is reachable at from outside the cluster.', externalIPCell),
    column('Port(s)', 'string', 'The ports the service exposes.', portsCell),
    ageColumn,
    wideColumn('Selector', 'string', 'Labels of the pods the service routes to.', (o) => formatLabels(service(o).spec?.selector)),
  ],
  defaults: defaultService,
  prepareForCreate(object) {
    // The load balancer status is a struct upstream, so it shows even when empty.
    object.status = { loadBalancer: {} };
  },
  prepareForUpdate(object, old) {
    keepAllocations(service(object), service(old));
  },
  validate: validateService,
  fieldSelectors: {
    'spec.clusterIP': (o) => service(o).spec?.clusterIP ?? '',
    'spec.type': (o) => service(o).spec?.type ?? '',
  },
};

/**
 * An update that leaves out what the server allocated keeps it, as upstream: `kubectl replace`
 * or `apply` of the manifest a Service was created from must not read as a change of address.
 */
function keepAllocations(next: Service, old: Service): void {
  const spec = next.spec;
  const was = old.spec;
  if (!spec || !was) return;
  if (!spec.clusterIP && !spec.clusterIPs?.length && was.clusterIP) {
    spec.clusterIP = was.clusterIP;
    if (was.clusterIPs) spec.clusterIPs = [...was.clusterIPs];
  }
  if (!spec.healthCheckNodePort && was.healthCheckNodePort) spec.healthCheckNodePort = was.healthCheckNodePort;
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  if (!nodePorts) return;
  for (const port of spec.ports ?? []) {
    if (port.nodePort) continue;
    const same = (was.ports ?? []).find((p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
    if (same?.nodePort) port.nodePort = same.nodePort;
  }
}

/** The ENDPOINTS cell: the first three `ip:port` pairs, then `+ N more...`. */
function endpointsCell(o: KubeObject): string {
  const subsets = (o as Endpoints).subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const subset of subsets) {
    const addresses = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    if (ports.length === 0) {
      // Headless services may have addresses without ports.
      count += addresses.length;
      for (const a of addresses) list.push(a.ip);
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) list.push(a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
    }
  }
  return listWithMore(list, count, '');
}

function validateEndpoints(object: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const [i, subset] of objectsOf(object.subsets)) {
    const p = at('subsets', i);
    for (const list of ['addresses', 'notReadyAddresses']) {
      for (const [j, address] of objectsOf(subset[list])) {
        const ip = str(address.ip);
        const ap = at(at(at(p, list), j), 'ip');
        if (ip === '') errors.push(required(ap));
        else if (isIP(ip) === 0) errors.push(invalid(ap, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      }
    }
    const ports = objectsOf(subset.ports);
    for (const [j, port] of ports) {
      const pp = at(at(p, 'ports'), j);
      const name = str(port.name);
      if (ports.length > 1 && name === '') errors.push(required(at(pp, 'name')));
      else if (name !== '') for (const m of dns1123LabelErrors(name)) errors.push(invalid(at(pp, 'name'), name, m));
      for (const m of portNumErrors(port.port as number)) errors.push(invalid(at(pp, 'port'), port.port, m));
      const protocol = str(port.protocol);
      if (protocol === '') errors.push(required(at(pp, 'protocol')));
      else if (!(PORT_PROTOCOLS as readonly string[]).includes(protocol)) errors.push(notSupported(at(pp, 'protocol'), protocol, [...PORT_PROTOCOLS]));
    }
  }
  return errors;
}

/** Endpoints: `ep`, written by the endpoints controller (or by hand for selector-less services). */
export const endpointsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  shortNames: ['ep'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [column('Endpoints', 'string', 'The addresses and ports of the service\'s endpoints.', endpointsCell), ageColumn],
  defaults(object) {
    for (const [, subset] of objectsOf(object.subsets)) {
      for (const [, port] of objectsOf(subset.ports)) if (!port.protocol) port.protocol = 'TCP';
    }
  },
  validate: validateEndpoints,
};
