/**
 * The real kubectl against a real `skiff server`: the everyday commands of a Kubernetes user,
 * with the machine's kubectl (1.32) and with kubectl 1.27, asserting what the user sees.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, kubectlBinary, startServer, type TestServer } from './helpers/cluster.ts';

const VERSIONS = [undefined, '1.27'] as const;

/** A namespace manifest (kubectl's `create namespace` generator sends protobuf: see #3). */
const namespace = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
/** A ConfigMap manifest with the given data. */
const configMapYaml = (ns: string, name: string, data: Record<string, string>) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

const manifest = (ns: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
  labels: { app: web, tier: front }
data:
  colour: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: { app: web }
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: standalone
  namespace: ${ns}
  labels: { app: solo }
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
`;

for (const version of VERSIONS) {
  const label = version ? `kubectl ${version}` : 'kubectl (default, 1.32)';
  describe(label, () => {
    let server: TestServer;
    const k = (args: string[], input?: string) =>
      kubectl(server, args, { ...(version ? { version } : {}), ...(input !== undefined ? { input } : {}) });
    const ok = async (args: string[], input?: string) => {
      const r = await k(args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    };
    const ns = 'shop';

    before(async () => {
      server = await startServer();
      await ok(['create', '-f', '-'], namespace(ns));
      await ok(['create', '-f', '-'], manifest(ns));
    });
    after(async () => cleanup(server));

    it('lists API resources with short names and groups', async () => {
      const out = await ok(['api-resources']);
      assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
      assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      assert.match(out, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
      assert.match(out, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
      const namespaced = await ok(['api-resources', '--namespaced=false', '-o', 'name']);
      assert.match(namespaced, /^nodes$/m);
      assert.doesNotMatch(namespaced, /^pods$/m);
    });

    it('gets every kind across all namespaces', async () => {
      const kinds = (await ok(['api-resources', '--verbs=list', '-o', 'name'])).trim().split('\n');
      assert.ok(kinds.length >= 22, `only ${kinds.length} listable kinds`);
      const table = await ok(['get', kinds.join(','), '-A']);
      assert.match(table, /^default\s+service\/kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+/m);
      assert.match(table, /^shop\s+deployment\.apps\/web\s+0\/2\s+/m);
      for (const kind of kinds) {
        const r = await k(['get', kind, '-A', '-o', 'wide']);
        assert.equal(r.code, 0, `kubectl get ${kind} -A -o wide: ${r.stderr}`);
      }
      const all = await ok(['get', 'all', '-n', ns]);
      assert.match(all, /^pod\/standalone\s+/m);
      assert.match(all, /^service\/web\s+ClusterIP\s+/m);
      assert.match(all, /^deployment\.apps\/web\s+/m);
    });

    it('gets objects in every output format', async () => {
      const table = await ok(['get', 'deployments', '-n', ns]);
      assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
      // The controller created both pods (UP-TO-DATE 2); with no node, none is ready.
      assert.match(table, /^web\s+0\/2\s+2\s+0\s+\d+s$/m);
      const pods = await ok(['get', 'pods', '-n', ns]);
      assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      assert.match(pods, /^standalone\s+0\/1\s+Pending\s+0\s+\d+s$/m);
      const wide = await ok(['get', 'pods', '-n', ns, '-o', 'wide']);
      assert.match(wide, /NOMINATED NODE\s+READINESS GATES/);
      const svc = await ok(['get', 'svc', 'web', '-n', ns]);
      assert.match(svc, /^web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);
      const yaml = await ok(['get', 'configmap', 'settings', '-n', ns, '-o', 'yaml']);
      assert.match(yaml, /^  colour: blue$/m);
      assert.match(yaml, /^  resourceVersion: "\d+"$/m);
      const json = JSON.parse(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'json']));
      assert.equal(json.spec.strategy.type, 'RollingUpdate');
      assert.equal(json.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
      assert.equal(json.metadata.generation, 1);
      assert.equal(await ok(['get', 'cm', '-n', ns, '-o', 'name', '-l', 'app=web']), 'configmap/settings\n');
      assert.equal(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '2');
      const custom = await ok(['get', 'pods', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image']);
      assert.match(custom, /^standalone\s+busybox:1\.36$/m);
      const labels = await ok(['get', 'cm', 'settings', '-n', ns, '--show-labels']);
      assert.match(labels, /app=web,tier=front/);
    });

    it('lists across namespaces, by label and sorted', async () => {
      await ok(['create', '-f', '-'], namespace('other'));
      await ok(['create', '-f', '-'], configMapYaml('other', 'zeta', { k: 'v' }));
      await ok(['create', '-f', '-'], configMapYaml('other', 'alpha', { k: 'v', k2: 'v2' }));
      const all = await ok(['get', 'configmaps', '-A']);
      assert.match(all, /^NAMESPACE\s+NAME\s+DATA\s+AGE$/m);
      assert.match(all, /^other\s+alpha\s+2\s+/m);
      assert.match(all, /^shop\s+settings\s+1\s+/m);
      const sorted = await ok(['get', 'cm', '-n', 'other', '--sort-by=.metadata.name', '-o', 'name']);
      assert.ok(sorted.indexOf('alpha') < sorted.indexOf('zeta'), sorted);
      const byData = await ok(['get', 'cm', '-A', '-l', 'app=web', '-o', 'name']);
      assert.equal(byData.trim(), 'configmap/settings');
      const selected = await ok(['get', 'cm', '-A', '-l', 'app in (web,api),tier!=back', '-o', 'name']);
      assert.equal(selected.trim(), 'configmap/settings');
      const nothing = await k(['get', 'cm', '-n', 'other', '-l', 'app=none']);
      assert.equal(nothing.code, 0);
      assert.match(nothing.stderr, /No resources found in other namespace\./);
      await ok(['delete', 'namespace', 'other']);
    });

    it('says what is wrong, as kubectl users know it', async () => {
      const missing = await k(['get', 'pod', 'nope', '-n', ns]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /Error from server \(NotFound\): pods "nope" not found/);
      const dup = await k(['create', '-f', '-'], configMapYaml(ns, 'settings', { a: 'b' }));
      assert.match(dup.stderr, /Error from server \(AlreadyExists\): error when creating "STDIN": configmaps "settings" already exists/);
      const invalid = await k(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: shop\n');
      assert.match(invalid.stderr, /The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
      const unknown = await k(['get', 'widgets']);
      assert.match(unknown.stderr, /the server doesn't have a resource type "widgets"/);
    });

    it('dry runs on the server without storing anything', async () => {
      const created = await ok(['create', '-f', '-', '--dry-run=server'], configMapYaml(ns, 'dry', { a: 'b' }));
      assert.match(created, /configmap\/dry created \(server dry run\)/);
      assert.notEqual((await k(['get', 'cm', 'dry', '-n', ns])).code, 0);
      const invalid = await k(['create', '-f', '-', '--dry-run=server'], configMapYaml(ns, 'Dry_Bad', {}));
      assert.match(invalid.stderr, /is invalid/);
      await ok(['delete', 'cm', 'settings', '-n', ns, '--dry-run=server']);
      await ok(['get', 'cm', 'settings', '-n', ns]);
      await ok(['patch', 'cm', 'settings', '-n', ns, '--type', 'merge', '-p', '{"data":{"dry":"x"}}', '--dry-run=server']);
      assert.equal(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.data.dry}']), '');
    });

    it('replaces, and refuses a replace with a stale resourceVersion', async () => {
      const current = await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'json']);
      const edited = JSON.parse(current);
      edited.data.colour = 'green';
      await ok(['replace', '-f', '-'], JSON.stringify(edited));
      edited.data.colour = 'red';
      const stale = await k(['replace', '-f', '-'], JSON.stringify(edited));
      assert.notEqual(stale.code, 0);
      assert.match(stale.stderr, /Error from server \(Conflict\).*the object has been modified; please apply your changes to the latest version and try again/);
      assert.equal(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.data.colour}']), 'green');
      // Replacing a Service from a manifest without its ClusterIP keeps the allocated address.
      const ip = await ok(['get', 'svc', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']);
      const service = manifest(ns).split('---\n')[2]!;
      await ok(['replace', '-f', '-'], service.replace('port: 80\n', 'port: 80\n    name: http\n'));
      assert.equal(await ok(['get', 'svc', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}']), ip);
    });

    it('patches with merge and JSON patches', async () => {
      await ok(['patch', 'cm', 'settings', '-n', ns, '--type', 'merge', '-p', '{"data":{"size":"L"}}']);
      await ok(['patch', 'cm', 'settings', '-n', ns, '--type', 'json', '-p', '[{"op":"replace","path":"/data/colour","value":"teal"}]']);
      const data = JSON.parse(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.data}']));
      assert.deepEqual(data, { colour: 'teal', size: 'L' });
      const bad = await k(['patch', 'cm', 'settings', '-n', ns, '--type', 'json', '-p', '[{"op":"remove","path":"/data/nope"}]']);
      assert.notEqual(bad.code, 0);
      const spec = await ok(['patch', 'deploy', 'web', '-n', ns, '--type', 'merge', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}']);
      assert.match(spec, /deployment.apps\/web patched/);
      assert.equal(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.metadata.generation}']), '2');
    });

    it('labels and annotates: add, overwrite, remove', async () => {
      await ok(['label', 'cm', 'settings', '-n', ns, 'env=prod']);
      const clash = await k(['label', 'cm', 'settings', '-n', ns, 'env=dev']);
      assert.notEqual(clash.code, 0);
      assert.match(clash.stderr, /already has a value \(prod\), and --overwrite is false/);
      await ok(['label', 'cm', 'settings', '-n', ns, 'env=dev', '--overwrite']);
      await ok(['label', 'cm', 'settings', '-n', ns, 'tier-']);
      const labels = JSON.parse(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.metadata.labels}']));
      assert.deepEqual(labels, { app: 'web', env: 'dev' });
      await ok(['annotate', 'cm', 'settings', '-n', ns, 'owner=team-a']);
      await ok(['annotate', 'cm', 'settings', '-n', ns, 'owner=team-b', '--overwrite']);
      assert.equal(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.metadata.annotations.owner}']), 'team-b');
      await ok(['annotate', 'cm', 'settings', '-n', ns, 'owner-']);
      assert.equal(await ok(['get', 'cm', 'settings', '-n', ns, '-o', 'jsonpath={.metadata.annotations.owner}']), '');
    });

    it('scales through the scale subresource', async () => {
      assert.match(await ok(['scale', 'deployment', 'web', '-n', ns, '--replicas=5']), /deployment.apps\/web scaled/);
      assert.equal(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}']), '5');
      const precondition = await k(['scale', 'deployment', 'web', '-n', ns, '--replicas=1', '--current-replicas=3']);
      assert.notEqual(precondition.code, 0);
    });

    it('watches: get -w sees changes arrive', async () => {
      const child = spawn(kubectlBinary(version), ['--kubeconfig', server.kubeconfig, '--cache-dir', join(dirname(server.kubeconfig), '.kube-cache'), 'get', 'cm', '-n', ns, '-w', '--output-watch-events']);
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      try {
        const deadline = Date.now() + 10_000;
        while (!/settings/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await ok(['create', '-f', '-'], configMapYaml(ns, 'watched', { a: 'b' }));
        await ok(['delete', 'cm', 'watched', '-n', ns]);
        while (!/DELETED\s+watched/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.match(out, /ADDED\s+settings/);
        assert.match(out, /ADDED\s+watched/);
        assert.match(out, /DELETED\s+watched/);
      } finally {
        child.kill();
      }
    });

    it('deletes and waits; deleting a namespace deletes its contents', async () => {
      assert.match(await ok(['delete', 'pod', 'standalone', '-n', ns, '--wait']), /pod "standalone" deleted/);
      assert.notEqual((await k(['get', 'pod', 'standalone', '-n', ns])).code, 0);
      await ok(['create', '-f', '-'], namespace('doomed'));
      await ok(['create', '-f', '-'], configMapYaml('doomed', 'a', { k: 'v' }));
      await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'doomed' }, stringData: { k: 'v' } }));
      assert.match(await ok(['delete', 'namespace', 'doomed', '--wait', '--timeout=30s']), /namespace "doomed" deleted/);
      assert.notEqual((await k(['get', 'namespace', 'doomed'])).code, 0);
      const leftovers = await k(['get', 'configmaps,secrets', '-n', 'doomed', '-o', 'name']);
      assert.equal(leftovers.stdout, '');
    });
  });
}
