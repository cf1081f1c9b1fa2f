import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { openSqliteBackend } from './index.ts';

const WRITER = join(import.meta.dirname, 'testdata', 'burst-writer.ts');

describe('sqlite durability', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-durability-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write when the process is killed with SIGKILL mid-burst', { timeout: 60_000 }, async () => {
    const path = join(dir, 'killed.db');
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', WRITER, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const acknowledged = new Map<string, number>();
    try {
      for await (const line of createInterface({ input: child.stdout! })) {
        const [key, revision] = line.split(' ');
        acknowledged.set(key!, Number(revision));
        // Well into the burst, with writes certainly in flight: pull the plug.
        if (acknowledged.size === 5000) child.kill('SIGKILL');
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    assert.equal(child.signalCode, 'SIGKILL');
    assert.ok(acknowledged.size >= 5000);

    const backend = await openSqliteBackend(path);
    try {
      const maxAcknowledged = Math.max(...acknowledged.values());
      const revision = await backend.currentRevision();
      assert.ok(revision >= maxAcknowledged, `revision went back: ${revision} < ${maxAcknowledged}`);
      const missing: string[] = [];
      for (const [key, modRevision] of acknowledged) {
        const { kv } = await backend.get(key);
        if (kv?.modRevision !== modRevision) missing.push(key);
      }
      assert.deepEqual(missing, []);
      assert.ok((await backend.create('/after-crash', 'v')) > revision);
    } finally {
      await backend.close();
    }
  });

  it('resumes at the same revision after a restart, also when the newest rows were compacted', async () => {
    const path = join(dir, 'restart.db');
    const first = await openSqliteBackend(path);
    const revisions = await Promise.all(Array.from({ length: 100 }, (_, i) => first.create(`/r/${i}`, 'v')));
    const last = Math.max(...revisions);
    await first.close();

    const second = await openSqliteBackend(path);
    assert.equal(await second.currentRevision(), last);
    assert.equal(await second.count('/r/'), 100);
    // Delete everything and compact it all away: the log is now empty.
    for (let i = 0; i < 100; i++) await second.delete(`/r/${i}`, 0);
    const emptied = await second.currentRevision();
    await second.compact(emptied);
    await second.close();

    const third = await openSqliteBackend(path);
    try {
      assert.equal(await third.currentRevision(), emptied);
      assert.equal(await third.compactedRevision(), emptied);
      assert.equal(await third.count(''), 0);
      assert.equal(await third.create('/r/again', 'v'), emptied + 1);
    } finally {
      await third.close();
    }
  });

  it('copies the write-ahead log into the file as writes go on, so the log stays small', { timeout: 60_000 }, async () => {
    const path = join(dir, 'checkpointed.db');
    const backend = await openSqliteBackend(path);
    const value = 'x'.repeat(1024);
    const writes = 40_000;
    let largestLog = 0;
    try {
      // Back-to-back batches of 100: the store is never idle, the hardest case for checkpoints.
      for (let i = 0; i < writes; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => backend.create(`/c/${i + j}`, value)));
        largestLog = Math.max(largestLog, (await stat(`${path}-wal`)).size);
      }
      const file = (await stat(path)).size;
      // Without checkpoints the log would hold every value (> 40 MiB) and the file none.
      assert.ok(largestLog < (writes * 1024) / 2, `the log reached ${largestLog} bytes during ${writes} writes of 1 KiB`);
      assert.ok(file > (writes * 1024) / 2, `the database file holds ${file} bytes after ${writes} writes of 1 KiB`);
    } finally {
      await backend.close();
    }
    // Closing checkpoints the rest and removes the log; everything is still there.
    await assert.rejects(stat(`${path}-wal`), { code: 'ENOENT' });
    const reopened = await openSqliteBackend(path);
    try {
      assert.equal(await reopened.count('/c/'), writes);
      assert.equal((await reopened.get(`/c/${writes - 1}`)).kv?.value, value);
    } finally {
      await reopened.close();
    }
  });

  it('answers a write, and shows it to readers and watchers, only once its log is on disk', async () => {
    // The log sync is held back by hand: each call waits for its own release.
    const syncs: Array<{ release: () => void; fail: (error: Error) => void }> = [];
    const syncLog = () => new Promise<void>((release, fail) => syncs.push({ release, fail }));
    const backend = await openSqliteBackend(join(dir, 'synced.db'), { syncLog });
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      const seen: number[] = [];
      backend.watch('/s/', { startRevision: 1, onEvents: (events) => seen.push(...events.map((e) => e.kv.modRevision)), onError: () => {} });
      let answered = false;
      const first = backend.create('/s/a', 'one').then((revision) => ((answered = true), revision));
      await turns(5);
      assert.equal(syncs.length, 1, 'the batch committed and waits for its sync');
      assert.equal(answered, false);
      assert.equal((await backend.get('/s/a')).kv, undefined, 'not visible before it is durable');
      assert.equal(await backend.currentRevision(), 0);
      // A write arriving meanwhile waits for the next batch, which starts after this one settles.
      const second = backend.create('/s/b', 'two');
      const duplicate = backend.create('/s/a', 'again');
      await turns(5);
      assert.equal(syncs.length, 1);
      assert.deepEqual(seen, []);
      syncs[0]!.release();
      assert.equal(await first, 1);
      assert.equal((await backend.get('/s/a')).kv?.value, 'one');
      await turns(5);
      assert.equal(syncs.length, 2, 'the next batch committed after the first settled');
      // Its precondition saw the first batch: the key exists now.
      syncs[1]!.release();
      assert.equal(await second, 2);
      await assert.rejects(duplicate, { name: 'KeyExistsError' });
      await turns(5);
      assert.deepEqual(seen, [1, 2], 'each event delivered once, after its sync');
      // A sync that fails leaves the disk in doubt: that write and every later one are refused.
      const third = backend.create('/s/c', 'three');
      await turns(5);
      syncs[2]!.fail(new Error('EIO: the disk went away'));
      await assert.rejects(third, /could not be synced.*EIO/);
      await assert.rejects(backend.create('/s/d', 'four'), /writes are refused/);
      assert.equal((await backend.get('/s/c')).kv, undefined);
      assert.equal((await backend.get('/s/a')).kv?.value, 'one', 'reads go on');
    } finally {
      for (const sync of syncs) sync.release();
      await backend.close();
    }
  });

  it('counts its commits, the writes they carried and how long each waited for its log sync', async () => {
    const syncs: Array<() => void> = [];
    const syncLog = () => new Promise<void>((release) => syncs.push(release));
    const backend = await openSqliteBackend(join(dir, 'counted.db'), { syncLog });
    const stats = backend.stats?.bind(backend);
    assert.ok(stats, 'the embedded store keeps figures');
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      assert.equal(stats().logSyncSeconds.counts.at(-1), 0);
      const first = backend.create('/n/a', 'one');
      await turns(5);
      assert.equal(syncs.length, 1);
      // This sync takes 40 ms; the next batch (two writes and a create that fails) waits for it.
      const more = [backend.create('/n/b', 'two'), backend.create('/n/c', 'three'), backend.create('/n/a', 'again')];
      await new Promise((resolve) => setTimeout(resolve, 40));
      syncs[0]!();
      await first;
      await turns(5);
      assert.equal(syncs.length, 2);
      syncs[1]!();
      await Promise.allSettled(more);
      const { commits, writes, logSyncSeconds } = stats();
      assert.equal(commits, 2);
      assert.equal(writes, 3, 'the failed create wrote nothing');
      assert.equal(logSyncSeconds.count, 2);
      assert.equal(logSyncSeconds.bounds.length, logSyncSeconds.counts.length);
      assert.deepEqual(logSyncSeconds.bounds.slice(0, 4), [0.001, 0.002, 0.004, 0.008]);
      assert.equal(logSyncSeconds.bounds.at(-1), 8.192);
      assert.ok(logSyncSeconds.counts.every((n, i) => i === 0 || n >= logSyncSeconds.counts[i - 1]!), 'cumulative');
      assert.ok(logSyncSeconds.counts[logSyncSeconds.bounds.indexOf(0.032)]! <= 1, 'the 40 ms sync is above 32 ms');
      assert.equal(logSyncSeconds.counts.at(-1), 2);
      assert.ok(logSyncSeconds.sum >= 0.038, `sum ${logSyncSeconds.sum}`);
    } finally {
      for (const release of syncs) release();
      await backend.close();
    }
  });

  it('refuses a second open of the same file while the first holds it', async () => {
    const path = join(dir, 'locked.db');
    const first = await openSqliteBackend(path);
    try {
      await assert.rejects(openSqliteBackend(path), /locked/);
    } finally {
      await first.close();
    }
  });
});
