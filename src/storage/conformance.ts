/**
 * The one test suite every storage driver must pass: the {@link Backend} contract as
 * node:test tests. A driver's test file calls {@link runBackendSuite} with a factory.
 *
 * Tests run one after another, each on a fresh backend object and under its own key prefix,
 * and assert revisions relative to the revision they start at, so a factory may hand out
 * clients of one shared server (as the etcd tests do) instead of a new store per test.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, KeyValue, WatchEvent } from './backend.ts';
import { CompactedError, FutureRevisionError, KeyExistsError, StorageError } from './errors.ts';

/** A backend for one test, and how to dispose of it. */
export interface BackendUnderTest {
  backend: Backend;
  /** Closes the backend (if still open) and removes what the factory created. */
  cleanup: () => Promise<void>;
  /**
   * Opens the same store again (after the test closed `backend`), as a restarted server would.
   * Omit when the driver cannot; the restart tests are then skipped. The suite closes what
   * this returns; `cleanup` still runs afterwards.
   */
  reopen?: () => Promise<Backend>;
}

/** Options of {@link runBackendSuite}. */
export interface BackendSuiteOptions {
  /** Driver name, shown in test names. */
  name: string;
  /** Makes a backend for one test. */
  newBackend: () => Promise<BackendUnderTest>;
  /** A reason to skip the whole suite (e.g. a missing server binary). */
  skip?: string;
  /** How long to wait for a TTL'd key's delete event, in ms. Default 10,000. */
  ttlWaitMs?: number;
}

/** Collects a watch's events and lets a test wait for them without sleeping. */
class WatchRecorder {
  readonly calls: WatchEvent[][] = [];
  readonly errors: Error[] = [];
  #waiters: Array<() => void> = [];
  cancel: () => void = () => {};

  get events(): WatchEvent[] {
    return this.calls.flat();
  }

  readonly onEvents = (events: WatchEvent[]): void => {
    this.calls.push(events);
    this.#wake();
  };

  readonly onError = (error: Error): void => {
    this.errors.push(error);
    this.#wake();
  };

