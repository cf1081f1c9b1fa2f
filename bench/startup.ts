/**
 * Start-up time and idle memory of `skiff server` (SQLite, agent disabled).
 *
 *   node_modules/.bin/node bench/startup.ts
 *
 * Start-to-ready is the time from spawning `bin/skiff server` until `GET /readyz` answers 200,
 * polled every 10 ms over HTTPS with the cluster CA (read from the data dir as soon as the
 * server has written it), like a readiness probe: a new connection per poll. It is measured
 * on new data dirs and on restarts of one data dir holding ~2,000 objects; median of 5 each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ApiClient, readKubeconfig } from './lib/client.ts';
import { fileSystemOf, machineLine } from './lib/machine.ts';
import { cpuSeconds, freePort, machineBusySeconds, ownCpuSeconds, rssBytes, runBench, waitForQuietMachine } from './lib/process.ts';
import { mib, ms, summarize } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';

const RUNS = 5;
const OBJECTS = 2000;
const POLL_MS = 10;
const IDLE_MS = 5000;
const START_TIMEOUT_MS = 30_000;
const skiff = resolve(import.meta.dirname, '..', 'bin', 'skiff');

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

interface Started {
  child: ChildProcess;
  port: number;
  /** Spawn to the first 200 from /readyz, in ms. */
  readyMs: number;
  /** The server's own "ready in" figure (until its kubeconfig is written), in ms. */
  selfReportedMs: number | undefined;
  /** CPU seconds the server used until ready. */
  serverCpu: number;
  /** Cores used by other processes on the machine meanwhile (0 = a quiet machine). */
  otherCores: number;
  log: () => string;
}

const sleep = (delay: number) => new Promise((r) => setTimeout(r, delay));

/** One GET /readyz on a new connection; 0 when it fails to connect or verify. */
function readyz(port: number, ca: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = httpsRequest({ hostname: '127.0.0.1', port, path: '/readyz', ca, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.on('error', () => resolvePromise(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Spawns a server on `dataDir` and waits for /readyz. */
async function start(dataDir: string): Promise<Started> {
  const port = await freePort();
  const caFile = join(dataDir, 'server', 'tls', 'server-ca.crt');
  const machine0 = machineBusySeconds();
  const own0 = ownCpuSeconds();
  const t0 = performance.now();
  const child = spawn(skiff, ['server', '--data-dir', dataDir, '--https-listen-port', String(port), '--disable-agent'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  let ca: string | undefined;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`skiff server exited early:\n${log}`);
    if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`skiff server not ready after ${START_TIMEOUT_MS} ms:\n${log}`);
    // A new data dir has no CA until the server creates it, and the server cannot listen before.
    ca ??= await readFile(caFile, 'utf8').catch(() => undefined);
    if (ca !== undefined && (await readyz(port, ca)) === 200) break;
    await sleep(POLL_MS);
  }
  const readyMs = performance.now() - t0;
  const serverCpu = cpuSeconds(child.pid!);
  const otherCores = Math.max(0, machineBusySeconds() - machine0 - serverCpu - (ownCpuSeconds() - own0)) / (readyMs / 1000);
  // Wait for the server's own log of readiness too (it follows the kubeconfig write).
  while (!/ready in/.test(log) && performance.now() - t0 < START_TIMEOUT_MS) await sleep(5);
  const self = /ready in ([\d.]+) s/.exec(log);
  return { child, port, readyMs, selfReportedMs: self ? Number(self[1]) * 1000 : undefined, serverCpu, otherCores, log: () => log };
}

/** SIGTERM, then wait for exit (SIGKILL after 10 s). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-startup-'));
  dirs.add(dir);
  return dir;
}

/** Starts on `dataDir` and creates `count` ConfigMaps of ~1 KiB in namespace `bench`. */
async function populate(dataDir: string, count: number): Promise<void> {
  const s = await start(dataDir);
  const api = new ApiClient(await readKubeconfig(join(dataDir, 'kubeconfig.yaml')), { maxSockets: 20 });
  try {
    await api.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const name = `cm-${next++}`;
          await api.json('POST', '/api/v1/namespaces/bench/configmaps', {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name },
            data: { payload: 'x'.repeat(900) },
          });
        }
      }),
    );
  } finally {
    api.close();
    await stop(s.child);
  }
}

