import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds, nameValidatorFor } from './index.ts';

function kind(group: string, plural: string): ResourceDef {
  const def = builtinKinds.find((d) => d.group === group && d.plural === plural);
  assert.ok(def, `${group}/${plural} is defined`);
  return def;
}

test('every kind upstream serves in these groups is defined, once', () => {
  const ids = builtinKinds.map((d) => `${d.group || 'core'}/${d.version}/${d.plural}`).sort();
  assert.deepEqual(ids, [
    'apiextensions.k8s.io/v1/customresourcedefinitions',
    'apps/v1/controllerrevisions',
    'apps/v1/daemonsets',
    'apps/v1/deployments',
    'apps/v1/replicasets',
    'apps/v1/statefulsets',
    'autoscaling/v1/horizontalpodautoscalers',
    'autoscaling/v2/horizontalpodautoscalers',
    'batch/v1/cronjobs',
    'batch/v1/jobs',
    'coordination.k8s.io/v1/leases',
    'core/v1/configmaps',
    'core/v1/endpoints',
    'core/v1/events',
    'core/v1/limitranges',
    'core/v1/namespaces',
    'core/v1/nodes',
    'core/v1/persistentvolumeclaims',
    'core/v1/persistentvolumes',
    'core/v1/pods',
    'core/v1/resourcequotas',
    'core/v1/secrets',
    'core/v1/serviceaccounts',
    'core/v1/services',
    'discovery.k8s.io/v1/endpointslices',
    'events.k8s.io/v1/events',
    'networking.k8s.io/v1/ingressclasses',
    'networking.k8s.io/v1/ingresses',
    'networking.k8s.io/v1/networkpolicies',
    'node.k8s.io/v1/runtimeclasses',
    'policy/v1/poddisruptionbudgets',
    'rbac.authorization.k8s.io/v1/clusterrolebindings',
    'rbac.authorization.k8s.io/v1/clusterroles',
    'rbac.authorization.k8s.io/v1/rolebindings',
    'rbac.authorization.k8s.io/v1/roles',
    'scheduling.k8s.io/v1/priorityclasses',
    'storage.k8s.io/v1/storageclasses',
  ]);
});

test('plurals, kinds and short names are unique within a group version; across groups only "ev" repeats, as upstream', () => {
  const groupVersions = new Map<string, ResourceDef[]>();
  for (const def of builtinKinds) {
    const gv = `${def.group}/${def.version}`;
    groupVersions.set(gv, [...(groupVersions.get(gv) ?? []), def]);
  }
  for (const [gv, defs] of groupVersions) {
    for (const field of ['plural', 'singular', 'kind'] as const) {
      const values = defs.map((d) => d[field]);
      assert.equal(new Set(values).size, values.length, `${field} unique in "${gv}"`);
    }
    const shortNames = defs.flatMap((d) => d.shortNames);
    assert.equal(new Set(shortNames).size, shortNames.length, `short names unique in "${gv}"`);
  }
  // The versions of one kind (autoscaling v1 and v2) are one resource with the same names.
  const byResource = new Map<string, ResourceDef>();
  for (const def of builtinKinds) {
    const first = byResource.get(`${def.group}/${def.plural}`);
    if (!first) byResource.set(`${def.group}/${def.plural}`, def);
    else assert.deepEqual([def.kind, def.singular, def.shortNames, def.namespaced], [first.kind, first.singular, first.shortNames, first.namespaced]);
  }
  const all = [...byResource.values()].flatMap((d) => d.shortNames);
  const repeated = [...new Set(all.filter((n, i) => all.indexOf(n) !== i))];
  assert.deepEqual(repeated, ['ev']);
  // A short name must never shadow another kind's plural or singular.
  const names = new Set(builtinKinds.flatMap((d) => [d.plural, d.singular]));
  for (const n of all) assert.ok(!names.has(n), `short name ${n} is not also a resource name`);
});