  /** Resolves once `predicate` holds, or rejects after `timeoutMs`. */
  async until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.calls)} ${this.errors}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async untilEvents(count: number, timeoutMs?: number): Promise<WatchEvent[]> {
    await this.until(() => this.events.length >= count, `${count} events`, timeoutMs);
    return this.events;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function record(backend: Backend, prefix: string, startRevision: number): WatchRecorder {
  const recorder = new WatchRecorder();
  const watch = backend.watch(prefix, {
    startRevision,
    onEvents: recorder.onEvents,
    onError: recorder.onError,
  });
  recorder.cancel = () => watch.cancel();
  return recorder;
}

function kv(key: string, value: string, createRevision: number, modRevision: number, version: number): KeyValue {
  return { key, value, createRevision, modRevision, version };
}

/**
 * Writes `marker` (a key the recorder watches) and waits until the recorder has it: every event
 * before it has then been delivered too, so a test can assert on the complete list.
 */
async function settle(backend: Backend, recorder: WatchRecorder, marker: string): Promise<void> {
  const revision = await backend.create(marker, 'marker');
  await recorder.until(() => recorder.events.some((e) => e.kv.modRevision >= revision), `marker ${marker}`);
}

async function rejectsWith(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error as Error;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}

/** Registers the conformance tests for one driver. */
export function runBackendSuite(options: BackendSuiteOptions): void {
  const { name, newBackend, skip } = options;
  const ttlWaitMs = options.ttlWaitMs ?? 10_000;
  const run = Math.random().toString(36).slice(2, 8);
  let serial = 0;

  interface Context {
    backend: Backend;
    /** A key prefix no other test uses. */
    p: string;
    reopen: (() => Promise<Backend>) | undefined;
  }

  const test = (
    title: string,
    body: (context: Context) => Promise<void>,
    testOptions: { needsReopen?: boolean; timeout?: number } = {},
  ): void => {
    it(title, { timeout: testOptions.timeout ?? 30_000 }, async (t) => {
      const under = await newBackend();
      try {
        if (testOptions.needsReopen && under.reopen === undefined) {
          t.skip(`${name} cannot reopen its store`);
          return;
        }
        await body({ backend: under.backend, p: `/conformance-${run}/${++serial}/`, reopen: under.reopen });
      } finally {
        await under.cleanup();
      }
    });
  };

  describe(`Backend conformance: ${name}`, { skip }, () => {
    test('create takes the next revision and starts the key at version 1', async ({ backend, p }) => {
      const before = await backend.currentRevision();
      const revision = await backend.create(`${p}a`, 'v1');
      assert.equal(revision, before + 1);
      assert.equal(await backend.currentRevision(), revision);
      assert.deepEqual(await backend.get(`${p}a`), { kv: kv(`${p}a`, 'v1', revision, revision, 1), revision });
      assert.deepEqual(await backend.get(`${p}missing`), { kv: undefined, revision });
    });

    test('create of an existing key rejects with KeyExistsError and writes nothing', async ({ backend, p }) => {
      const revision = await backend.create(`${p}a`, 'v1');
      const error = await rejectsWith(backend.create(`${p}a`, 'v2'), KeyExistsError);
      assert.equal((error as KeyExistsError).key, `${p}a`);
      assert.equal((error as KeyExistsError).code, 'KEY_EXISTS');
      assert.equal(await backend.currentRevision(), revision);
      assert.equal((await backend.get(`${p}a`)).kv?.value, 'v1');
    });

    test('update writes only at the expected modRevision', async ({ backend, p }) => {
      const r1 = await backend.create(`${p}a`, 'v1');
      const ok = await backend.update(`${p}a`, 'v2', r1);
      const r2 = r1 + 1;
      assert.deepEqual(ok, { succeeded: true, revision: r2, kv: kv(`${p}a`, 'v2', r1, r2, 2) });
      assert.deepEqual((await backend.get(`${p}a`)).kv, kv(`${p}a`, 'v2', r1, r2, 2));

      // A stale precondition is not an error: it reports the current value and writes nothing.
      const stale = await backend.update(`${p}a`, 'v3', r1);
      assert.deepEqual(stale, { succeeded: false, revision: r2, kv: kv(`${p}a`, 'v2', r1, r2, 2) });
      assert.equal(await backend.currentRevision(), r2);

      const missing = await backend.update(`${p}missing`, 'v', r1);
      assert.deepEqual(missing, { succeeded: false, revision: r2, kv: undefined });
      await assert.rejects(backend.update(`${p}a`, 'v', 0), RangeError);
    });

    test('delete is conditional on modRevision, or unconditional with 0', async ({ backend, p }) => {
      const r1 = await backend.create(`${p}a`, 'v1');
      const r2 = (await backend.update(`${p}a`, 'v2', r1)).revision;

      const stale = await backend.delete(`${p}a`, r1);
      assert.deepEqual(stale, { succeeded: false, revision: r2, kv: kv(`${p}a`, 'v2', r1, r2, 2) });

      const deleted = await backend.delete(`${p}a`, r2);
      const r3 = r2 + 1;
      // The deleted value, at the delete's revision, as a delete event shows it.
      assert.deepEqual(deleted, { succeeded: true, revision: r3, kv: kv(`${p}a`, 'v2', r1, r3, 2) });
      assert.equal((await backend.get(`${p}a`)).kv, undefined);

      assert.deepEqual(await backend.delete(`${p}a`, 0), { succeeded: false, revision: r3, kv: undefined });
      assert.equal(await backend.currentRevision(), r3);

      // Re-created, the key starts over.
      const r4 = await backend.create(`${p}a`, 'again');
      assert.deepEqual((await backend.get(`${p}a`)).kv, kv(`${p}a`, 'again', r4, r4, 1));
      const gone = await backend.delete(`${p}a`, 0);
      assert.equal(gone.succeeded, true);
      assert.equal(gone.kv?.value, 'again');
    });

    test('get and list at an old revision see the store as it was', async ({ backend, p }) => {
      const r1 = await backend.create(`${p}a`, 'v1');
      const r2 = (await backend.update(`${p}a`, 'v2', r1)).revision;
      const r3 = await backend.create(`${p}b`, 'b1');
      const r4 = (await backend.delete(`${p}a`, 0)).revision;

      assert.deepEqual(await backend.get(`${p}a`, { revision: r1 }), { kv: kv(`${p}a`, 'v1', r1, r1, 1), revision: r1 });
      assert.equal((await backend.get(`${p}a`, { revision: r3 })).kv?.value, 'v2');
      assert.deepEqual(await backend.get(`${p}a`, { revision: r4 }), { kv: undefined, revision: r4 });
      assert.equal((await backend.get(`${p}b`, { revision: r2 })).kv, undefined);

      assert.deepEqual(await backend.list(p, { revision: r1 }), { kvs: [kv(`${p}a`, 'v1', r1, r1, 1)], revision: r1, more: false });
      assert.deepEqual(await backend.list(p, { revision: r3 }), {
        kvs: [kv(`${p}a`, 'v2', r1, r2, 2), kv(`${p}b`, 'b1', r3, r3, 1)],
        revision: r3,
        more: false,
      });
      assert.deepEqual((await backend.list(p, { revision: r4 })).kvs.map((k) => k.key), [`${p}b`]);
      const page = await backend.list(p, { revision: r3, limit: 1, startKey: `${p}a\0` });
      assert.deepEqual(page, { kvs: [kv(`${p}b`, 'b1', r3, r3, 1)], revision: r3, more: false });
    });

    test('list returns keys in UTF-8 byte order, with limit, startKey and more', async ({ backend, p }) => {
      // UTF-16 order would put the emoji (a surrogate pair) before U+FB00; UTF-8 order puts it after.
      const names = ['z', 'a', '~', 'B', 'é', 'a/b', 'b', '\u{1F600}', '\uFB00'];
      for (const name of names) await backend.create(`${p}${name}`, name);
      const sorted = ['B', 'a', 'a/b', 'b', 'z', '~', 'é', '\uFB00', '\u{1F600}'].map((n) => `${p}${n}`);

      const all = await backend.list(p);
      assert.deepEqual(all.kvs.map((k) => k.key), sorted);
      assert.equal(all.more, false);
      assert.equal(all.revision, await backend.currentRevision());

      const pages: string[][] = [];
      let startKey: string | undefined;
      for (;;) {
        const page = await backend.list(p, { limit: 4, startKey, revision: all.revision });
        pages.push(page.kvs.map((k) => k.key));
        if (!page.more) break;
        startKey = `${page.kvs[page.kvs.length - 1]!.key}\0`;
      }
      assert.deepEqual(pages, [sorted.slice(0, 4), sorted.slice(4, 8), sorted.slice(8)]);

      assert.equal((await backend.list(p, { limit: sorted.length })).more, false);
      assert.deepEqual((await backend.list(p, { startKey: '/' })).kvs.length, sorted.length);
      assert.deepEqual((await backend.list(p, { startKey: `${p}\u{10FFFF}` })).kvs, []);
      assert.deepEqual((await backend.list(`${p}nothing/`)).kvs, []);
    });

    test('count counts the live keys under a prefix', async ({ backend, p }) => {
      assert.equal(await backend.count(p), 0);
      for (let i = 0; i < 5; i++) await backend.create(`${p}k${i}`, 'v');
      await backend.delete(`${p}k0`, 0);
      assert.equal(await backend.count(p), 4);
      assert.equal(await backend.count(`${p}k1`), 1);
      assert.ok((await backend.count('')) >= 4);
    });

    test('prefixes isolate: "/a/" does not see "/ab"', async ({ backend, p }) => {
      const start = (await backend.currentRevision()) + 1;
      const recorder = record(backend, `${p}a/`, start);
      await backend.create(`${p}a`, 'a');
      await backend.create(`${p}ab`, 'ab');
      await backend.create(`${p}a/x`, 'x');
      await backend.create(`${p}a0`, 'a0');
      assert.deepEqual((await backend.list(`${p}a/`)).kvs.map((k) => k.key), [`${p}a/x`]);
      assert.equal(await backend.count(`${p}a/`), 1);
      assert.deepEqual((await backend.list(`${p}a`)).kvs.map((k) => k.key), [`${p}a`, `${p}a/x`, `${p}a0`, `${p}ab`]);
      await settle(backend, recorder, `${p}a/zz`);
      assert.deepEqual(recorder.events.map((e) => e.kv.key), [`${p}a/x`, `${p}a/zz`]);
      recorder.cancel();
    });

    test('watch from an old revision replays history, then continues live', async ({ backend, p }) => {
      const r1 = await backend.create(`${p}a`, 'v1');
      const r2 = (await backend.update(`${p}a`, 'v2', r1)).revision;
      const r3 = await backend.create(`${p}b`, 'b');
      const r4 = (await backend.delete(`${p}b`, r3)).revision;
      const recorder = record(backend, p, r2);
      await recorder.untilEvents(3);
      const r5 = (await backend.update(`${p}a`, 'v3', r2)).revision;
      const events = await recorder.untilEvents(4);
      assert.deepEqual(events, [
        { type: 'put', kv: kv(`${p}a`, 'v2', r1, r2, 2), prevKv: kv(`${p}a`, 'v1', r1, r1, 1) },
        { type: 'put', kv: kv(`${p}b`, 'b', r3, r3, 1), prevKv: undefined },
        { type: 'delete', kv: kv(`${p}b`, 'b', r3, r4, 1), prevKv: kv(`${p}b`, 'b', r3, r3, 1) },
        { type: 'put', kv: kv(`${p}a`, 'v3', r1, r5, 3), prevKv: kv(`${p}a`, 'v2', r1, r2, 2) },
      ]);
      assert.deepEqual(recorder.errors, []);
      recorder.cancel();
    });

    test('live updates carry the value they replaced, unless the watcher said it keeps its own', async ({ backend, p }) => {
      const r1 = await backend.create(`${p}a`, 'v1');
      const start = (await backend.currentRevision()) + 1;
      const withPrevious = record(backend, p, start);
      const without = new WatchRecorder();
      const watch = backend.watch(p, { startRevision: start, prevKv: false, onEvents: without.onEvents, onError: without.onError });
      // Two writes at once (they may share a batch), then an update of the key just created.
      const [r2, r3] = await Promise.all([backend.update(`${p}a`, 'v2', r1), backend.create(`${p}b`, 'b1')]);
      const r4 = (await backend.update(`${p}b`, 'b2', r3)).revision;
      const events = await withPrevious.untilEvents(3);
      // The first two ran concurrently: either may have committed first.
      const expected = [
        { type: 'put', kv: kv(`${p}a`, 'v2', r1, r2.revision, 2), prevKv: kv(`${p}a`, 'v1', r1, r1, 1) },
        { type: 'put', kv: kv(`${p}b`, 'b1', r3, r3, 1), prevKv: undefined },
        { type: 'put', kv: kv(`${p}b`, 'b2', r3, r4, 2), prevKv: kv(`${p}b`, 'b1', r3, r3, 1) },
      ].sort((x, y) => x.kv.modRevision - y.kv.modRevision);
      assert.deepEqual(events, expected);
      // Without prevKv the events are the same writes; prevKv may or may not be there.
      const bare = await without.untilEvents(3);
      assert.deepEqual(bare.map((e) => [e.type, e.kv]), events.map((e) => [e.type, e.kv]));
      for (const e of bare) if (e.prevKv !== undefined) assert.equal(e.prevKv.modRevision + 1 <= e.kv.modRevision, true);
      // A failed update still reports the current value.
      const stale = await backend.update(`${p}a`, 'v3', r1);
      assert.equal(stale.succeeded, false);
      assert.deepEqual(stale.kv, kv(`${p}a`, 'v2', r1, r2.revision, 2));
      withPrevious.cancel();
      watch.cancel();
    });

    test('live events arrive in revision order, each revision in one call', async ({ backend, p }) => {
      const start = (await backend.currentRevision()) + 1;
      const recorder = record(backend, p, start);
      const revisions: number[] = [];
      for (let i = 0; i < 20; i++) revisions.push(await backend.create(`${p}s${i}`, 'v'));
      revisions.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => backend.create(`${p}c${i}`, 'v')))));
      for (let i = 0; i < 20; i++) revisions.push((await backend.delete(`${p}s${i}`, 0)).revision);
      const events = await recorder.untilEvents(140);
      const seen = events.map((e) => e.kv.modRevision);
      assert.deepEqual(seen, [...revisions].sort((a, b) => a - b));
      const perCall = recorder.calls.map((call) => new Set(call.map((e) => e.kv.modRevision)));
      for (let i = 1; i < perCall.length; i++) {
        for (const revision of perCall[i]!) assert.ok(!perCall[i - 1]!.has(revision), `revision ${revision} split across calls`);
      }
      recorder.cancel();
    });

    test('a watch that starts in the future waits for that revision', async ({ backend, p }) => {
      const start = (await backend.currentRevision()) + 3;
      const recorder = record(backend, p, start);
      for (let i = 0; i < 4; i++) await backend.create(`${p}k${i}`, 'v');
      const events = await recorder.untilEvents(2);
      assert.deepEqual(events.map((e) => e.kv.modRevision), [start, start + 1]);
      recorder.cancel();
    });

    test('cancel stops delivery', async ({ backend, p }) => {
      const start = (await backend.currentRevision()) + 1;
      const recorder = record(backend, p, start);
      const witness = record(backend, p, start);
      await backend.create(`${p}1`, 'v');
      await recorder.untilEvents(1);
      recorder.cancel();
      recorder.cancel();
      await backend.create(`${p}2`, 'v');
      // The witness watch has seen the second write; the cancelled one must not see it, even
      // after a moment's grace for an event already in flight.
      await witness.untilEvents(2);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(recorder.events.length, 1);
      assert.deepEqual(recorder.errors, []);
      witness.cancel();
    });

    test('a replaying watch has no gap and no duplicate while writes continue', async ({ backend, p }) => {
      const first = await Promise.all(Array.from({ length: 300 }, (_, i) => backend.create(`${p}h${i}`, 'v')));
      const start = Math.min(...first);
      const recorder = record(backend, p, start);
      const second = await Promise.all(Array.from({ length: 300 }, (_, i) => backend.create(`${p}l${i}`, 'v')));
      await settle(backend, recorder, `${p}zz`);
      const revisions = recorder.events.map((e) => e.kv.modRevision);
      revisions.pop();
      assert.deepEqual(revisions, [...first, ...second].sort((a, b) => a - b));
      recorder.cancel();
    });

    test('200 concurrent compare-and-swap increments lose no update', async ({ backend, p }) => {
      const key = `${p}counter`;
      await backend.create(key, '0');
      let conflicts = 0;
      const increment = async (): Promise<void> => {
        let current = (await backend.get(key)).kv!;
        for (;;) {
          const result = await backend.update(key, String(Number(current.value) + 1), current.modRevision);
          if (result.succeeded) return;
          // A lost race hands back the winner's value: retry from it without another read,
          // after a short random back-off as real clients do (else 200 writers make ~20,000
          // attempts, each a raft round on etcd).
          current = result.kv!;
          conflicts++;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
        }
      };
      await Promise.all(Array.from({ length: 200 }, increment));
      const { kv: final } = await backend.get(key);
      assert.equal(final?.value, '200');
      assert.equal(final?.version, 201);
      assert.ok(conflicts > 0, 'the increments should have conflicted');
    });

    test('concurrent creates: one winner per key, distinct consecutive revisions', async ({ backend, p }) => {
      const before = await backend.currentRevision();
      const same = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => backend.create(`${p}one`, String(i))));
      assert.equal(same.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of same) if (r.status === 'rejected') assert.ok(r.reason instanceof KeyExistsError);
      const many = await Promise.all(Array.from({ length: 300 }, (_, i) => backend.create(`${p}k${i}`, 'v')));
      const expected = Array.from({ length: 300 }, (_, i) => before + 2 + i);
      assert.deepEqual([...many].sort((a, b) => a - b), expected);
    });

    test('compaction drops old history and keeps what is live', async ({ backend, p }) => {
      const r1 = await backend.create(`${p}a`, 'v1');
      const r2 = (await backend.update(`${p}a`, 'v2', r1)).revision;
      const r3 = await backend.create(`${p}b`, 'b');
      const r4 = (await backend.delete(`${p}b`, 0)).revision;
      await backend.compact(r4);
      const r5 = (await backend.update(`${p}a`, 'v3', r2)).revision;
      assert.equal(await backend.compactedRevision(), r4);

      const error = (await rejectsWith(backend.get(`${p}a`, { revision: r3 }), CompactedError)) as CompactedError;
      assert.equal(error.requestedRevision, r3);
      assert.equal(error.compactedRevision, r4);
      assert.equal(error.code, 'COMPACTED');
      await rejectsWith(backend.list(p, { revision: r1 }), CompactedError);

      // The compacted revision itself is still readable, as in etcd.
      assert.deepEqual((await backend.list(p, { revision: r4 })).kvs, [kv(`${p}a`, 'v2', r1, r2, 2)]);
      assert.deepEqual((await backend.get(`${p}a`)).kv, kv(`${p}a`, 'v3', r1, r5, 3));

      // Watching from at or below the compacted revision is refused; just above it works, with
      // the prevKv that compaction had to keep.
      const refused = record(backend, p, r4);
      await refused.until(() => refused.errors.length > 0, 'CompactedError');
      assert.ok(refused.errors[0] instanceof CompactedError);
      assert.deepEqual(refused.events, []);
      const allowed = record(backend, p, r4 + 1);
      assert.deepEqual(await allowed.untilEvents(1), [
        { type: 'put', kv: kv(`${p}a`, 'v3', r1, r5, 3), prevKv: kv(`${p}a`, 'v2', r1, r2, 2) },
      ]);
      allowed.cancel();

      await backend.compact(r2);
      assert.equal(await backend.compactedRevision(), r4);
      await rejectsWith(backend.compact(r5 + 100), FutureRevisionError);
    });

    test('reading beyond the current revision rejects with FutureRevisionError', async ({ backend, p }) => {
      const revision = await backend.create(`${p}a`, 'v');
      const error = (await rejectsWith(backend.get(`${p}a`, { revision: revision + 1 }), FutureRevisionError)) as FutureRevisionError;
      assert.equal(error.requestedRevision, revision + 1);
      assert.equal(error.currentRevision, revision);
      await rejectsWith(backend.list(p, { revision: revision + 5 }), FutureRevisionError);
    });

    test('a key written with ttlSeconds is deleted by an ordinary delete', async ({ backend, p }) => {
      const start = (await backend.currentRevision()) + 1;
      const recorder = record(backend, p, start);
      const expiring = await backend.create(`${p}event`, 'e', { ttlSeconds: 1 });
      // An update without a TTL makes a key permanent again.
      const kept = await backend.create(`${p}kept`, 'k', { ttlSeconds: 1 });
      await backend.update(`${p}kept`, 'k2', kept);
      await recorder.until(() => recorder.events.some((e) => e.type === 'delete'), 'the expiry delete', ttlWaitMs);
      const deletion = recorder.events.find((e) => e.type === 'delete')!;
      assert.equal(deletion.kv.key, `${p}event`);
      assert.equal(deletion.kv.value, 'e');
      assert.equal(deletion.prevKv?.modRevision, expiring);
      assert.equal((await backend.get(`${p}event`)).kv, undefined);
      assert.equal((await backend.get(`${p}kept`)).kv?.value, 'k2');
      recorder.cancel();
    }, { timeout: ttlWaitMs + 10_000 });

    test('invalid arguments throw TypeError or RangeError', async ({ backend, p }) => {
      await assert.rejects(backend.get(`${p}a`, { revision: -1 }), RangeError);
      await assert.rejects(backend.list(p, { limit: 1.5 }), RangeError);
      await assert.rejects(backend.create('', 'v'), TypeError);
      await assert.rejects(backend.create(`${p}a`, 'v', { ttlSeconds: 0 }), RangeError);
      assert.throws(() => backend.watch(p, { startRevision: 0, onEvents() {}, onError() {} }), RangeError);
    });

    test('close ends watches without an error and refuses further calls', async ({ backend, p }) => {
      const recorder = record(backend, p, (await backend.currentRevision()) + 1);
      await backend.create(`${p}a`, 'v');
      await recorder.untilEvents(1);
      await backend.close();
      await backend.close();
      assert.deepEqual(recorder.errors, []);
      await rejectsWith(backend.get(`${p}a`), StorageError);
      await rejectsWith(backend.create(`${p}b`, 'v'), StorageError);
    });

    test('revisions survive a reopen, even when compaction removed the newest rows', async ({ backend, p, reopen }) => {
      const r1 = await backend.create(`${p}a`, 'v');
      const r2 = (await backend.delete(`${p}a`, r1)).revision;
      await backend.compact(r2);
      await backend.close();
      const reopened = await reopen!();
      try {
        assert.equal(await reopened.currentRevision(), r2);
        assert.equal(await reopened.compactedRevision(), r2);
        assert.equal((await reopened.get(`${p}a`)).kv, undefined);
        assert.equal(await reopened.create(`${p}b`, 'v'), r2 + 1);
      } finally {
        await reopened.close();
      }
    }, { needsReopen: true });
  });
}
