import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend, type Backend, type WatchOptions } from '../storage/index.ts';
import { decode } from './object-store.ts';
import { CompactedWindowError, WatchCache, type CacheEventType } from './watch-cache.ts';

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
    const cache = new WatchCache(backend, '/registry/', { decode });
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

  it('sends initial state, resumes from a revision, and translates filter changes', async () => {
    const cache = new WatchCache(backend, '/registry/', { decode });
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

  it('answers a revision older than its window with CompactedWindowError', async () => {
    const cache = new WatchCache(backend, '/registry/', { decode, windowSize: 10 });
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