test('short names and the "all" category are upstream\'s', () => {
  const short = Object.fromEntries(builtinKinds.map((d) => [`${d.group}/${d.plural}`, d.shortNames.join(',')]));
  assert.deepEqual(short, {
    '/configmaps': 'cm',
    '/endpoints': 'ep',
    '/events': 'ev',
    '/limitranges': 'limits',
    '/namespaces': 'ns',
    '/nodes': 'no',
    '/persistentvolumeclaims': 'pvc',
    '/persistentvolumes': 'pv',
    '/pods': 'po',
    '/resourcequotas': 'quota',
    '/secrets': '',
    '/serviceaccounts': 'sa',
    '/services': 'svc',
    'apps/controllerrevisions': '',
    'apps/daemonsets': 'ds',
    'apps/deployments': 'deploy',
    'apps/replicasets': 'rs',
    'apps/statefulsets': 'sts',
    'batch/cronjobs': 'cj',
    'batch/jobs': '',
    'coordination.k8s.io/leases': '',
    'discovery.k8s.io/endpointslices': '',
    'events.k8s.io/events': 'ev',
    'autoscaling/horizontalpodautoscalers': 'hpa',
    'networking.k8s.io/ingressclasses': '',
    'networking.k8s.io/ingresses': 'ing',
    'networking.k8s.io/networkpolicies': 'netpol',
    'node.k8s.io/runtimeclasses': '',
    'policy/poddisruptionbudgets': 'pdb',
    'rbac.authorization.k8s.io/clusterrolebindings': '',
    'rbac.authorization.k8s.io/clusterroles': '',
    'rbac.authorization.k8s.io/rolebindings': '',
    'rbac.authorization.k8s.io/roles': '',
    'scheduling.k8s.io/priorityclasses': 'pc',
    'storage.k8s.io/storageclasses': 'sc',
    'apiextensions.k8s.io/customresourcedefinitions': 'crd,crds',
  });
  const inAll = [...new Set(builtinKinds.filter((d) => d.categories.includes('all')).map((d) => d.plural))].sort();
  assert.deepEqual(inAll, [
    'cronjobs', 'daemonsets', 'deployments', 'horizontalpodautoscalers', 'jobs', 'pods', 'replicasets', 'services', 'statefulsets',
  ]);
});

test('cluster-scoped kinds are namespaces, nodes, persistent volumes, cluster RBAC and the classes', () => {
  assert.deepEqual(builtinKinds.filter((d) => !d.namespaced).map((d) => d.plural).sort(), [
    'clusterrolebindings', 'clusterroles', 'customresourcedefinitions', 'ingressclasses', 'namespaces', 'nodes', 'persistentvolumes', 'priorityclasses',
    'runtimeclasses', 'storageclasses',
  ]);
});

test('scale subresources read replicas and print the selector', () => {
  const scaled = builtinKinds.filter((d) => d.subresources.scale).map((d) => d.plural).sort();
  assert.deepEqual(scaled, ['deployments', 'replicasets', 'statefulsets']);
  const scale = kind('apps', 'deployments').subresources.scale!;
  const object = {
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] } },
    status: { replicas: 2 },
  };
  assert.equal(scale.specReplicas(object), 1, 'unset replicas read as the default, 1');
  assert.equal(scale.statusReplicas(object), 2);
  assert.equal(scale.statusReplicas({ metadata: {} }), 0);
  assert.equal(scale.selector(object), 'app=web,tier in (a,b)');
  const updated = scale.setSpecReplicas(object, 5);
  assert.equal(scale.specReplicas(updated), 5);
  assert.equal(scale.specReplicas(object), 1, 'the original is not modified');
});

test('every kind prints an age (or creation time) column, and wide columns come after the default ones where upstream has them', () => {
  for (const def of builtinKinds) {
    const names = def.printerColumns.map((c) => c.name);
    assert.ok(names.includes('Age') || names.includes('Created At') || names.includes('Last Seen'), `${def.plural}: ${names.join(',')}`);
  }
  const columns = (group: string, plural: string) =>
    kind(group, plural).printerColumns.map((c) => (c.priority === 1 ? `(${c.name})` : c.name)).join(' ');
  assert.equal(columns('', 'pods'), 'Ready Status Restarts Age (IP) (Node) (Nominated Node) (Readiness Gates)');
  assert.equal(columns('', 'services'), 'Type Cluster-IP External-IP Port(s) Age (Selector)');
  assert.equal(columns('', 'nodes'), 'Status Roles Age Version (Internal-IP) (External-IP) (OS-Image) (Kernel-Version) (Container-Runtime)');
  assert.equal(columns('apps', 'deployments'), 'Ready Up-to-date Available Age (Containers) (Images) (Selector)');
  assert.equal(columns('apps', 'daemonsets'), 'Desired Current Ready Up-to-date Available Node Selector Age (Containers) (Images) (Selector)');
  assert.equal(columns('batch', 'jobs'), 'Status Completions Duration Age (Containers) (Images) (Selector)');
  assert.equal(columns('batch', 'cronjobs'), 'Schedule Timezone Suspend Active Last Schedule Age (Containers) (Images) (Selector)');
  assert.equal(columns('', 'events'), 'Last Seen Type Reason Object (Subobject) (Source) Message (First Seen) (Count)');
});

