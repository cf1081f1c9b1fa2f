/** The networking.k8s.io/v1 kinds: NetworkPolicy, Ingress, IngressClass. */
import { isIP, isIPv4 } from 'node:net';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import {
  DNS1123_SUBDOMAIN_MAX_LENGTH,
  dns1035LabelErrors,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  forbidden,
  immutable,
  invalid,
  isValidPathSegmentName,
  notSupported,
  required,
  tooLong,
} from '../validation/index.ts';
import { ageColumn, column, formatLabelSelector } from './columns.ts';
import { arrayOf, at, isObject, listOf, objectsOf, portNameErrors, portNumErrors, specOf, str, validateLabelSelector, type JsonObject } from './checks.ts';

const GROUP = 'networking.k8s.io';

// ---------------------------------------------------------------------------------------------
// Addresses

/** An IP network: the address as a number, its family and prefix length. */
interface Cidr {
  family: 4 | 6;
  address: bigint;
  prefix: number;
}

function ipv4Bits(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** The 128 bits of an IPv6 address already known to be valid (`isIP` said 6). */
function ipv6Bits(text: string): bigint | undefined {
  let body = text;
  const tail: bigint[] = [];
  // An embedded IPv4 suffix (`::ffff:10.0.0.1`) stands for the last two groups.
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (isIPv4(last)) {
    const v4 = ipv4Bits(last);
    tail.push(v4 >> 16n, v4 & 0xffffn);
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const back = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const zeros = halves.length === 2 ? Array<string>(Math.max(8 - tail.length - head.length - back.length, 0)).fill('0') : [];
  const values = [...head, ...zeros, ...back].map((g) => BigInt(parseInt(g, 16))).concat(tail);
  if (values.length !== 8) return undefined;
  return values.reduce((acc, v) => (acc << 16n) | v, 0n);
}

/** Parses `10.0.0.0/8` or `2001:db8::/32` (host bits may be set, as Go's `ParseCIDR` allows). */
function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  const family = isIP(ip);
  if (family === 4 && prefix <= 32) return { family: 4, address: ipv4Bits(ip), prefix };
  if (family === 6 && prefix <= 128) {
    const address = ipv6Bits(ip);
    return address === undefined ? undefined : { family: 6, address, prefix };
  }
  return undefined;
}

/** Whether `inner` lies inside `outer` and is strictly smaller. */
function strictSubset(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  const width = BigInt(inner.family === 4 ? 32 : 128);
  const shift = width - BigInt(outer.prefix);
  return inner.address >> shift === outer.address >> shift;
}

const CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

const WILDCARD_SUBDOMAIN_FMT = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const WILDCARD_SUBDOMAIN_RE = new RegExp(`^${WILDCARD_SUBDOMAIN_FMT}$`);

/** Upstream's `IsWildcardDNS1123Subdomain`: `*.` followed by a DNS subdomain. */
function wildcardSubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX_LENGTH} characters`);
  if (!WILDCARD_SUBDOMAIN_RE.test(value)) {
    errors.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case " +
        "alphanumeric characters, '-' or '.' and end with an alphanumeric character " +
        `(e.g. '*.example.com', regex used for validation is '${WILDCARD_SUBDOMAIN_FMT}')`,
    );
  }
  return errors;
}

/** A host name that may be a wildcard (`*.example.com`), as ingress rules and TLS hosts allow. */
function hostErrors(host: string, path: string): FieldError[] {
  const messages = host.includes('*') ? wildcardSubdomainErrors(host) : dns1123SubdomainErrors(host);
  return messages.map((m) => invalid(path, host, m));
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy

const POLICY_TYPES = ['Ingress', 'Egress'];
/** Upstream lists these unsorted for network policy ports. */
const POLICY_PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/** Upstream's `SetDefaults_NetworkPolicy` and `SetDefaults_NetworkPolicyPort`. */
function defaultNetworkPolicy(object: KubeObject): void {
  const spec = specOf(object);
  for (const direction of ['ingress', 'egress'] as const) {
    for (const [, rule] of objectsOf(spec[direction])) {
      for (const [, port] of objectsOf(rule.ports)) if (port.protocol === undefined || port.protocol === null) port.protocol = 'TCP';
    }
  }
  // A policy without types isolates ingress, and egress too if it has egress rules.
  if (arrayOf(spec.policyTypes).length === 0) {
    spec.policyTypes = arrayOf(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

function networkPolicyPortErrors(port: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (port.protocol !== undefined && port.protocol !== null && !POLICY_PROTOCOLS.includes(str(port.protocol))) {
    errors.push(notSupported(at(path, 'protocol'), port.protocol, POLICY_PROTOCOLS));
  }
  const value = port.port;
  const endPort = port.endPort;
  const hasEnd = endPort !== undefined && endPort !== null;
  if (typeof value === 'number') {
    for (const m of portNumErrors(value)) errors.push(invalid(at(path, 'port'), value, m));
    if (hasEnd) {
      if (typeof endPort !== 'number' || endPort < value) errors.push(invalid(at(path, 'endPort'), endPort, 'must be greater than or equal to `port`'));
      if (typeof endPort === 'number') for (const m of portNumErrors(endPort)) errors.push(invalid(at(path, 'endPort'), endPort, m));
    }
  } else if (typeof value === 'string') {
    if (hasEnd) errors.push(invalid(at(path, 'endPort'), endPort, 'may not be specified when `port` is non-numeric'));
    for (const m of portNameErrors(value)) errors.push(invalid(at(path, 'port'), value, m));
  } else if (value === undefined || value === null) {
    if (hasEnd) errors.push(invalid(at(path, 'endPort'), endPort, 'may not be specified when `port` is not specified'));
  } else {
    errors.push(invalid(at(path, 'port'), value, 'must be an integer or a port name'));
  }
  return errors;
}

function ipBlockErrors(block: JsonObject, path: string): FieldError[] {
  const cidrText = str(block.cidr);
  if (cidrText === '') return [required(at(path, 'cidr'))];
  const cidr = parseCidr(cidrText);
  if (!cidr) return [invalid(at(path, 'cidr'), cidrText, CIDR_MESSAGE)];
  const errors: FieldError[] = [];
  arrayOf(block.except).forEach((value, i) => {
    const exceptPath = at(at(path, 'except'), i);
    const except = parseCidr(str(value));
    if (!except) errors.push(invalid(exceptPath, value, CIDR_MESSAGE));
    else if (!strictSubset(except, cidr)) errors.push(invalid(exceptPath, value, 'must be a strict subset of `cidr`'));
  });
  return errors;
}

function peerErrors(peer: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  let peers = 0;
  for (const field of ['podSelector', 'namespaceSelector']) {
    if (peer[field] === undefined || peer[field] === null) continue;
    peers++;
    errors.push(...validateLabelSelector(peer[field], at(path, field)));
  }
  const hasBlock = isObject(peer.ipBlock);
  if (hasBlock) {
    peers++;
    errors.push(...ipBlockErrors(peer.ipBlock as JsonObject, at(path, 'ipBlock')));
  }
  if (peers === 0) errors.push(required(path, 'must specify a peer'));
  else if (peers > 1 && hasBlock) errors.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errors;
}

function validateNetworkPolicy(object: KubeObject): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors = validateLabelSelector(spec.podSelector ?? {}, 'spec.podSelector');
  for (const [direction, peersField] of [['ingress', 'from'], ['egress', 'to']] as const) {
    for (const [i, rule] of objectsOf(spec[direction])) {
      const rulePath = at(at('spec', direction), i);
      for (const [j, port] of objectsOf(rule.ports)) errors.push(...networkPolicyPortErrors(port, at(at(rulePath, 'ports'), j)));
      for (const [j, peer] of objectsOf(rule[peersField])) errors.push(...peerErrors(peer, at(at(rulePath, peersField), j)));
    }
  }
  const types = arrayOf(spec.policyTypes);
  if (types.length > POLICY_TYPES.length) {
    errors.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return errors;
  }
  types.forEach((type, i) => {
    if (!POLICY_TYPES.includes(str(type))) errors.push(notSupported(at('spec.policyTypes', i), type, POLICY_TYPES));
  });
  return errors;
}

/** NetworkPolicies: `netpol`; which traffic may reach (and leave) the selected pods. */
const networkPoliciesKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  shortNames: ['netpol'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: true,
  printerColumns: [
    column('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.', (o) =>
      formatLabelSelector((o as NetworkPolicy).spec?.podSelector),
    ),
    ageColumn,
  ],
  defaults: defaultNetworkPolicy,
  validate: validateNetworkPolicy,
};

// ---------------------------------------------------------------------------------------------
// Ingress

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** A typed reference to another object (`apiGroup`, `kind`, `name`), as resource backends use. */
function typedReferenceErrors(ref: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof ref.apiGroup === 'string') {
    for (const m of dns1123SubdomainErrors(ref.apiGroup)) errors.push(invalid(at(path, 'apiGroup'), ref.apiGroup, m));
  }
  for (const field of ['kind', 'name']) {
    const value = str(ref[field]);
    if (value === '') errors.push(required(at(path, field)));
    else for (const m of isValidPathSegmentName(value)) errors.push(invalid(at(path, field), value, m));
  }
  return errors;
}

/** Upstream's `validateIngressBackend`: a service (name and port name or number) or a resource. */
function backendErrors(backend: JsonObject, path: string): FieldError[] {
  const hasResource = isObject(backend.resource);
  const service = isObject(backend.service) ? backend.service : undefined;
  if (hasResource && service) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (hasResource) return typedReferenceErrors(backend.resource as JsonObject, at(path, 'resource'));
  if (!service) return [invalid(path, '', 'resource or service backend is required')];
  const errors: FieldError[] = [];
  const name = str(service.name);
  if (name === '') errors.push(required(at(path, 'service.name')));
  else for (const m of dns1035LabelErrors(name)) errors.push(invalid(at(path, 'service.name'), name, m));
  const port = isObject(service.port) ? service.port : {};
  const portName = str(port.name);
  const portNumber = typeof port.number === 'number' ? port.number : 0;
  if (portName !== '' && portNumber !== 0) errors.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (portName !== '') for (const m of portNameErrors(portName)) errors.push(invalid(at(path, 'service.port.name'), portName, m));
  else if (portNumber !== 0) for (const m of portNumErrors(portNumber)) errors.push(invalid(at(path, 'service.port.number'), portNumber, m));
  else errors.push(required(path, 'port name or number is required'));
  return errors;
}

function httpPathErrors(entry: JsonObject, path: string): FieldError[] {
  if (entry.pathType === undefined || entry.pathType === null) return [required(at(path, 'pathType'), 'pathType must be specified')];
  const errors: FieldError[] = [];
  const value = str(entry.path);
  const pathField = at(path, 'path');
  switch (entry.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errors.push(invalid(pathField, value, 'must be an absolute path'));
      for (const sequence of INVALID_PATH_SEQUENCES) {
        if (value.includes(sequence)) errors.push(invalid(pathField, value, `must not contain '${sequence}'`));
      }
      for (const suffix of INVALID_PATH_SUFFIXES) {
        if (value.endsWith(suffix)) errors.push(invalid(pathField, value, `cannot end with '${suffix}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value !== '' && !value.startsWith('/')) errors.push(invalid(pathField, value, 'must be an absolute path'));
      break;
    default:
      errors.push(notSupported(at(path, 'pathType'), entry.pathType, PATH_TYPES));
  }
  errors.push(...backendErrors(isObject(entry.backend) ? entry.backend : {}, at(path, 'backend')));
  return errors;
}

