/**
 * The official TypeScript client, `@kubernetes/client-node`, against a real `skiff server`:
 * CRUD through the generated API, and an informer that keeps its cache right across a
 * server-side watch close and across a server restart (which answers its old resourceVersion
 * with 410 Expired, so it must re-list).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { cleanup, portOf, startServer, type TestServer } from './helpers/cluster.ts';
import { apiClient } from './helpers/http.ts';

const NS = 'client-node';

/** Polls `check` until it returns true (at most `ms`). */
async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('@kubernetes/client-node', () => {
  let server: TestServer;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    // Watches end after 2–4 s, so the informer meets several server-side closes.
    server = await startServer({ extraArgs: ['--kube-apiserver-arg', 'min-request-timeout=2'] });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(server.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async () => cleanup(server));

  it('creates, reads, lists, replaces and deletes', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'crud', labels: { t: 'crud' } }, data: { a: '1' } } });
    assert.equal(created.metadata?.name, 'crud');
    assert.ok(created.metadata?.uid);
    const read = await core.readNamespacedConfigMap({ name: 'crud', namespace: NS });
    assert.deepEqual(read.data, { a: '1' });
    const list = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 't=crud' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name), ['crud']);
    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: read });
    assert.deepEqual(replaced.data, { a: '2' });
    // Replacing with the old resourceVersion again is a conflict.
    await assert.rejects(core.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: read }), (e: any) => e.code === 409);
    await core.deleteNamespacedConfigMap({ name: 'crud', namespace: NS });
    await assert.rejects(core.readNamespacedConfigMap({ name: 'crud', namespace: NS }), (e: any) => e.code === 404);
  });

  it('applies a multi-document YAML with KubernetesObjectApi (create, then patch)', async () => {
    const manifest = (image: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: ${NS}
data:
  colour: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: ${NS}
spec:
  replicas: 2
  selector:
    matchLabels: { app: app }
  template:
    metadata:
      labels: { app: app }
    spec:
      containers:
      - name: app
        image: ${image}
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: app
  namespace: ${NS}
spec:
  selector: { app: app }
  ports:
  - port: 80
`;
    const client = k8s.KubernetesObjectApi.makeApiClient(kc);
    // The apply loop of client-node's documentation: read each object, patch it if it exists,
    // create it otherwise.
    const apply = async (text: string) => {
      const out: k8s.KubernetesObject[] = [];
      for (const spec of k8s.loadAllYaml(text) as k8s.KubernetesObject[]) {
        try {
          await client.read(spec as never);
          out.push(await client.patch(spec, undefined, undefined, undefined, undefined, k8s.PatchStrategy.StrategicMergePatch));
        } catch (error: any) {
          if (error.code !== 404) throw error;
          out.push(await client.create(spec));
        }
      }
      return out;
    };
    const created = await apply(manifest('nginx:1.27'));
    assert.deepEqual(created.map((o) => o.kind), ['ConfigMap', 'Deployment', 'Service']);
    const updated = await apply(manifest('nginx:1.28'));
    const deployment = updated[1] as k8s.V1Deployment;
    assert.deepEqual(deployment.spec!.template.spec!.containers.map((c) => c.image), ['nginx:1.28', 'busybox:1.36']);
    assert.equal(deployment.metadata!.generation, 2);
    const service = await core.readNamespacedService({ name: 'app', namespace: NS });
    assert.match(service.spec!.clusterIP!, /^10\.43\./);
  });

  it('keeps an informer right across watch closes and a restart with 410', async () => {
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    const names = () => new Set(informer.list(NS).map((o) => o.metadata!.name!));
    let stopped = false;
    informer.on('error', () => {
      // The documented pattern: restart the informer after an error (e.g. the server went away).
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 300);
    });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'first' } } });
      await eventually(() => names().has('first'), 5000, 'the informer to see "first"');

      // Outlive several server-side watch closes, creating objects in between.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 2500));
        await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `during-${i}` } } });
      }
      await eventually(() => ['during-0', 'during-1', 'during-2'].every((n) => names().has(n)), 8000, 'objects created across watch closes');

      // Restart the server on the same data dir and port. A write elsewhere moves the store's
      // revision past the informer's resourceVersion, so the restarted server's watch cache,
      // which starts at the store's revision, answers the informer's watch with 410 and the
      // informer re-lists.
      await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'elsewhere' } } });
      const port = portOf(server);
      await server.stop();
      server = await startServer({ dataDir: server.dataDir, port, extraArgs: ['--kube-apiserver-arg', 'min-request-timeout=2'] });
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-restart' } } });
      await core.deleteNamespacedConfigMap({ name: 'first', namespace: NS });
      await eventually(() => names().has('after-restart') && !names().has('first'), 15_000, 'the informer to catch up after the restart');
      const seen = [...names()].filter((n) => n === 'first' || n.startsWith('during-') || n === 'after-restart');
      assert.deepEqual(seen.sort(), ['after-restart', 'during-0', 'during-1', 'during-2']);
      // The new server saw the informer list again: its old resourceVersion was answered 410.
      const api = apiClient(server.kubeconfig);
      const metrics = (await api.request('GET', '/metrics')).body;
      api.close();
      const lists = /apiserver_request_total\{verb="LIST",group="",version="v1",resource="configmaps",subresource="",code="200"\} (\d+)/.exec(metrics);
      assert.ok(lists && Number(lists[1]) >= 1, 'the informer re-listed after the restart');
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