test('table cells read like kubectl\'s', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const cells = (group: string, plural: string, object: KubeObject) =>
    Object.fromEntries(kind(group, plural).printerColumns.map((c) => [c.name, c.cell(object, now)]));
  assert.deepEqual(cells('', 'services', {
    metadata: { name: 'web', creationTimestamp: '2024-05-01T11:00:00Z' },
    spec: { type: 'NodePort', clusterIPs: ['10.43.0.5'], selector: { b: '2', a: '1' }, ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] },
  }), { 'Type': 'NodePort', 'Cluster-IP': '10.43.0.5', 'External-IP': '<none>', 'Port(s)': '80:30080/TCP,53/UDP', 'Age': '60m', 'Selector': 'a=1,b=2' });
  assert.deepEqual(cells('', 'nodes', {
    metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: { unschedulable: true },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' }, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
  }), {
    'Status': 'Ready,SchedulingDisabled', 'Roles': 'control-plane', 'Age': '<unknown>', 'Version': 'v1.32.0',
    'Internal-IP': '10.0.0.1', 'External-IP': '<none>', 'OS-Image': '<unknown>', 'Kernel-Version': '<unknown>', 'Container-Runtime': '<unknown>',
  });
  assert.deepEqual(cells('batch', 'jobs', {
    metadata: { name: 'pi' },
    spec: { completions: 3, template: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } }, selector: { matchLabels: { u: '1' } } },
    status: { succeeded: 1, startTime: '2024-05-01T11:58:30Z' },
  }), { 'Status': 'Running', 'Completions': '1/3', 'Duration': '90s', 'Age': '<unknown>', 'Containers': 'a,b', 'Images': 'x,y', 'Selector': 'u=1' });
  assert.deepEqual(cells('', 'events', {
    metadata: { name: 'e' },
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled', type: 'Normal', message: 'Pulled image  ', count: 3,
    firstTimestamp: '2024-05-01T11:00:00Z', lastTimestamp: '2024-05-01T11:59:00Z',
    source: { component: 'kubelet', host: 'n1' },
  }), {
    'Last Seen': '60s', 'Type': 'Normal', 'Reason': 'Pulled', 'Object': 'pod/web-1', 'Subobject': 'spec.containers{web}',
    'Source': 'kubelet, n1', 'Message': 'Pulled image', 'First Seen': '60m', 'Count': 3,
  });
  assert.deepEqual(cells('discovery.k8s.io', 'endpointslices', {
    metadata: { name: 's' }, addressType: 'IPv4',
    ports: [{ port: 80 }, { name: 'x' }],
    endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }, { addresses: ['10.0.0.4', '10.0.0.5'] }],
  }), { 'AddressType': 'IPv4', 'Ports': '80,x', 'Endpoints': '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', 'Age': '<unknown>' });
});

test('field selectors are upstream\'s per kind', () => {
  const selectable = (group: string, plural: string) => Object.keys(kind(group, plural).fieldSelectors ?? {}).sort();
  assert.deepEqual(selectable('', 'pods'), [
    'spec.hostNetwork', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName',
    'status.nominatedNodeName', 'status.phase', 'status.podIP',
  ]);
  assert.deepEqual(selectable('', 'events'), [
    'involvedObject.apiVersion', 'involvedObject.fieldPath', 'involvedObject.kind', 'involvedObject.name',
    'involvedObject.namespace', 'involvedObject.resourceVersion', 'involvedObject.uid',
    'reason', 'reportingComponent', 'source', 'type',
  ]);
  assert.deepEqual(selectable('', 'secrets'), ['type']);
  assert.deepEqual(selectable('', 'nodes'), ['spec.unschedulable']);
  const pod = { metadata: { name: 'p' }, spec: { nodeName: 'n1' }, status: { phase: 'Running', podIPs: [{ ip: '10.42.0.7' }] } };
  assert.equal(kind('', 'pods').fieldSelectors!['spec.nodeName']!(pod), 'n1');
  assert.equal(kind('', 'pods').fieldSelectors!['status.podIP']!(pod), '10.42.0.7');
  assert.equal(kind('', 'pods').fieldSelectors!['spec.hostNetwork']!(pod), 'false');
});

test('events expire after an hour', () => {
  assert.equal(kind('', 'events').ttlSeconds, 3600);
  assert.equal(kind('events.k8s.io', 'events').ttlSeconds, 3600);
  assert.deepEqual(builtinKinds.filter((d) => d.ttlSeconds !== undefined).map((d) => `${d.group}/${d.plural}`), ['/events', 'events.k8s.io/events']);
});

test('names follow each kind\'s rule', () => {
  const check = (group: string, plural: string, name: string) => nameValidatorFor(kind(group, plural))(name);
  assert.deepEqual(check('', 'namespaces', 'team-a'), []);
  assert.equal(check('', 'namespaces', 'team.a').length, 1, 'namespaces are labels: no dots');
  assert.deepEqual(check('', 'configmaps', 'app.config'), [], 'most kinds allow subdomains');
  assert.equal(check('', 'services', '1web').length, 1, 'services must start with a letter');
  assert.deepEqual(check('', 'services', 'web-1'), []);
  assert.equal(check('apps', 'statefulsets', 'db.primary').length, 1);
  assert.deepEqual(check('batch', 'cronjobs', 'x'.repeat(52)), []);
  assert.deepEqual(check('batch', 'cronjobs', 'x'.repeat(53)), ['must be no more than 52 characters']);
  assert.deepEqual(check('', 'pods', '..'), ["may not be '..'"]);
  assert.ok(check('', 'pods', 'Web').length > 0);
});
