import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

const now = new Date('2024-05-01T12:00:00Z');

function kind(plural: string): ResourceDef {
  const def = builtinKinds.find((d) => d.group === 'networking.k8s.io' && d.plural === plural);
  assert.ok(def, `${plural} is defined`);
  return def;
}

function errors(def: ResourceDef, object: KubeObject, old?: KubeObject): string[] {
  def.defaults?.(object);
  if (!old) def.prepareForCreate?.(object);
  return (def.validate?.(object, old) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

function cells(def: ResourceDef, object: KubeObject): Record<string, unknown> {
  return Object.fromEntries(def.printerColumns.map((c) => [c.name, c.cell(object, now)]));
}

test('networking kinds: short names, scope, subresources and columns as upstream', () => {
  const shape = (plural: string) => {
    const def = kind(plural);
    return [def.shortNames.join(','), def.namespaced, Boolean(def.subresources.status), def.printerColumns.map((c) => c.name).join(' ')];
  };
  assert.deepEqual(shape('networkpolicies'), ['netpol', true, false, 'Pod-Selector Age']);
  assert.deepEqual(shape('ingresses'), ['ing', true, true, 'Class Hosts Address Ports Age']);
  assert.deepEqual(shape('ingressclasses'), ['', false, false, 'Controller Parameters Age']);
});

test('a network policy defaults its port protocols and policy types', () => {
  const policy: KubeObject = {
    metadata: { name: 'np' },
    spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }], egress: [{ to: [{ namespaceSelector: {} }] }] },
  };
  assert.deepEqual(errors(kind('networkpolicies'), policy), []);
  assert.deepEqual(policy.spec, {
    podSelector: {},
    ingress: [{ ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }],
    egress: [{ to: [{ namespaceSelector: {} }] }],
    policyTypes: ['Ingress', 'Egress'],
  });
  const ingressOnly: KubeObject = { metadata: { name: 'deny' }, spec: { podSelector: {} } };
  errors(kind('networkpolicies'), ingressOnly);
  assert.deepEqual(ingressOnly.spec, { podSelector: {}, policyTypes: ['Ingress'] });
});

test('network policy ports, peers and IP blocks are checked with upstream wording', () => {
  assert.deepEqual(
    errors(kind('networkpolicies'), {
      metadata: { name: 'np' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{
          ports: [{ port: 'http', endPort: 90 }, { port: 70000 }, { port: 8000, endPort: 7000, protocol: 'ICMP' }],
          from: [{}, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '11.0.0.0/16', '10.0.0.0/8'] }, podSelector: {} }],
        }],
        egress: [{ to: [{ ipBlock: { cidr: 'fd00::/8', except: ['fd00:1::/32', 'fe00::/16'] } }, { ipBlock: { cidr: '10.0.0.0' } }, { ipBlock: {} }] }],
        policyTypes: ['Ingress', 'Sideways'],
      },
    }),
    [
      'FieldValueInvalid spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
      'FieldValueInvalid spec.ingress[0].ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'FieldValueNotSupported spec.ingress[0].ports[2].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
      'FieldValueInvalid spec.ingress[0].ports[2].endPort: Invalid value: 7000: must be greater than or equal to `port`',
      'FieldValueRequired spec.ingress[0].from[0]: Required value: must specify a peer',
      'FieldValueInvalid spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      'FieldValueInvalid spec.ingress[0].from[1].ipBlock.except[2]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
      'FieldValueForbidden spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
      'FieldValueInvalid spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "fe00::/16": must be a strict subset of `cidr`',
      'FieldValueInvalid spec.egress[0].to[1].ipBlock.cidr: Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'FieldValueRequired spec.egress[0].to[2].ipBlock.cidr: Required value',
      'FieldValueNotSupported spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ],
  );
});

test('IPv6 blocks with embedded IPv4 and compressed zeros compare by their bits', () => {
  const block = (cidr: string, except: string) => ({ metadata: { name: 'np' }, spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr, except: [except] } }] }] } });
  assert.deepEqual(errors(kind('networkpolicies'), block('::ffff:0:0/96', '::ffff:10.0.0.0/104')), []);
  assert.deepEqual(errors(kind('networkpolicies'), block('2001:db8::/32', '2001:db8:0:1::/64')), []);
  assert.equal(errors(kind('networkpolicies'), block('2001:db8::/32', '2001:db9::/48')).length, 1);
  assert.equal(errors(kind('networkpolicies'), block('10.0.0.0/8', 'fd00::/16')).length, 1, 'families differ');
});

