/**
 * The client library against a real `skiff server` over HTTPS: the typed client, errors as
 * Status, informers (sync, events, listers, indexes, resuming after a server restart with a
 * re-list), the event recorder's aggregation, and pods/binding as a scheduler uses it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiError, Client, EventRecorder, HttpTransport, Informer, kinds } from '../src/client/index.ts';
import { cleanup, startServer, portOf, type TestServer } from './helpers/cluster.ts';

let server: TestServer;
let transport: HttpTransport;
let client: Client;

before(async () => {
  server = await startServer();
  transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'client-library-test' });
  client = new Client(transport);
});

after(async () => {
  transport?.close();
  await cleanup(server);
});

/** Waits until `check` passes (polling every 20 ms, 10 s at most). */
async function eventually(check: () => void, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

test('the typed client creates, reads, updates, patches and deletes, and errors carry the Status', async () => {
  const configMaps = client.resource(kinds.configMaps);
  const created = await configMaps.create({ metadata: { name: 'one', namespace: 'default' }, data: { a: '1' } });
  assert.equal(created.kind, 'ConfigMap');
  assert.match(created.metadata!.resourceVersion!, /^\d+$/);
  const got = await configMaps.get('default', 'one');
  assert.deepEqual(got.data, { a: '1' });
  const updated = await configMaps.update({ ...got, data: { a: '2' } });
  assert.equal(updated.data!.a, '2');
  // A stale resourceVersion is a 409 Conflict.
  await assert.rejects(configMaps.update({ ...got, data: { a: '3' } }), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'Conflict');
  const patched = await configMaps.patch('default', 'one', { data: { b: 'x' } });
  assert.deepEqual(patched.data, { a: '2', b: 'x' });
  const applied = await configMaps.patch('default', 'one', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { c: 'y' } }, { type: 'apply', fieldManager: 'me' });
  assert.equal(applied.data!.c, 'y');
  assert.ok(applied.metadata!.managedFields!.some((f) => f.manager === 'me' && f.operation === 'Apply'));
  await assert.rejects(configMaps.create({ metadata: { name: 'one', namespace: 'default' } }), (e: unknown) => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists');
  await configMaps.delete('default', 'one');
  assert.equal(await configMaps.find('default', 'one'), undefined);
  await assert.rejects(configMaps.get('default', 'one'), (e: unknown) => e instanceof ApiError && e.code === 404 && e.reason === 'NotFound');
  // The user agent names the field manager of writes that give none.
  const other = await configMaps.create({ metadata: { name: 'by-agent', namespace: 'default' }, data: { k: 'v' } });
  assert.equal(other.metadata!.managedFields![0]!.manager, 'client-library-test');
});

test('an informer lists, then follows changes; its lister and indexes answer from the cache', async () => {
  const configMaps = client.resource(kinds.configMaps);
  await client.resource(kinds.namespaces).create({ metadata: { name: 'informed' } });
  for (const n of [1, 2, 3]) await configMaps.create({ metadata: { name: `cm-${n}`, namespace: 'informed', labels: { n: String(n), team: n < 3 ? 'a' : 'b' } } });
  const informer = new Informer(configMaps, { namespace: 'informed', pageSize: 2, indexers: { team: (o) => [o.metadata?.labels?.team ?? ''] } });
  const seen: string[] = [];
  informer.addHandler({
    add: (o) => seen.push(`add ${o.metadata!.name}`),
    update: (old, o) => seen.push(`update ${o.metadata!.name} ${old.data?.v ?? '-'}→${o.data?.v ?? '-'}`),
    delete: (o) => seen.push(`delete ${o.metadata!.name}`),
  });
  await informer.start();
  try {
    assert.ok(informer.synced);
    // Paged list (page size 2), so three objects came in two pages from one snapshot.
    assert.deepEqual(seen.sort(), ['add cm-1', 'add cm-2', 'add cm-3']);
    assert.equal(informer.get('informed', 'cm-2')?.kind, 'ConfigMap', 'listed items get their kind');
    assert.deepEqual(informer.byIndex('team', 'a').map((o) => o.metadata!.name).sort(), ['cm-1', 'cm-2']);
    assert.deepEqual(informer.list('informed', { matchLabels: { n: '3' } }).map((o) => o.metadata!.name), ['cm-3']);
    seen.length = 0;
    await configMaps.patch('informed', 'cm-1', { data: { v: 'x' } });
    await configMaps.patch('informed', 'cm-3', { metadata: { labels: { team: 'a' } } });
    await configMaps.delete('informed', 'cm-2');
    await configMaps.create({ metadata: { name: 'cm-4', namespace: 'informed' } });
    await eventually(() => assert.equal(seen.length, 4), 'four events');
    assert.deepEqual(seen, ['update cm-1 -→x', 'update cm-3 -→-', 'delete cm-2', 'add cm-4']);
    assert.deepEqual(informer.byIndex('team', 'a').map((o) => o.metadata!.name).sort(), ['cm-1', 'cm-3'], 'the index follows label changes');
    assert.deepEqual(informer.byIndex('team', 'b'), []);
    // A handler added late hears of everything already cached.
    const late: string[] = [];
    informer.addHandler({ add: (o) => late.push(o.metadata!.name!) });
    assert.deepEqual(late.sort(), ['cm-1', 'cm-3', 'cm-4']);
  } finally {
    informer.stop();
  }
});

test('an informer survives a server restart, and a re-list reports what was deleted meanwhile', async () => {
  const local = await startServer();
  const remote = HttpTransport.fromKubeconfig(local.kubeconfig);
  let restarted: TestServer | undefined;
  try {
    const c = new Client(remote);
    const secrets = c.resource(kinds.secrets);
    await secrets.create({ metadata: { name: 'keep', namespace: 'default' } });
    await secrets.create({ metadata: { name: 'doomed', namespace: 'default' } });
    const informer = new Informer(secrets, { namespace: 'default', onError: () => undefined });
    const deleted: string[] = [];
    informer.addHandler({ delete: (o) => deleted.push(o.metadata!.name!) });
    await informer.start();
    try {
      await local.stop();
      // While the server is down, another writer deletes one and adds one: the informer's
      // watch cannot have seen it. Starting the server on the same dir and port resumes.
      restarted = await startServer({ dataDir: local.dataDir, port: portOf(local) });
      const fresh = HttpTransport.fromKubeconfig(restarted.kubeconfig);
      const s2 = new Client(fresh).resource(kinds.secrets);
      await s2.delete('default', 'doomed');
      await s2.create({ metadata: { name: 'new', namespace: 'default' } });
      fresh.close();
      await eventually(() => {
        assert.equal(informer.get('default', 'doomed'), undefined);
        assert.ok(informer.get('default', 'new'));
        assert.ok(informer.get('default', 'keep'));
      }, 'the informer to catch up after the restart');
      assert.deepEqual(deleted, ['doomed']);
    } finally {
      informer.stop();
    }
  } finally {
    remote.close();
    if (restarted) await cleanup(restarted);
    else await cleanup(local);
  }
});

test('the event recorder aggregates repeats into one Event with a count', async () => {
  const recorder = new EventRecorder(client, { component: 'test-controller' });
  const cm = await client.resource(kinds.configMaps).create({ metadata: { name: 'noisy', namespace: 'default' } });
  recorder.event(cm, 'Warning', 'Flapping', 'it flapped');
  await recorder.flush();
  recorder.event(cm, 'Warning', 'Flapping', 'it flapped');
  recorder.event(cm, 'Normal', 'Calm', 'all good');
  await recorder.flush();
  recorder.event(cm, 'Warning', 'Flapping', 'it flapped');
  await recorder.flush();
  const list = await client.resource(kinds.events).list({ namespace: 'default', fieldSelector: 'involvedObject.name=noisy' });
  const byReason = Object.fromEntries(list.items.map((e) => [e.reason, e]));
  assert.equal(list.items.length, 2);
  assert.equal(byReason.Flapping!.count, 3);
  assert.equal(byReason.Flapping!.type, 'Warning');
  assert.equal(byReason.Flapping!.source!.component, 'test-controller');
  assert.equal(byReason.Flapping!.involvedObject.kind, 'ConfigMap');
  assert.equal(byReason.Calm!.count, 1);
});

test('the event recorder folds similar events together and lets one object send 25, as client-go', async () => {
  const recorder = new EventRecorder(client, { component: 'busy-controller' });
  const rs = await client.resource(kinds.configMaps).create({ metadata: { name: 'many-pods', namespace: 'default' } });
  for (let i = 1; i <= 30; i++) recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: many-pods-${i}`);
  await recorder.flush();
  const list = await client.resource(kinds.events).list({ namespace: 'default', fieldSelector: 'involvedObject.name=many-pods' });
  // Nine messages stand alone; from the tenth on they are combined; after 25 the filter drops them.
  const single = list.items.filter((e) => !e.message!.startsWith('(combined'));
  const combined = list.items.filter((e) => e.message!.startsWith('(combined from similar events): '));
  assert.equal(single.length, 9);
  assert.equal(combined.length, 1);
  assert.equal(combined[0]!.count, 16);
  assert.equal(combined[0]!.message, '(combined from similar events): Created pod: many-pods-25');
});

test('with delayMs the event recorder writes after a pause in recording, at most ten delays late, and at once on flush', async () => {
  const heldEvents = async (prefix: string) => (await client.resource(kinds.events).list({ namespace: 'default' })).items.filter((e) => e.involvedObject.name!.startsWith(prefix));
  const quiet = new EventRecorder(client, { component: 'held', delayMs: 300 });
  const recordedAt = performance.now();
  quiet.event({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'pause-a', namespace: 'default' } }, 'Normal', 'Made', 'made');
  assert.equal((await heldEvents('pause-')).length, 0, 'held');
  for (const deadline = Date.now() + 10_000; (await heldEvents('pause-')).length !== 1;) {
    if (Date.now() > deadline) assert.fail('the held event was never written');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(performance.now() - recordedAt >= 290, 'written after the pause');

  // Recording that never pauses: the first writes go out within ten delays (2 s), while it goes on.
  const busy = new EventRecorder(client, { component: 'held', delayMs: 200 });
  const started = performance.now();
  let n = 0;
  let seenWhileBusy = -1;
  while (performance.now() - started < 3500) {
    busy.event({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `busy-${n++}`, namespace: 'default' } }, 'Normal', 'Made', 'made');
    await new Promise((r) => setTimeout(r, 50));
    if (seenWhileBusy < 0 && performance.now() - started > 2600) seenWhileBusy = (await heldEvents('busy-')).length;
  }
  assert.ok(seenWhileBusy > 0, 'some written while recording went on');
  await busy.flush();
  assert.equal((await heldEvents('busy-')).length, n, 'flush writes the rest at once');
});

test('pods/binding sets the node and PodScheduled once; a second binding is a 409', async () => {
  const pods = client.resource(kinds.pods);
  await pods.create({ metadata: { name: 'placed', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await pods.createSubresource('default', 'placed', 'binding', {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name: 'placed', annotations: { 'scheduled-by': 'test' } },
    target: { kind: 'Node', name: 'node-a' },
  });
  const pod = await pods.get('default', 'placed');
  assert.equal(pod.spec!.nodeName, 'node-a');
  assert.equal(pod.metadata!.annotations!['scheduled-by'], 'test');
  assert.equal(pod.status!.conditions!.find((c) => c.type === 'PodScheduled')?.status, 'True');
  await assert.rejects(
    pods.createSubresource('default', 'placed', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'placed' }, target: { kind: 'Node', name: 'node-b' } }),
    (e: unknown) => e instanceof ApiError && e.code === 409 && /already assigned to node "node-a"/.test(e.message),
  );
  await assert.rejects(
    pods.createSubresource('default', 'placed', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'placed' }, target: {} }),
    (e: unknown) => e instanceof ApiError && e.code === 422 && /target.name: Required value/.test(e.message),
  );
  // A user cannot do the same with an update: nodeName is immutable outside the binding.
  await pods.create({ metadata: { name: 'unplaced', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await assert.rejects(pods.patch('default', 'unplaced', { spec: { nodeName: 'node-a' } }), (e: unknown) => e instanceof ApiError && e.code === 422);
});