function ingressRuleErrors(rule: JsonObject, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const host = str(rule.host);
  if (host !== '') {
    if (isIP(host) !== 0) errors.push(invalid(at(path, 'host'), host, 'must be a DNS name, not an IP address'));
    errors.push(...hostErrors(host, at(path, 'host')));
  }
  if (isObject(rule.http)) {
    const httpPath = at(path, 'http');
    const paths = objectsOf(rule.http.paths);
    if (paths.length === 0) errors.push(required(at(httpPath, 'paths')));
    for (const [i, entry] of paths) errors.push(...httpPathErrors(entry, at(at(httpPath, 'paths'), i)));
  }
  return errors;
}

function validateIngress(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  const rules = objectsOf(spec.rules);
  const hasDefault = isObject(spec.defaultBackend);
  if (rules.length === 0 && !hasDefault) errors.push(invalid('spec', spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (hasDefault) errors.push(...backendErrors(spec.defaultBackend as JsonObject, 'spec.defaultBackend'));
  for (const [i, rule] of rules) errors.push(...ingressRuleErrors(rule, at('spec.rules', i)));
  for (const [i, tls] of objectsOf(spec.tls)) {
    const tlsPath = at('spec.tls', i);
    arrayOf(tls.hosts).forEach((host, j) => errors.push(...hostErrors(str(host), at(at(tlsPath, 'hosts'), j))));
    const secretName = str(tls.secretName);
    if (secretName !== '') for (const m of dns1123SubdomainErrors(secretName)) errors.push(invalid(at(tlsPath, 'secretName'), secretName, m));
  }
  if (typeof spec.ingressClassName === 'string') {
    for (const m of dns1123SubdomainErrors(spec.ingressClassName)) errors.push(invalid('spec.ingressClassName', spec.ingressClassName, m));
  }
  const annotation = object.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (!old && annotation !== undefined && typeof spec.ingressClassName === 'string' && annotation !== spec.ingressClassName) {
    // Upstream's path really is `annotations.…`, without `metadata.`.
    errors.push(invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errors;
}

/** Upstream's `formatHosts`: the first three hosts named, `*` when no rule names one. */
function hostsCell(o: KubeObject): string {
  const rules = listOf<{ host?: string }>((o as Ingress).spec?.rules);
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    if (!more && rule.host) hosts.push(rule.host);
  }
  if (hosts.length === 0) return '*';
  // Upstream counts every rule beyond the third, whether it names a host or not.
  return more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

/** Load-balancer IPs (or host names) from the status, de-duplicated and sorted. */
function addressCell(o: KubeObject): string {
  const found = new Set<string>();
  for (const entry of listOf<{ ip?: string; hostname?: string }>((o as Ingress).status?.loadBalancer?.ingress)) {
    if (entry.ip) found.add(entry.ip);
    else if (entry.hostname) found.add(entry.hostname);
  }
  return [...found].sort().join(',');
}

/** Ingresses: `ing`; HTTP routing from hosts and paths to services. */
const ingressesKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  shortNames: ['ing'],
  categories: [],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printerColumns: [
    column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration', (o) =>
      (o as Ingress).spec?.ingressClassName ?? '<none>',
    ),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule', hostsCell),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer', addressCell),
    column('Ports', 'string', 'Ports of TLS configurations that open', (o) => (arrayOf((o as Ingress).spec?.tls).length > 0 ? '80, 443' : '80')),
    ageColumn,
  ],
  prepareForCreate(object) {
    object.status = { loadBalancer: {} };
  },
  validate: validateIngress,
};

// ---------------------------------------------------------------------------------------------
// IngressClass

const CONTROLLER_MAX_LENGTH = 250;
const PARAMETER_SCOPES = ['Cluster', 'Namespace'];
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/** Upstream's `IsDomainPrefixedPath`: `example.com/some-controller`. */
function domainPrefixedPathErrors(value: string, path: string): FieldError[] {
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (host === '' || rest === '') return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errors = dns1123SubdomainErrors(host).map((m) => invalid(path, host, m));
  if (!HTTP_PATH_RE.test(rest)) errors.push(invalid(path, rest, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`));
  return errors;
}

function parametersErrors(params: unknown): FieldError[] {
  if (!isObject(params)) return [];
  const path = 'spec.parameters';
  const errors = typedReferenceErrors(params, path);
  const scope = params.scope;
  if (scope === undefined || scope === null) return [...errors, required(at(path, 'scope'))];
  if (!PARAMETER_SCOPES.includes(str(scope))) {
    errors.push(notSupported(at(path, 'scope'), scope, PARAMETER_SCOPES));
  } else if (scope === 'Namespace') {
    if (typeof params.namespace !== 'string') errors.push(required(at(path, 'namespace'), "`parameters.scope` is set to 'Namespace'"));
    else for (const m of dns1123LabelErrors(params.namespace)) errors.push(invalid(at(path, 'namespace'), params.namespace, m));
  } else if (params.namespace !== undefined && params.namespace !== null) {
    errors.push(forbidden(at(path, 'namespace'), "`parameters.scope` is set to 'Cluster'"));
  }
  return errors;
}

function validateIngressClass(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const errors: FieldError[] = [];
  const controller = str(spec.controller);
  if (controller === '') errors.push(required('spec.controller'));
  else {
    if (controller.length > CONTROLLER_MAX_LENGTH) errors.push(tooLong('spec.controller', CONTROLLER_MAX_LENGTH));
    errors.push(...domainPrefixedPathErrors(controller, 'spec.controller'));
  }
  errors.push(...parametersErrors(spec.parameters));
  // The controller owns the class's ingresses; handing them to another one silently is refused.
  if (old && controller !== str(isObject(old.spec) ? old.spec.controller : undefined)) errors.push(immutable('spec.controller', controller));
  return errors;
}

/** Upstream's parameters cell: `Kind.apiGroup/name`, `<none>` without parameters. */
function parametersCell(o: KubeObject): string {
  const params = (o as IngressClass).spec?.parameters;
  if (!params) return '<none>';
  const kind = params.apiGroup !== undefined ? `${params.kind}.${params.apiGroup}` : params.kind;
  return `${kind}/${params.name}`;
}

/** IngressClasses: which controller implements an ingress, and its parameters. */
const ingressClassesKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  shortNames: [],
  categories: [],
  namespaced: false,
  subresources: {},
  generation: true,
  printerColumns: [
    column('Controller', 'string', 'Controller that is responsible for handling this class', (o) => (o as IngressClass).spec?.controller ?? ''),
    column('Parameters', 'string', 'A reference to a resource with additional parameters', parametersCell),
    ageColumn,
  ],
  defaults(object) {
    const spec = specOf(object);
    if (isObject(spec.parameters) && (spec.parameters.scope === undefined || spec.parameters.scope === null)) spec.parameters.scope = 'Cluster';
  },
  validate: validateIngressClass,
};

/** The networking.k8s.io group's kinds. */
export const networkingKinds: readonly ResourceDef[] = [ingressClassesKind, ingressesKind, networkPoliciesKind];
