import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openBackend, type Backend, type WatchOptions } from '../storage/index.ts';
import { CachedObject, CompactedWindowError, everything, WatchCache, withResourceVersion, type CacheEventType } from './watch-cache.ts';

const PODS = '/registry/core/pods/';
const value = (name: string, labels: Record<string, string> = {}) => JSON.stringify({ metadata: { name, namespace: 'a', labels } });

/** Collects the events one watcher receives. */
function recorder() {
  const events: { type: CacheEventType; name: string; rv: string }[] = [];
  return {
    events,
    sink: {
      event: (type: CacheEventType, o: { object: { metadata?: { name?: string; resourceVersion?: string } } }) =>
        events.push({ type, name: o.object.metadata!.name!, rv: o.object.metadata!.resourceVersion! }),
      end: () => undefined,
    },
  };
}

async function settle(cache: WatchCache, backend: Backend): Promise<void> {
  await cache.waitForRevision(await backend.currentRevision());
}

describe('watch cache', () => {
  let dir: string;
  let backend: Backend;
  let storeWatches = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-watchcache-'));
    backend = await openBackend('', { dataDir: dir });
    // Count the store watches the cache opens, whatever the number of API watchers.
    const watch = backend.watch.bind(backend);
    backend.watch = (prefix: string, options: WatchOptions) => {
      storeWatches++;
      return watch(prefix, options);
    };
  });
  after(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fans one store watch out to a thousand watchers, in order', async () => {
    const cache = new WatchCache(backend, '/registry/');
    await cache.start();
    const watchers = Array.from({ length: 1000 }, () => recorder());
    const stops = watchers.map((w) => cache.watch(PODS, `${PODS}a/`, cache.revision, () => true, w.sink));
    for (let i = 0; i < 20; i++) await backend.create(`${PODS}a/p${i}`, value(`p${i}`));
    await settle(cache, backend);
    assert.equal(storeWatches, 1);
    assert.equal(cache.watcherCount(), 1000);
    for (const w of watchers) assert.deepEqual(w.events.map((e) => e.name), Array.from({ length: 20 }, (_, i) => `p${i}`));
    for (const stop of stops) stop();
    assert.equal(cache.watcherCount(), 0);
    cache.stop();
  });

  it('delivers to deferred (in-process) watchers on a later turn, after the others, and not after they stop', async () => {
    const cache = new WatchCache(backend, '/registry/');
    await cache.start();
    const order: string[] = [];
    const sink = (name: string, deferred: boolean) => ({ event: (type: CacheEventType) => order.push(`${name} ${type}`), end: () => undefined, deferred });
    // The deferred watcher starts first: it would hear of an event first if delivered at once.
    cache.watch(PODS, `${PODS}d/`, cache.revision, () => true, sink('in-process', true));
    const stopLate = cache.watch(PODS, `${PODS}d/`, cache.revision, () => true, sink('stopped', true));
    cache.watch(PODS, `${PODS}d/`, cache.revision, () => true, sink('network', false));
    const revision = await backend.create(`${PODS}d/x`, value('x'));
    await cache.waitForRevision(revision);
    const sameTurn = [...order];
    stopLate();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sameTurn, ['network ADDED'], 'the network watcher first, the deferred ones not yet');
    assert.deepEqual(order, ['network ADDED', 'in-process ADDED']);
    cache.stop();
  });

  it('sends initial state, resumes from a revision, and translates filter changes', async () => {
    const cache = new WatchCache(backend, '/registry/');
    await cache.start();
    const initial = recorder();
    cache.watch(PODS, `${PODS}a/`, undefined, (o) => o.metadata?.name === 'p1', initial.sink);
    assert.deepEqual(initial.events.map((e) => `${e.type} ${e.name}`), ['ADDED p1']);

    const from = cache.revision;
    const web = recorder();
    cache.watch(PODS, PODS, from, (o) => o.metadata?.labels?.app === 'web', web.sink);
    const { kv } = await backend.get(`${PODS}a/p2`);
    await backend.update(`${PODS}a/p2`, value('p2', { app: 'web' }), kv!.modRevision); // enters the filter
    const { kv: kv2 } = await backend.get(`${PODS}a/p2`);
    await backend.update(`${PODS}a/p2`, value('p2', { app: 'web', v: '2' }), kv2!.modRevision); // stays
    const { kv: kv3 } = await backend.get(`${PODS}a/p2`);
    await backend.update(`${PODS}a/p2`, value('p2', { app: 'db' }), kv3!.modRevision); // leaves
    await settle(cache, backend);
    assert.deepEqual(web.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);

    // A late watcher resuming from the same revision gets the same history.
    const late = recorder();
    cache.watch(PODS, PODS, from, (o) => o.metadata?.labels?.app === 'web', late.sink);
    assert.deepEqual(late.events, web.events);
    cache.stop();
  });

  it('keeps from a watcher the updates it says are of no interest to it, live, deferred and replayed', async () => {
    const cache = new WatchCache(backend, '/registry/');
    await cache.start();
    const from = cache.revision;
    const owned = (name: string, owner?: string) =>
      JSON.stringify({ metadata: { name, namespace: 'g', ...(owner ? { ownerReferences: [{ uid: owner }] } : {}) }, data: { n: String(Math.random()) } });
    const owners = /"ownerReferences":/;
    const uninteresting = (previous: CachedObject, next: CachedObject) => !previous.mentions(owners) && !next.mentions(owners);
    const watchers = [false, true].map((deferred) => {
      const seen: string[] = [];
      const sink = { event: (type: CacheEventType, o: CachedObject) => seen.push(`${type} ${o.object.metadata!.name} ${o.revision}`), end: () => undefined, deferred, uninteresting };
      cache.watch(PODS, `${PODS}g/`, from, everything, sink);
      return seen;
    });
    const key = `${PODS}g/x`;
    let revision = await backend.create(key, owned('x'));
    const added = revision;
    revision = (await backend.update(key, owned('x'), revision)).revision; // neither mentions it: kept back
    const gained = (revision = (await backend.update(key, owned('x', 'u1'), revision)).revision);
    const changed = (revision = (await backend.update(key, owned('x', 'u1'), revision)).revision); // both do
    const lost = (revision = (await backend.update(key, owned('x'), revision)).revision);
    revision = (await backend.update(key, owned('x'), revision)).revision; // kept back again
    const deleted = (await backend.delete(key, revision)).revision;
    await cache.waitForRevision(deleted);
    await new Promise((r) => setImmediate(r));
    const expected = [`ADDED x ${added}`, `MODIFIED x ${gained}`, `MODIFIED x ${changed}`, `MODIFIED x ${lost}`, `DELETED x ${deleted}`];
    assert.deepEqual(watchers[0], expected, 'delivered at once');
    assert.deepEqual(watchers[1], expected, 'deferred');
    const replayed: string[] = [];
    cache.watch(PODS, `${PODS}g/`, from, everything, { event: (type, o) => replayed.push(`${type} ${o.object.metadata!.name} ${o.revision}`), end: () => undefined, uninteresting });
    assert.deepEqual(replayed, expected, 'replayed from the window');
    const all: string[] = [];
    cache.watch(PODS, `${PODS}g/`, from, everything, { event: (type) => all.push(type), end: () => undefined });
    assert.equal(all.length, 7, 'a watcher that says nothing gets every event');
    cache.stop();
  });

  it('answers a revision older than its window with CompactedWindowError', async () => {
    const cache = new WatchCache(backend, '/registry/', { windowSize: 10 });
    await cache.start();
    const start = cache.revision;
    for (let i = 0; i < 30; i++) await backend.create(`${PODS}a/w${i}`, value(`w${i}`));
    await settle(cache, backend);
    assert.throws(() => cache.watch(PODS, PODS, start, () => true, recorder().sink), CompactedWindowError);
    const recent = recorder();
    cache.watch(PODS, PODS, cache.revision - 2, () => true, recent.sink);
    assert.deepEqual(recent.events.map((e) => e.name), ['w28', 'w29']);
    cache.stop();
  });
});

