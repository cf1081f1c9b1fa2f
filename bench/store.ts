/**
 * Storage benchmark: the embedded SQLite driver against a real etcd started on loopback in the
 * same run, both durable (SQLite fsyncs every commit, etcd its WAL by default).
 *
 *   node_modules/.bin/node bench/store.ts
 *
 * Each phase runs for a fixed time, so the whole run is bounded (about 30 s). Prints a markdown
 * table and the sqlite/etcd write ratio at 100 concurrent writers.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdUnavailableReason, startEtcd } from '../src/storage/etcd/test-etcd.ts';
import { openBackend, type Backend } from '../src/storage/index.ts';

/** How long each measured phase runs, in ms. */
const PHASE_MS = 2000;
const VALUE = 'x'.repeat(1024);
const LIST_KEYS = 1000;

interface Figures {
  create1: number;
  create100: number;
  get100: number;
  list1000: number;
}

/** Runs `workers` loops of `op` until the phase ends; returns completed ops per second. */
async function rate(workers: number, op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const deadline = started + PHASE_MS;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await op(worker, i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function measure(name: string, backend: Backend): Promise<Figures> {
  const run = Date.now().toString(36);
  process.stderr.write(`${name}: create, 1 writer…\n`);
  const create1 = await rate(1, (_, i) => backend.create(`/bench/${run}/one/${i}`, VALUE));
  process.stderr.write(`${name}: create, 100 writers…\n`);
  const create100 = await rate(100, (w, i) => backend.create(`/bench/${run}/many/${w}/${i}`, VALUE));

  const keys = Array.from({ length: LIST_KEYS }, (_, i) => `/bench/${run}/list/${String(i).padStart(4, '0')}`);
  for (let i = 0; i < keys.length; i += 100) {
    await Promise.all(keys.slice(i, i + 100).map((key) => backend.create(key, VALUE)));
  }
  process.stderr.write(`${name}: get, 100 readers…\n`);
  const get100 = await rate(100, (w, i) => backend.get(keys[(w * 7919 + i) % keys.length]!));
  process.stderr.write(`${name}: list of ${LIST_KEYS} keys…\n`);
  const list1000 = await rate(1, async () => {
    const { kvs } = await backend.list(`/bench/${run}/list/`);
    if (kvs.length !== LIST_KEYS) throw new Error(`list returned ${kvs.length} keys`);
  });
  return { create1, create100, get100, list1000 };
}

function machine(): string {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${model}, ${cpus().length} cores, Node ${process.version}`;
}

const round = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-'));
  const skipEtcd = etcdUnavailableReason();
  const etcd = skipEtcd === undefined ? await startEtcd() : undefined;
  try {
    const sqlite = await openBackend(`sqlite://${join(dir, 'state.db')}`, { dataDir: dir });
    const s = await measure('sqlite', sqlite);
    await sqlite.close();

    let e: Figures | undefined;
    if (etcd !== undefined) {
      const client = await openBackend(etcd.endpoint, { dataDir: dir });
      e = await measure('etcd', client);
      await client.close();
    }

    const rows: Array<[string, keyof Figures]> = [
      ['create 1 KiB, 1 writer (writes/s)', 'create1'],
      ['create 1 KiB, 100 writers (writes/s)', 'create100'],
      ['get, 100 readers (reads/s)', 'get100'],
      [`list ${LIST_KEYS.toLocaleString('en-US')} keys, 1 reader (lists/s)`, 'list1000'],
    ];
    console.log(`Machine: ${machine()}\n`);
    console.log('| operation | sqlite | etcd 3.4 | sqlite/etcd |');
    console.log('|---|---:|---:|---:|');
    for (const [label, field] of rows) {
      const etcdFigure = e === undefined ? 'n/a' : round(e[field]);
      const ratio = e === undefined ? 'n/a' : `${(s[field] / e[field]).toFixed(1)}×`;
      console.log(`| ${label} | ${round(s[field])} | ${etcdFigure} | ${ratio} |`);
    }
    console.log();
    if (e === undefined) console.log(`etcd skipped: ${skipEtcd}`);
    else console.log(`sqlite/etcd at 100 writers: ${(s.create100 / e.create100).toFixed(1)}×`);
  } finally {
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// A hung store must not hang the run: give up (the etcd helper's exit hook kills etcd).
setTimeout(() => {
  console.error('bench/store.ts: gave up after 120 s');
  process.exit(1);
}, 120_000).unref();

await main();
