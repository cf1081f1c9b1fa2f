/** The discovery.k8s.io/v1 EndpointSlice kind. */
import { isIPv4, isIPv6 } from 'node:net';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { dns1123LabelErrors, dns1123SubdomainErrors, duplicate, immutable, invalid, notSupported, required } from '../validation/index.ts';
import { ageColumn, column, listWithMore } from './columns.ts';
import { PORT_PROTOCOLS, arrayOf, at, objectsOf, portNumErrors, str } from './checks.ts';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ADDRESSES = 100;
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 20000;

function eps(o: KubeObject): EndpointSlice {
  return o as unknown as EndpointSlice;
}

function addressErrors(type: string, address: string): string[] {
  switch (type) {
    case 'IPv4':
      return isIPv4(address) ? [] : ['must be a valid IPv4 address'];
    case 'IPv6':
      return isIPv6(address) ? [] : ['must be a valid IPv6 address'];
    case 'FQDN':
      return dns1123SubdomainErrors(address);
    default:
      return [];
  }
}

function validateEndpointSlice(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const type = str(object.addressType);
  if (type === '') errors.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errors.push(notSupported('addressType', type, ADDRESS_TYPES));

  const endpoints = objectsOf(object.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) {
    errors.push({ type: 'FieldValueTooMany', field: 'endpoints', message: `Too many: ${endpoints.length}: must have at most ${MAX_ENDPOINTS} items` });
  }
  for (const [i, endpoint] of endpoints) {
    const p = at('endpoints', i);
    const addresses = arrayOf(endpoint.addresses);
    if (addresses.length === 0) errors.push(required(at(p, 'addresses'), 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) {
      errors.push({ type: 'FieldValueTooMany', field: at(p, 'addresses'), message: `Too many: ${addresses.length}: must have at most ${MAX_ADDRESSES} items` });
    }
    addresses.forEach((address, j) => {
      for (const m of addressErrors(type, str(address))) errors.push(invalid(at(at(p, 'addresses'), j), address, m));
    });
    const nodeName = str(endpoint.nodeName);
    if (nodeName !== '') for (const m of dns1123SubdomainErrors(nodeName)) errors.push(invalid(at(p, 'nodeName'), nodeName, m));
  }

  const ports = objectsOf(object.ports);
  if (ports.length > MAX_PORTS) {
    errors.push({ type: 'FieldValueTooMany', field: 'ports', message: `Too many: ${ports.length}: must have at most ${MAX_PORTS} items` });
  }
  const names = new Set<string>();
  for (const [i, port] of ports) {
    const p = at('ports', i);
    const name = str(port.name);
    if (name !== '') for (const m of dns1123LabelErrors(name)) errors.push(invalid(at(p, 'name'), name, m));
    if (names.has(name)) errors.push(duplicate(at(p, 'name'), name));
    names.add(name);
    if (port.port !== undefined && port.port !== null) {
      for (const m of portNumErrors(port.port as number)) errors.push(invalid(at(p, 'port'), port.port, m));
    }
    const protocol = str(port.protocol);
    if (protocol === '') errors.push(required(at(p, 'protocol')));
    else if (!(PORT_PROTOCOLS as readonly string[]).includes(protocol)) errors.push(notSupported(at(p, 'protocol'), protocol, [...PORT_PROTOCOLS]));
  }

  if (old && str(old.addressType) !== type) errors.push(immutable('addressType', type));
  return errors;
}

/** The PORTS cell: port numbers (or names, or `*`), first three then `+ N more...`. */
function portsCell(o: KubeObject): string {
  const ports = eps(o).ports ?? [];
  const list = ports.map((p) => (typeof p.port === 'number' ? String(p.port) : p.name || '*'));
  return listWithMore(list, list.length, '<unset>');
}

/** The ENDPOINTS cell: addresses, first three then `+ N more...`. */
function endpointsCell(o: KubeObject): string {
  const addresses = (eps(o).endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return listWithMore(addresses, addresses.length, '<unset>');
}

/** EndpointSlices: the service endpoints kube-proxy and DNS read. */
const endpointSlicesKind: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: true,
  printerColumns: [
    column('AddressType', 'string', 'The type of the slice\'s addresses.', (o) => eps(o).addressType ?? ''),
    column('Ports', 'string', 'The ports the slice\'s endpoints expose.', portsCell),
    column('Endpoints', 'string', 'The slice\'s endpoint addresses.', endpointsCell),
    ageColumn,
  ],
  defaults(object) {
    for (const [, port] of objectsOf(object.ports)) {
      if (port.name === undefined || port.name === null) port.name = '';
      if (!port.protocol) port.protocol = 'TCP';
    }
  },
  validate: validateEndpointSlice,
};

/** The discovery.k8s.io group's kinds. */
export const discoveryKinds: readonly ResourceDef[] = [endpointSlicesKind];