describe('cached objects', () => {
  it('put the resourceVersion first into the top-level metadata, as decoding and encoding would', () => {
    const cases: unknown[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { 'x"}': '{"metadata":{' } }, data: { k: '"metadata":{' } },
      // A nested metadata before the top-level one (a template first in the body).
      { spec: { template: { metadata: { name: 't' } } }, metadata: { name: 'b' } },
      { metadata: {} },
      { kind: 'X', list: [{ metadata: { name: 'in-array' } }], metadata: { name: 'c' } },
      // Not insertable: another resourceVersion (an Event's involvedObject), or no metadata object.
      { kind: 'Event', metadata: { name: 'e' }, involvedObject: { name: 'p', resourceVersion: '7' } },
      { kind: 'Bare' },
      { metadata: 'odd' },
    ];
    for (const object of cases) {
      const stored = JSON.stringify(object);
      const expected = JSON.parse(stored) as { metadata?: Record<string, unknown> };
      if (typeof expected.metadata === 'object') expected.metadata.resourceVersion = '42';
      else if (expected.metadata === undefined) expected.metadata = { resourceVersion: '42' };
      if (typeof (JSON.parse(stored) as { metadata?: unknown }).metadata === 'string') {
        // A metadata that is no object cannot take one: the text is decoded, and setting fails loudly.
        assert.throws(() => withResourceVersion(stored, '42'));
        continue;
      }
      assert.deepEqual(JSON.parse(withResourceVersion(stored, '42')), expected, stored);
    }
  });

  it('decode only when asked, once, and hand out copies of their own to change', () => {
    const stored = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } });
    const cached = new CachedObject('/registry/core/configmaps/ns/a', stored, 9);
    assert.equal(cached.json, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"9","name":"a"},"data":{"k":"v"}}');
    assert.equal(cached.object, cached.object, 'decoded once');
    assert.equal(cached.object.metadata?.resourceVersion, '9');
    const mine = cached.copy();
    assert.notEqual(mine, cached.object);
    mine.metadata!.name = 'changed';
    assert.equal(cached.object.metadata?.name, 'a');
    assert.equal(JSON.parse(cached.line('ADDED').toString()).object.metadata.resourceVersion, '9');
  });

  it('decode their metadata apart from the rest and without managedFields, for in-process metadata-only watchers', () => {
    const managedFields = [{ manager: 'm', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:name': {} }, '"]}': {} } }];
    const owners = [{ uid: 'u', name: 'o', kind: 'K', apiVersion: 'v1' }];
    const metadatas = [
      { name: 'm', managedFields, ownerReferences: owners },
      { managedFields, name: 'first' },
      { name: 'last', managedFields },
      { managedFields },
      { name: 'none', labels: { managedFields: '[' } },
    ];
    for (const metadata of metadatas) {
      const object = { apiVersion: 'v1', kind: 'ConfigMap', data: { k: '{"x":"}"}', managedFields: '[' }, metadata };
      const { managedFields: _drop, ...rest } = metadata as { managedFields?: unknown };
      const expected = { resourceVersion: '3', ...rest };
      const cached = new CachedObject('/registry/core/configmaps/ns/m', JSON.stringify(object), 3);
      assert.deepEqual(cached.metadataWithoutManagedFields, expected, JSON.stringify(metadata));
      const sent = new CachedObject('/registry/core/configmaps/ns/m', JSON.stringify(object), 3);
      assert.equal(JSON.parse(sent.json).metadata.resourceVersion, '3');
      assert.deepEqual(sent.metadataWithoutManagedFields, expected, 'from the JSON with its resourceVersion');
      const decoded = new CachedObject('/registry/core/configmaps/ns/m', JSON.stringify(object), 3);
      assert.equal(decoded.object.metadata?.resourceVersion, '3');
      assert.deepEqual(decoded.metadataWithoutManagedFields, expected, 'from the decoded object too');
      assert.ok(decoded.object.metadata?.managedFields === undefined || Array.isArray(decoded.object.metadata.managedFields), 'the object keeps its own');
    }
    assert.deepEqual(new CachedObject('/k', JSON.stringify({ kind: 'Bare' }), 4).metadataWithoutManagedFields, { resourceVersion: '4' });
  });

  it('read their identity (name, namespace, uid) from the text alone, only from the metadata', () => {
    const owners = [{ uid: 'owner-uid', name: 'owner', kind: 'K', apiVersion: 'v1' }];
    const cases: [Record<string, unknown>, Record<string, unknown> | undefined][] = [
      [{ name: 'a', namespace: 'ns', uid: 'u-1', labels: { uid: 'label', name: 'x' } }, { name: 'a', namespace: 'ns', uid: 'u-1' }],
      [{ ownerReferences: owners, labels: { namespace: 'n' }, uid: 'u-2', name: 'b' }, { name: 'b', uid: 'u-2' }],
      [{ name: 'we\\ird"name', uid: 'u-3' }, { name: 'we\\ird"name', uid: 'u-3' }],
      [{ name: 'no-uid' }, undefined],
      [{ uid: 'no-name' }, undefined],
    ];
    for (const [metadata, identity] of cases) {
      // Data first, as kubectl writes it: a data key named uid must not be taken for the metadata's.
      const text = JSON.stringify({ apiVersion: 'v1', data: { uid: 'data', name: 'data' }, kind: 'ConfigMap', metadata });
      const expected = identity && { ...identity, resourceVersion: '7' };
      assert.deepEqual(new CachedObject('/k', text, 7).identity, expected, text);
      const sent = new CachedObject('/k', text, 7);
      void sent.json;
      assert.deepEqual(sent.identity, expected, 'from the JSON with its resourceVersion');
    }
    assert.equal(new CachedObject('/k', '{"kind":"Bare"}', 1).identity, undefined);
  });

  it('give an identity that does not keep the text it was read from alive', () => {
    // A watcher keeps identities (the garbage collector's graph keeps one per object) long after
    // the cache has let the version go: its ~40 bytes must not hold on to the whole text.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const texts = 48;
    const size = 256 * 1024;
    gc();
    const before = process.memoryUsage().heapUsed;
    const identities = [];
    for (let i = 0; i < texts; i++) {
      const metadata = { name: `an-object-with-a-long-name-${i}`, namespace: `a-long-namespace-name-${i}`, uid: `3f1c2a9e-0d4b-4e8a-9c71-${String(i).padStart(12, '0')}` };
      const text = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { blob: 'x'.repeat(size) } });
      identities.push(new CachedObject('/k', text, 1).identity);
    }
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    assert.equal(identities.length, texts);
    assert.equal(identities[7]?.uid, '3f1c2a9e-0d4b-4e8a-9c71-000000000007');
    assert.ok(retained < (texts * size) / 4, `identities of ${texts} texts of ${size >> 10} KiB kept ${(retained / 2 ** 20).toFixed(1)} MiB alive`);
  });

  it('say whether their text mentions members of a pattern, asked once per pattern', () => {
    const followed = /"(?:ownerReferences|finalizers)":/;
    const cached = new CachedObject('/k', JSON.stringify({ metadata: { name: 'a', finalizers: ['x'] } }), 1);
    assert.equal(cached.mentions(followed), true);
    assert.equal(new CachedObject('/k', JSON.stringify({ metadata: { name: 'a' }, data: { finalizers: 'in data' } }), 1).mentions(followed), true, 'a false yes, allowed');
    assert.equal(new CachedObject('/k', JSON.stringify({ metadata: { name: 'a', labels: { x: '"finalizers":' } } }), 1).mentions(followed), false, 'escaped in a string');
    assert.equal(new CachedObject('/k', JSON.stringify({ metadata: { name: 'a' } }), 1).mentions(followed), false);
  });
});