test('an ingress starts with an empty load-balancer status; rules, paths and backends are checked', () => {
  const ingress: KubeObject = {
    metadata: { name: 'web' },
    spec: { rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  };
  assert.deepEqual(errors(kind('ingresses'), ingress), []);
  assert.deepEqual(ingress.status, { loadBalancer: {} });

  assert.deepEqual(
    errors(kind('ingresses'), {
      metadata: { name: 'bad', annotations: { 'kubernetes.io/ingress.class': 'nginx' } },
      spec: {
        ingressClassName: 'traefik',
        tls: [{ hosts: ['*.example.com', 'Shop'], secretName: 'tls' }],
        rules: [
          { host: 'a.example.com', http: { paths: [
            { path: 'x/..', pathType: 'Exact', backend: { service: { name: 'Web', port: {} } } },
            { path: '/a', backend: {} },
            { path: '/b', pathType: 'Regex', backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } },
            { path: '/c', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'b' }, service: { name: 'web' } } },
          ] } },
          { host: '10.0.0.1' },
          { host: '*.*.example.com', http: { paths: [] } },
        ],
      },
    }),
    [
      'FieldValueInvalid spec.rules[0].http.paths[0].path: Invalid value: "x/..": must be an absolute path',
      'FieldValueInvalid spec.rules[0].http.paths[0].path: Invalid value: "x/..": cannot end with \'/..\'',
      'FieldValueInvalid spec.rules[0].http.paths[0].backend.service.name: Invalid value: "Web": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
      'FieldValueRequired spec.rules[0].http.paths[0].backend: Required value: port name or number is required',
      'FieldValueRequired spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
      'FieldValueNotSupported spec.rules[0].http.paths[2].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
      'FieldValueInvalid spec.rules[0].http.paths[2].backend: Invalid value: "": cannot set both port name & port number',
      'FieldValueInvalid spec.rules[0].http.paths[3].backend: Invalid value: "": cannot set both resource and service backends',
      'FieldValueInvalid spec.rules[1].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'FieldValueInvalid spec.rules[2].host: Invalid value: "*.*.example.com": a wildcard DNS-1123 subdomain must start with \'*.\', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, \'-\' or \'.\' and end with an alphanumeric character (e.g. \'*.example.com\', regex used for validation is \'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
      'FieldValueRequired spec.rules[2].http.paths: Required value',
      'FieldValueInvalid spec.tls[0].hosts[1]: Invalid value: "Shop": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
      'FieldValueInvalid annotations.kubernetes.io/ingress.class: Invalid value: "nginx": must match `ingressClassName` when both are specified',
    ],
  );
  assert.deepEqual(errors(kind('ingresses'), { metadata: { name: 'empty' }, spec: {} }), [
    'FieldValueInvalid spec: Invalid value: null: either `defaultBackend` or `rules` must be specified',
  ]);
});

test('ingress cells: class, first three hosts, load-balancer addresses and ports', () => {
  const ingress = {
    metadata: { name: 'web', creationTimestamp: '2024-05-01T11:59:00Z' },
    spec: { ingressClassName: 'traefik', tls: [{ hosts: ['a.example.com'] }], rules: [{}, { host: 'a.example.com' }, { host: 'b.example.com' }, { host: 'c.example.com' }, { host: 'd.example.com' }] },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }, { hostname: 'lb.example.com' }, { ip: '10.0.0.10' }, { ip: '10.0.0.9' }] } },
  };
  assert.deepEqual(cells(kind('ingresses'), ingress), {
    'Class': 'traefik',
    'Hosts': 'a.example.com,b.example.com,c.example.com + 2 more...',
    'Address': '10.0.0.10,10.0.0.9,lb.example.com',
    'Ports': '80, 443',
    'Age': '60s',
  });
  assert.deepEqual(cells(kind('ingresses'), { metadata: { name: 'x' }, spec: { defaultBackend: {} } }), {
    Class: '<none>', Hosts: '*', Address: '', Ports: '80', Age: '<unknown>',
  });
});

test('ingress classes: parameters default to cluster scope; the controller is checked and immutable', () => {
  const cls: KubeObject = {
    metadata: { name: 'nginx' },
    spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } },
  };
  assert.deepEqual(errors(kind('ingressclasses'), cls), []);
  assert.equal((cls.spec as { parameters: { scope: string } }).parameters.scope, 'Cluster');
  assert.deepEqual(cells(kind('ingressclasses'), cls), { Controller: 'k8s.io/ingress-nginx', Parameters: 'IngressParameters.k8s.example.com/external-lb', Age: '<unknown>' });

  assert.deepEqual(errors(kind('ingressclasses'), { metadata: { name: 'bad' }, spec: { controller: 'nginx', parameters: { kind: 'X', name: 'y', scope: 'Namespace' } } }), [
    'FieldValueInvalid spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
    'FieldValueRequired spec.parameters.namespace: Required value: `parameters.scope` is set to \'Namespace\'',
  ]);
  assert.deepEqual(errors(kind('ingressclasses'), { metadata: { name: 'c' }, spec: { parameters: { kind: 'X', name: 'y', scope: 'Cluster', namespace: 'ns' } } }), [
    'FieldValueRequired spec.controller: Required value',
    'FieldValueForbidden spec.parameters.namespace: Forbidden: `parameters.scope` is set to \'Cluster\'',
  ]);
  assert.deepEqual(errors(kind('ingressclasses'), { metadata: { name: 'nginx' }, spec: { controller: 'example.com/other' } }, cls), [
    'FieldValueInvalid spec.controller: Invalid value: "example.com/other": field is immutable',
  ]);
});
