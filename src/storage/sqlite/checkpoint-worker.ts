/**
 * The checkpoint worker (see `checkpointer.ts`): its own connection to the database, which runs
 * PASSIVE checkpoints whenever the committing thread asks. PASSIVE copies every committed page
 * it can without waiting for, or blocking, the writer.
 *
 * The log starts over only when a commit begins while every page of it is in the file. Under
 * steady writes, new commits land while the bulk is being copied, so one pass never finishes
 * the job; each further pass copies only what came meanwhile — far less, far faster — until one
 * finds nothing left to copy.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path } = workerData as { path: string };
const db = new DatabaseSync(path);
// Never checkpoint on its own: this connection only ever runs the checkpoints it is asked for.
db.exec('PRAGMA wal_autocheckpoint = 0');
// The copy is fsynced before the log may start over, as the committing connection would.
db.exec('PRAGMA synchronous = FULL');
const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

/** Passes after the first, at most: the writer outrunning the copy for this long gives up until next time. */
const MAX_PASSES = 50;

parentPort!.on('message', () => {
  try {
    let row = statement.get() as { log: number; checkpointed: number };
    for (let pass = 1; pass <= MAX_PASSES && row.checkpointed < row.log; pass++) {
      row = statement.get() as { log: number; checkpointed: number };
    }
    parentPort!.postMessage({ result: { log: row.log, checkpointed: row.checkpointed } });
  } catch (error) {
    parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
