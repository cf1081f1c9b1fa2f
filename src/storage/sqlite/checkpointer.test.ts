import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import type { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.ts';
import { openDatabase } from './schema.ts';

describe('Checkpointer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-checkpointer-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Worker threads of this process (Node names their OS threads `WorkerThread`). */
  function workerThreads(): number {
    return readdirSync('/proc/self/task').filter((tid) => {
      try {
        return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'WorkerThread';
      } catch {
        return false; // the thread ended meanwhile
      }
    }).length;
  }

  /** Commits `count` values of 1 KiB in one transaction. */
  function write(db: DatabaseSync, from: number, count: number): void {
    const insert = db.prepare('INSERT INTO value (rev, value) VALUES (?, ?)');
    db.exec('BEGIN IMMEDIATE');
    for (let i = from; i < from + count; i++) insert.run(i, 'v'.repeat(1024));
    db.exec('COMMIT');
  }

  /** Opens database `name` in the test dir with a Checkpointer (whose worker opens `workerPath`,
   * by default the same file), runs `test`, and closes both. */
  async function withCheckpointer(
    name: string,
    options: CheckpointerOptions & { workerPath?: string },
    test: (db: DatabaseSync, checkpointer: Checkpointer, path: string) => Promise<void>,
  ): Promise<void> {
    const path = join(dir, name);
    const open = openDatabase(path);
    const checkpointer = new Checkpointer(options.workerPath ?? path, open.db, options);
    try {
      await test(open.db, checkpointer, path);
    } finally {
      await checkpointer.close();
      open.close();
    }
  }

  it('copies the whole log into the database file on its worker thread', () =>
    withCheckpointer('worker.db', {}, async (db, checkpointer, path) => {
      write(db, 1, 2000);
      const before = (await stat(path)).size;
      const result = await checkpointer.checkpoint();
      assert.ok(result.log > 0);
      assert.equal(result.checkpointed, result.log);
      assert.ok((await stat(path)).size > before + 2000 * 1024);
    }));

  it('checkpoints on the calling thread when its worker cannot open the database', (t) => {
    const logged = t.mock.method(console, 'error', () => {});
    // The worker is pointed at a file that cannot exist; the commits are on the test's database.
    return withCheckpointer('fallback.db', { workerPath: join(dir, 'missing', 'nowhere.db') }, async (db, checkpointer) => {
      write(db, 1, 500);
      const result = await checkpointer.checkpoint();
      assert.ok(result.log > 0);
      assert.equal(result.checkpointed, result.log);
      assert.match(String(logged.mock.calls[0]?.arguments[0]), /checkpointing here/);
    });
  });

  it('ends an idle worker and starts another for the next checkpoint', (t) => {
    const logged = t.mock.method(console, 'error', () => {});
    return withCheckpointer('idle.db', { idleMs: 50 }, async (db, checkpointer) => {
      write(db, 1, 200);
      assert.equal((await checkpointer.checkpoint()).checkpointed > 0, true);
      assert.equal(workerThreads(), 1, 'the worker runs');
      // Idle for 50 ms, it ends (a loaded machine may take a while to get there).
      for (let waited = 0; workerThreads() > 0 && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(workerThreads(), 0, 'the idle worker ended');
      write(db, 201, 200);
      const again = await checkpointer.checkpoint();
      assert.ok(again.log > 0);
      assert.equal(again.checkpointed, again.log);
      assert.deepEqual(logged.mock.calls, [], 'no fallback to this thread');
    });
  });

  it('starts a checkpoint once enough writes were committed, and the log then starts over', () =>
    withCheckpointer('threshold.db', { writes: 1000 }, async (db, checkpointer, path) => {
      write(db, 1, 1000);
      checkpointer.committed(1000);
      const result = await checkpointer.checkpoint(); // the one in flight
      assert.equal(result.checkpointed, result.log);
      const grown = (await stat(`${path}-wal`)).size;
      // The next commits copy the tail and write from the start of the log again.
      for (let i = 0; i < 5; i++) {
        write(db, 1001 + i * 10, 10);
        checkpointer.committed(10);
      }
      assert.ok((await stat(`${path}-wal`)).size <= grown, 'the log did not grow: it started over');
    }));
});