interface Series {
  label: string;
  ready: number[];
  self: number[];
  serverCpu: number[];
  otherCores: number[];
  idleRss?: number;
}

/** RUNS starts; the last one also idles IDLE_MS before its RSS is read. */
async function series(label: string, dataDir: () => Promise<string>): Promise<Series> {
  const out: Series = { label, ready: [], self: [], serverCpu: [], otherCores: [] };
  for (let run = 0; run < RUNS; run++) {
    const s = await start(await dataDir());
    out.ready.push(s.readyMs);
    out.serverCpu.push(s.serverCpu * 1000);
    out.otherCores.push(s.otherCores);
    if (s.selfReportedMs !== undefined) out.self.push(s.selfReportedMs);
    if (run === RUNS - 1) {
      await sleep(IDLE_MS);
      out.idleRss = rssBytes(s.child.pid!);
    }
    await stop(s.child);
  }
  return out;
}

await runBench(
  async () => {
    const loadBefore = await waitForQuietMachine();
    console.error(`new data dir × ${RUNS}…`);
    const fresh = await series('new data dir', newDataDir);
    const existing = await newDataDir();
    console.error(`populating a data dir with ${OBJECTS} ConfigMaps…`);
    await populate(existing, OBJECTS);
    console.error(`restart × ${RUNS}…`);
    const restart = await series(`existing data dir (${OBJECTS.toLocaleString('en-US')} ConfigMaps + built-ins)`, async () => existing);

    const met = (ok: boolean) => (ok ? 'yes' : 'NO');
    const row = (s: Series) => {
      const r = summarize(s.ready);
      return [
        s.label,
        ms(r.p50),
        `${ms(Math.min(...s.ready))} – ${ms(r.max)}`,
        s.self.length ? ms(summarize(s.self).p50) : '–',
        ms(summarize(s.serverCpu).p50),
        `${Math.round(summarize(s.otherCores).p50 * 100)}%`,
        s.idleRss === undefined ? '–' : mib(s.idleRss),
      ];
    };
    console.log('## Skiff server start-up (SQLite store, agent disabled)\n');
    console.log(machineLine());
    console.log(`Load from other processes just before the run: ${loadBefore.toFixed(2)} cores.`);
    console.log(`Data dirs on ${fileSystemOf(existing)}.`);
    console.log(
      `\nStart-to-ready = spawn of \`bin/skiff server\` → first 200 from \`/readyz\` (polled every ${POLL_MS} ms, ` +
        `new TLS connection each, CA-verified); median of ${RUNS} runs. "Server's own" is the server's logged ` +
        `"ready in" (from its start, through its own /readyz check and kubeconfig write). Idle RSS is read from ` +
        `/proc after ${IDLE_MS / 1000} s idle on the last run. The bench only polls, so the server has the ` +
        'machine to itself, unless "other CPU" (every other process, 100% = one core) says otherwise.\n',
    );
    console.log(
      markdownTable(
        ['Data dir', 'start-to-ready p50 ms', 'min – max ms', "server's own ms (p50)", 'server CPU ms (p50)', 'other CPU (p50)', 'idle RSS MiB'],
        [row(fresh), row(restart)],
      ),
    );
    for (const s of [fresh, restart]) {
      const other = summarize(s.otherCores).p50;
      if (other > 0.25) {
        console.log(
          `\n⚠ ${s.label}: other processes used ${Math.round(other * 100)}% of a core during a typical start, so ` +
            'these times are worse than on a quiet machine. Run again when the machine is idle.',
        );
      }
    }
    const restartMedian = summarize(restart.ready).p50;
    const worstRss = Math.max(fresh.idleRss ?? 0, restart.idleRss ?? 0);
    console.log('\n### Targets\n');
    console.log(
      markdownTable(
        ['Target', 'Measured', 'Met'],
        [
          ['start-to-ready < 1 s on an existing data dir', `${ms(restartMedian)} ms`, met(restartMedian < 1000)],
          ['idle RSS < 120 MB', `${((worstRss) / 1e6).toFixed(1)} MB (${mib(worstRss)} MiB)`, met(worstRss < 120e6)],
        ],
        ['left', 'right', 'left'],
      ),
    );
  },
  async () => {
    await Promise.all([...children].map(stop));
    await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
  },
);
