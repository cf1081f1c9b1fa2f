import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend, type Backend } from '../storage/index.ts';
import { StatusError } from './errors.ts';
import { answerJson, decode, ObjectStore, storedJson } from './object-store.ts';
import type { KubeObject, ResourceDef } from './resource.ts';
import { CachedObject, WatchCache } from './watch-cache.ts';

const widgets: ResourceDef = {
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  singular: 'widget',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: { status: true },
  generation: true,
  printerColumns: [],
  defaults: (o) => {
    const spec = (o.spec ??= {}) as Record<string, unknown>;
    spec.size ??= 1;
  },
  validate: (o) =>
    typeof (o.spec as { size?: unknown } | undefined)?.size === 'number' && ((o.spec as { size: number }).size >= 0)
      ? []
      : [{ type: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: must be >= 0' }],
};

const namespaces: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: [],
  categories: [],
  namespaced: false,
  subresources: { status: true },
  generation: false,
  printerColumns: [],
};

const statusOf = async (promise: Promise<unknown>): Promise<number> => {
  try {
    await promise;
    return 0;
  } catch (error) {
    assert.ok(error instanceof StatusError, String(error));
    return error.code;
  }
};

describe('object store', () => {
  let dir: string;
  let backend: Backend;
  let cache: WatchCache;
  let store: ObjectStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-objstore-'));
    backend = await openBackend('', { dataDir: dir });
    cache = new WatchCache(backend, '/registry/');
    await cache.start();
    store = new ObjectStore(backend, cache);
    await store.create(namespaces, undefined, { metadata: { name: 'ns1' } });
  });
  after(async () => {
    cache.stop();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates with uid, timestamps, generation and defaults; rejects duplicates', async () => {
    const w = await store.create(widgets, 'ns1', { metadata: { name: 'a' } });
    assert.match(w.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.match(w.metadata!.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(w.metadata!.generation, 1);
    assert.equal(w.apiVersion, 'example.com/v1');
    assert.deepEqual(w.spec, { size: 1 });
    assert.equal(await statusOf(store.create(widgets, 'ns1', { metadata: { name: 'a' } })), 409);
    const got = await store.get(widgets, 'ns1', 'a');
    assert.equal(got.metadata!.resourceVersion, w.metadata!.resourceVersion);
  });

  it('refuses objects in a namespace that does not exist, and invalid objects', async () => {
    assert.equal(await statusOf(store.create(widgets, 'nope', { metadata: { name: 'x' } })), 404);
    assert.equal(await statusOf(store.create(widgets, 'ns1', { metadata: { name: 'bad' }, spec: { size: -1 } })), 422);
    assert.equal(await statusOf(store.create(widgets, 'ns1', { metadata: { name: 'Bad_Name' } })), 422);
    assert.equal(await statusOf(store.get(widgets, 'ns1', 'bad')), 404);
  });

  it('answers reads with the stored text and its resourceVersion when it needs no converting', async () => {
    const first = await store.create(widgets, 'ns1', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'text-a', labels: { a: 'b' } }, spec: { size: 2 } });
    const kv = await store.read(widgets, 'ns1', 'text-a');
    const json = storedJson(widgets, kv);
    assert.ok(json !== undefined);
    assert.deepEqual(JSON.parse(json), decode(kv));
    assert.equal(JSON.parse(json).metadata.resourceVersion, first.metadata!.resourceVersion);
    // Written kind first: the text does not say its version up front, so it is decoded.
    await store.create(widgets, 'ns1', { kind: 'Widget', apiVersion: 'example.com/v1', metadata: { name: 'text-b' } });
    assert.equal(storedJson(widgets, await store.read(widgets, 'ns1', 'text-b')), undefined);
    // Read as another version of the kind: the apiVersion must change, so it is decoded.
    assert.equal(storedJson({ ...widgets, version: 'v2' }, kv), undefined);
    assert.equal(storedJson({ ...widgets, version: 'v' }, kv), undefined);
    assert.equal(await statusOf(store.read(widgets, 'ns1', 'missing')), 404);
  });

  it('reads the latest from the watch cache once it has caught up, and from the store while it is behind', async () => {
    const w = await store.create(widgets, 'ns1', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'latest' }, spec: { size: 3 } });
    await cache.waitForRevision(Number(w.metadata!.resourceVersion));
    const cached = await store.readLatest(widgets, 'ns1', 'latest');
    assert.ok(cached instanceof CachedObject, 'from the cache');
    assert.deepEqual(JSON.parse(answerJson(widgets, cached)), await store.get(widgets, 'ns1', 'latest'));
    // Another writer changes it; the cache hears of it only after this turn.
    const key = '/registry/example.com/widgets/ns1/latest';
    const { kv } = await backend.get(key);
    const changed = await backend.update(key, JSON.stringify({ ...decode(kv!), metadata: { ...decode(kv!).metadata, resourceVersion: undefined }, spec: { size: 4 } }), kv!.modRevision);
    const behind = await store.readLatest(widgets, 'ns1', 'latest');
    assert.ok(!(behind instanceof CachedObject), 'from the store while the cache is behind');
    const answer = JSON.parse(answerJson(widgets, behind));
    assert.deepEqual(answer.spec, { size: 4 });
    assert.equal(answer.metadata.resourceVersion, String(changed.revision));
    await cache.waitForRevision(changed.revision);
    const caught = await store.readLatest(widgets, 'ns1', 'latest');
    assert.ok(caught instanceof CachedObject);
    assert.deepEqual(JSON.parse(answerJson(widgets, caught)), answer);
    // Served as another version: the apiVersion changes, whichever it came from.
    assert.equal(JSON.parse(answerJson({ ...widgets, version: 'v2' }, caught)).apiVersion, 'example.com/v2');
    assert.equal(JSON.parse(answerJson({ ...widgets, version: 'v2' }, behind)).apiVersion, 'example.com/v2');
    assert.equal(await statusOf(store.readLatest(widgets, 'ns1', 'never-made')), 404);
  });

  it('generates names', async () => {
    const w = await store.create(widgets, 'ns1', { metadata: { generateName: 'gen-' } });
    assert.match(w.metadata!.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('updates with optimistic concurrency, bumps generation on spec changes only', async () => {
    const w = await store.create(widgets, 'ns1', { metadata: { name: 'b' } });
    const rv = w.metadata!.resourceVersion!;
    const changed = await store.update(widgets, 'ns1', 'b', { ...w, spec: { size: 3 } }, '');
    assert.equal(changed.metadata!.generation, 2);
    assert.notEqual(changed.metadata!.resourceVersion, rv);
    // The same update again, with the old resourceVersion, is a conflict.
    assert.equal(await statusOf(store.update(widgets, 'ns1', 'b', { ...w, spec: { size: 4 } }, '')), 409);
    // A label change is not a spec change.
    const labelled = await store.update(widgets, 'ns1', 'b', { ...changed, metadata: { ...changed.metadata, labels: { a: 'b' } } }, '');
    assert.equal(labelled.metadata!.generation, 2);
    // A no-op update keeps the resourceVersion.
    const same = await store.update(widgets, 'ns1', 'b', labelled, '');
    assert.equal(same.metadata!.resourceVersion, labelled.metadata!.resourceVersion);
  });

  it('updates from the store when the watch cache is behind it', async () => {
    const w = await store.create(widgets, 'ns1', { metadata: { name: 'e' } });
    await cache.waitForRevision(Number(w.metadata!.resourceVersion));
    const key = '/registry/example.com/widgets/ns1/e';
    // Another writer changes the object; the cache hears of it only after this turn.
    const write = async (size: number): Promise<number> => {
      const { kv } = await backend.get(key);
      const object = decode(kv!);
      delete object.metadata!.resourceVersion;
      const result = await backend.update(key, JSON.stringify({ ...object, spec: { size } }), kv!.modRevision);
      assert.ok(result.succeeded);
      assert.equal(cache.get(key)?.revision, kv!.modRevision, 'the cache is behind');
      return result.revision;
    };
    const second = await write(5);
    // A client that read the new version: its precondition holds against the store.
    const sixth = await store.update(widgets, 'ns1', 'e', { ...w, metadata: { ...w.metadata, resourceVersion: String(second) }, spec: { size: 6 } }, '');
    assert.deepEqual(sixth.spec, { size: 6 });
    assert.ok(Number(sixth.metadata!.resourceVersion) > second);
    // A stale precondition is still a conflict.
    assert.equal(await statusOf(store.update(widgets, 'ns1', 'e', { ...w, spec: { size: 8 } }, '')), 409);
    // What the (stale) cache holds is no longer what the store holds: writing it is a change.
    await cache.waitForRevision(Number(sixth.metadata!.resourceVersion));
    const seventh = await write(7);
    const back = await store.update(widgets, 'ns1', 'e', { ...sixth, metadata: { ...sixth.metadata, resourceVersion: undefined } }, '');
    assert.ok(Number(back.metadata!.resourceVersion) > seventh);
    assert.deepEqual((await store.get(widgets, 'ns1', 'e')).spec, { size: 6 });
    // A change that fails on the cached copy (a JSON patch testing the resourceVersion) is
    // tried on the store's.
    await cache.waitForRevision(Number(back.metadata!.resourceVersion));
    const ninth = String(await write(9));
    const patched = await store.modify(widgets, 'ns1', 'e', '', (current) => {
      if (current.metadata!.resourceVersion !== ninth) throw new StatusError(422, 'Invalid', 'test of /metadata/resourceVersion failed');
      return { ...current, spec: { size: 10 } };
    });
    assert.deepEqual(patched.spec, { size: 10 });
  });

  it('keeps status out of main updates and everything else out of status updates', async () => {
    const w = await store.create(widgets, 'ns1', { metadata: { name: 'c' } });
    const s = await store.update(widgets, 'ns1', 'c', { ...w, spec: { size: 9 }, status: { ready: true } }, 'status');
    assert.deepEqual(s.spec, { size: 1 });
    assert.deepEqual(s.status, { ready: true });
    const m = await store.update(widgets, 'ns1', 'c', { ...s, spec: { size: 2 }, status: { ready: false } }, '');
    assert.deepEqual(m.spec, { size: 2 });
    assert.deepEqual(m.status, { ready: true });
  });

  it('holds an object with finalizers until the last one is removed', async () => {
    await store.create(widgets, 'ns1', { metadata: { name: 'd', finalizers: ['example.com/keep'] } });
    const { object, deleted } = await store.delete(widgets, 'ns1', 'd', {});
    assert.equal(deleted, false);
    assert.ok(object.metadata!.deletionTimestamp);
    const current = await store.get(widgets, 'ns1', 'd');
    await store.update(widgets, 'ns1', 'd', { ...current, metadata: { ...current.metadata, finalizers: [] } }, '');
    assert.equal(await statusOf(store.get(widgets, 'ns1', 'd')), 404);
  });

  it('lists with selectors and consistent pages', async () => {
    for (let i = 0; i < 7; i++) {
      await store.create(widgets, 'ns1', { metadata: { name: `page-${i}`, labels: { page: 'yes', n: String(i % 2) } } });
    }
    const all = await store.list(widgets, 'ns1', { filter: (o) => o.metadata?.labels?.page === 'yes', limit: 0, continueToken: '', resourceVersion: '' });
    assert.equal(all.items.length, 7);
    const names: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await store.list(widgets, 'ns1', { filter: (o) => o.metadata?.labels?.page === 'yes', limit: 3, continueToken: token, resourceVersion: '' });
      names.push(...page.items.map((i) => ('object' in i ? (i.object as KubeObject) : i).metadata!.name!));
      token = page.continueToken ?? '';
      pages++;
      // A write between pages does not show up in later pages: they are one snapshot.
      if (pages === 1) await store.create(widgets, 'ns1', { metadata: { name: 'page-9', labels: { page: 'yes' } } });
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
  });
});
