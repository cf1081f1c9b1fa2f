/**
 * API latency and throughput: create, get, update and list of ConfigMaps at 1, 10 and 100
 * concurrent clients against a real `skiff server` (SQLite, agent disabled) on loopback.
 *
 *   node_modules/.bin/node bench/api.ts
 *
 * Each client is an async loop over one keep-alive HTTPS Agent (maxSockets = clients); it
 * creates, reads and updates only its own objects, updating with the resourceVersion the last
 * answer carried, so no request conflicts. Lists read a namespace holding exactly 1,000
 * ConfigMaps of ~1 KiB. Latency is measured in the client, request start to last body byte.
 *
 * The Node client costs about as much CPU per request as the server on the shared cores, so
 * when `wrk` is installed the create, get and update phases at 100 connections run once more
 * with `wrk` as the load generator (see `lib/wrk.ts`); both tables are printed, and the server's
 * CPU per request — all threads, and its main (API) thread alone — in both. Around each `wrk`
 * phase the server's `/metrics` are read (`lib/server-metrics.ts`): the store's log syncs and the
 * API thread's garbage collections during the phase, what a write waits for besides the work.
 */
import { randomBytes } from 'node:crypto';
import { ApiClient, readKubeconfig, type Credentials } from './lib/client.ts';
import { fileSystemOf, machineLine } from './lib/machine.ts';
import { cpuBetween, cpuSeconds, cpuSnapshot, machineBusySeconds, mainThreadCpuSeconds, runBench, waitForQuietMachine } from './lib/process.ts';
import { ms, summarize, type Summary } from './lib/stats.ts';
import { BenchServer } from './lib/server.ts';
import { markdownTable } from './lib/table.ts';
import { collectionsBetween, readServer, syncsBetween, type GcTotals, type StoreSyncs } from './lib/server-metrics.ts';
import { haveWrk, runWrk, WrkScripts, type WrkResult } from './lib/wrk.ts';

const LEVELS = [1, 10, 100];
/** Requests per single-object phase (create, get, update) at each level: ~2–5 s each. */
const SINGLE_OPS: Record<number, number> = { 1: 3000, 10: 6000, 100: 10_000 };
/** Lists per level: a list of 1,000 objects moves ~1.3 MB, so fewer of them. */
const LIST_OPS: Record<number, number> = { 1: 50, 10: 100, 100: 200 };
const LIST_SIZE = 1000;
/** No phase issues new requests after this long, whatever its count (bounds the run time). */
const PHASE_DEADLINE_MS = 15_000;
/** Warm-up at 100 clients: long enough (over a second of saturation) for the server to start
 * its front-end threads, so every measured phase sees the server as it runs under load. */
const WARMUP_OPS = 5000;
const WARMUP_CLIENTS = 100;
/** Other processes using more than this many cores during a phase make its figures suspect. */
const NOISY = 0.25;
/** Length of each `wrk` phase, and its connections. */
const WRK_SECONDS = 10;
const WRK_CONNECTIONS = 100;

interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  data: Record<string, string>;
}

/** A ConfigMap whose JSON is about 1 KiB once the server has added its metadata. */
function configMap(name: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { app: 'bench' } },
    data: { payload: randomBytes(600).toString('base64') },
  };
}

interface PhaseResult {
  op: string;
  clients: number;
  latency: Summary;
  opsPerSecond: number;
  errors: number;
  /** CPU used during the phase, in cores: server, load generator, other processes. */
  cpu: { server: number; client: number; other: number };
  /** Server CPU per request, µs: all its threads, and its main (API) thread. */
  perRequest: { server: number; main: number };
}

/** Server CPU counters of one process: all threads, and the main thread. */
function serverCpu(pid: number): { all: number; main: number } {
  return { all: cpuSeconds(pid), main: mainThreadCpuSeconds(pid) };
}

function perRequest(from: { all: number; main: number }, to: { all: number; main: number }, requests: number): { server: number; main: number } {
  return { server: ((to.all - from.all) / requests) * 1e6, main: ((to.main - from.main) / requests) * 1e6 };
}

/**
 * Runs `clients` loops, each calling `op(client, i)` for i in [0, perClient) until the deadline,
 * and times every call. `op` resolves to the HTTP status it got.
 */
async function phase(
  name: string,
  clients: number,
  perClient: number,
  serverPid: number,
  op: (client: number, i: number) => Promise<number>,
  expectStatus: number,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + PHASE_DEADLINE_MS;
  const cpu0 = cpuSnapshot(serverPid);
  const threads0 = serverCpu(serverPid);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient && performance.now() < deadline; i++) {
        const t0 = performance.now();
        const status = await op(c, i);
        latencies.push(performance.now() - t0);
        if (status !== expectStatus) errors++;
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  return {
    op: name,
    clients,
    latency: summarize(latencies),
    opsPerSecond: latencies.length / wall,
    errors,
    cpu: cpuBetween(cpu0, cpuSnapshot(serverPid)),
    perRequest: perRequest(threads0, serverCpu(serverPid), latencies.length),
  };
}

/** One `wrk` phase, with the server's CPU around it. */
interface WrkPhase {
  op: string;
  result: WrkResult;
  perRequest: { server: number; main: number };
  /** Cores: the server, and everything else (wrk and other processes). */
  cpu: { server: number; other: number };
  /** The store's log syncs meanwhile (from `/metrics`). */
  store: StoreSyncs | undefined;
  /** The API thread's full (`major`) and young-generation (`minor`) collections meanwhile. */
  gc: { major: GcTotals; minor: GcTotals };
}

async function wrkPhase(api: ApiClient, op: string, url: string, scripts: WrkScripts, serverPid: number, script: 'create' | 'get' | 'update', args: string[]): Promise<WrkPhase> {
  const metrics0 = await readServer(api);
  const cpu0 = serverCpu(serverPid);
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const result = await runWrk(url, scripts, script, { connections: WRK_CONNECTIONS, seconds: WRK_SECONDS, args });
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = serverCpu(serverPid);
  const server = (cpu1.all - cpu0.all) / seconds;
  const other = Math.max(0, (machineBusySeconds() - machine0) / seconds - server);
  const metrics1 = await readServer(api);
  return {
    op,
    result,
    perRequest: perRequest(cpu0, cpu1, result.requests),
    cpu: { server, other },
    store: metrics0.store && metrics1.store ? syncsBetween(metrics0.store, metrics1.store) : undefined,
    gc: { major: collectionsBetween(metrics0, metrics1, 'major'), minor: collectionsBetween(metrics0, metrics1, 'minor') },
  };
}

/** Create, get and update at {@link WRK_CONNECTIONS} connections with `wrk`, in namespace `ns`. */
async function wrkPhases(credentials: Credentials, url: string, serverPid: number, ns: string): Promise<WrkPhase[]> {
  const scripts = await WrkScripts.create();
  const api = new ApiClient(credentials);
  try {
    await createNamespace(api, ns);
    // Warm-up on the same paths, then the measured phases.
    await runWrk(url, scripts, 'create', { connections: WRK_CONNECTIONS, seconds: 2, args: ['warm', ns] });
    const create = await wrkPhase(api, 'create', url, scripts, serverPid, 'create', ['run', ns]);
    const made = String(Math.min(create.result.requests - create.result.errors - 1, 10_000));
    const get = await wrkPhase(api, 'get', url, scripts, serverPid, 'get', ['run', ns, made]);
    const update = await wrkPhase(api, 'update', url, scripts, serverPid, 'update', ['run', ns, made]);
    return [create, get, update];
  } finally {
    api.close();
    await scripts.dispose();
  }
}

/** Creates a namespace. */
async function createNamespace(api: ApiClient, name: string): Promise<void> {
  await api.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Create, get and update phases at one concurrency level, in namespace `ns`. */
async function singleObjectPhases(credentials: Credentials, serverPid: number, ns: string, clients: number, total: number): Promise<PhaseResult[]> {
  const api = new ApiClient(credentials, { maxSockets: clients, keepAlive: true });
  try {
    await createNamespace(api, ns);
    // Open every connection before timing, so no TLS handshake lands in the figures.
    await Promise.all(Array.from({ length: clients }, () => api.request('GET', `/api/v1/namespaces/${ns}`)));
    const perClient = Math.ceil(total / clients);
    const base = `/api/v1/namespaces/${ns}/configmaps`;
    // The latest version of each client's objects, as the server answered.
    const objects: ConfigMap[][] = Array.from({ length: clients }, () => []);
    const results: PhaseResult[] = [];

    results.push(
      await phase('create', clients, perClient, serverPid, async (c, i) => {
        const res = await api.request('POST', base, configMap(`cm-${c}-${i}`));
        if (res.status === 201) objects[c]!.push(JSON.parse(res.body) as ConfigMap);
        return res.status;
      }, 201),
    );
    // Gets and updates cycle over the objects the client did create (all of them, unless errors).
    const created = (c: number) => objects[c]!.length;
    results.push(
      await phase('get', clients, perClient, serverPid, async (c, i) => {
        const current = objects[c]![i % created(c)];
        if (!current) return 0; // this client created nothing: counted as an error
        return (await api.request('GET', `${base}/${current.metadata.name}`)).status;
      }, 200),
    );
    results.push(
      await phase('update', clients, perClient, serverPid, async (c, i) => {
        const mine = objects[c]!;
        const current = mine[i % created(c)];
        if (!current) return 0;
        const next: ConfigMap = { ...current, data: { payload: randomBytes(600).toString('base64') } };
        const res = await api.request('PUT', `${base}/${current.metadata.name}`, next);
        if (res.status === 200) mine[i % created(c)] = JSON.parse(res.body) as ConfigMap;
        return res.status;
      }, 200),
    );
    return results;
  } finally {
    api.close();
  }
}

/** Fills `ns` with exactly LIST_SIZE ConfigMaps and returns the size of one list answer. */
async function fillListNamespace(credentials: Credentials, ns: string): Promise<{ bytes: number; objectBytes: number }> {
  const api = new ApiClient(credentials, { maxSockets: 50 });
  try {
    await createNamespace(api, ns);
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < LIST_SIZE) await api.json('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap(`cm-${next++}`));
      }),
    );
    const list = await api.request('GET', `/api/v1/namespaces/${ns}/configmaps`);
    const items = (JSON.parse(list.body) as { items: unknown[] }).items;
    if (items.length !== LIST_SIZE) throw new Error(`namespace ${ns} lists ${items.length} ConfigMaps, expected ${LIST_SIZE}`);
    return { bytes: Buffer.byteLength(list.body), objectBytes: Buffer.byteLength(JSON.stringify(items[0])) };
  } finally {
    api.close();
  }
}

async function listPhase(credentials: Credentials, serverPid: number, ns: string, clients: number): Promise<PhaseResult> {
  const api = new ApiClient(credentials, { maxSockets: clients });
  try {
    await Promise.all(Array.from({ length: clients }, () => api.request('GET', `/api/v1/namespaces/${ns}`)));
    const perClient = Math.ceil(LIST_OPS[clients]! / clients);
    return await phase(`list ${LIST_SIZE}`, clients, perClient, serverPid, async () => {
      return (await api.request('GET', `/api/v1/namespaces/${ns}/configmaps`)).status;
    }, 200);
  } finally {
    api.close();
  }
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

const bench = new BenchServer();

await runBench(
  async () => {
    const began = performance.now();
    const loadBefore = await waitForQuietMachine();
    const server = await bench.start();
    const pid = server.process.pid!;
    const credentials = await readKubeconfig(server.kubeconfig);
    console.error(`skiff server pid ${pid} at ${server.url}; warming up…`);

    // Warm the JIT on both sides with the same requests the phases make; results are dropped.
    await singleObjectPhases(credentials, pid, 'bench-warmup', WARMUP_CLIENTS, WARMUP_OPS);

    const results: PhaseResult[] = [];
    for (const clients of LEVELS) {
      console.error(`create/get/update at ${clients} client(s)…`);
      results.push(...(await singleObjectPhases(credentials, pid, `bench-c${clients}`, clients, SINGLE_OPS[clients]!)));
    }
    console.error(`filling a namespace with ${LIST_SIZE} ConfigMaps…`);
    const listSize = await fillListNamespace(credentials, 'bench-list');
    for (const clients of LEVELS) {
      console.error(`list at ${clients} client(s)…`);
      results.push(await listPhase(credentials, pid, 'bench-list', clients));
    }

    let wrkResults: WrkPhase[] = [];
    let wrkLoad = 0;
    if (haveWrk()) {
      wrkLoad = await waitForQuietMachine();
      console.error(`create/get/update with wrk at ${WRK_CONNECTIONS} connections…`);
      wrkResults = await wrkPhases(credentials, server.url, pid, 'bench-wrk');
    }

    const order = ['create', 'get', 'update', `list ${LIST_SIZE}`];
    results.sort((a, b) => order.indexOf(a.op) - order.indexOf(b.op) || a.clients - b.clients);
    const find = (op: string, clients: number) => results.find((r) => r.op === op && r.clients === clients)!;

    console.log('## Skiff API latency and throughput (ConfigMaps, SQLite store)\n');
    console.log(machineLine());
    console.log(`Load from other processes just before the run: ${loadBefore.toFixed(2)} cores.`);
    console.log(`Data dir on ${fileSystemOf(server.dataDir)}; the SQLite store commits (fsync) before a write is answered.`);
    console.log(
      '\nThe load generator (this process) and `skiff server` (its child process) share the same ' +
        'cores over loopback HTTPS; the CPU columns show how much of the machine each used ' +
        '(100% = one core), so the server never had the whole machine to itself. "other CPU" is ' +
        'every other process on the machine: well above 0% means the figures are disturbed.\n',
    );
    console.log(
      markdownTable(
        ['Operation', 'Clients', 'Requests', 'Errors', 'p50 ms', 'p99 ms', 'max ms', 'ops/s', 'server CPU', 'client CPU', 'other CPU', 'server µs/op', 'main thread µs/op'],
        results.map((r) => [
          r.op,
          r.clients,
          r.latency.count,
          r.errors,
          ms(r.latency.p50),
          ms(r.latency.p99),
          ms(r.latency.max),
          Math.round(r.opsPerSecond).toLocaleString('en-US'),
          pct(r.cpu.server),
          pct(r.cpu.client),
          `${pct(r.cpu.other)}${r.cpu.other > NOISY ? ' ⚠' : ''}`,
          Math.round(r.perRequest.server),
          Math.round(r.perRequest.main),
        ]),
      ),
    );
    const noisy = results.filter((r) => r.cpu.other > NOISY).length;
    if (noisy > 0) {
      console.log(
        `\n⚠ ${noisy} of ${results.length} phases ran while other processes used more than ${NOISY * 100}% of a core: ` +
          'their latencies are worse than this server on a quiet machine. Run again when the machine is idle.',
      );
    }
    if (wrkResults.length > 0) {
      console.log(`\n### The same server under \`wrk\` (${WRK_CONNECTIONS} connections, one wrk thread, ${WRK_SECONDS} s per phase)\n`);
      console.log(
        `Load from other processes just before: ${wrkLoad.toFixed(2)} cores. Updates carry no resourceVersion ` +
          '(unconditional replace); "wrk + other CPU" is everything on the machine but the server.\n',
      );
      console.log(
        markdownTable(
          ['Operation', 'Requests', 'Errors', 'p50 ms', 'p99 ms', 'max ms', 'ops/s', 'server CPU', 'wrk + other CPU', 'server µs/op', 'main thread µs/op'],
          wrkResults.map((w) => [
            w.op,
            w.result.requests,
            w.result.errors,
            ms(w.result.p50),
            ms(w.result.p99),
            ms(w.result.max),
            Math.round(w.result.requests / w.result.seconds).toLocaleString('en-US'),
            pct(w.cpu.server),
            pct(w.cpu.other),
            Math.round(w.perRequest.server),
            Math.round(w.perRequest.main),
          ]),
        ),
      );
      console.log(
        '\nThe server meanwhile (its `/metrics`). A write is answered after an fdatasync of SQLite\'s log that started ' +
          "after its commit (sync percentiles are the bounds of the histogram's buckets, etcd's: 1 ms doubling; " +
          'a disk that keeps the p99 under 10 ms is what etcd asks for); a collection of the API thread\'s heap holds up ' +
          'every request in flight.\n',
      );
      const bound = (value: number) => (Number.isFinite(value) ? `≤ ${value}` : '> 8192');
      const collections = (totals: GcTotals) => `${totals.count} / ${(totals.seconds * 1000).toFixed(0)}`;
      console.log(
        markdownTable(
          ['Operation', 'log syncs', 'writes per sync', 'sync mean ms', 'sync p50 ms', 'sync p99 ms', 'syncs over 16 ms', 'full GCs / ms', 'young GCs / ms'],
          wrkResults.map((w) => {
            // No syncs (gets; an etcd store): nothing to say of them.
            const store = w.store && w.store.syncs > 0 ? w.store : undefined;
            return [
              w.op,
              w.store?.syncs ?? '–',
              store ? store.writesPerSync.toFixed(1) : '–',
              store ? store.meanMs.toFixed(2) : '–',
              store ? bound(store.p50Ms) : '–',
              store ? bound(store.p99Ms) : '–',
              store ? store.over16Ms : '–',
              collections(w.gc.major),
              collections(w.gc.minor),
            ];
          }),
        ),
      );
    } else {
      console.log('\n(`wrk` is not installed: no wrk table.)');
    }
    const create100 = find('create', 100);
    const update100 = find('update', 100);
    const wrkCreate = wrkResults.find((w) => w.op === 'create');
    const wrkUpdate = wrkResults.find((w) => w.op === 'update');
    const met = (ok: boolean) => (ok ? 'yes' : 'NO');
    const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
    console.log('\n### Targets\n');
    console.log(
      markdownTable(
        ['Target', 'Node client', 'Met', 'wrk', 'Met'],
        [
          ['create p99 < 25 ms at 100 clients', `${ms(create100.latency.p99)} ms`, met(create100.latency.p99 < 25), wrkCreate ? `${ms(wrkCreate.result.p99)} ms` : '–', wrkCreate ? met(wrkCreate.result.p99 < 25) : '–'],
          ['update p99 < 25 ms at 100 clients', `${ms(update100.latency.p99)} ms`, met(update100.latency.p99 < 25), wrkUpdate ? `${ms(wrkUpdate.result.p99)} ms` : '–', wrkUpdate ? met(wrkUpdate.result.p99 < 25) : '–'],
          [
            'creates ≥ 5,000/s at 100 clients',
            rate(create100.opsPerSecond),
            met(create100.opsPerSecond >= 5000),
            wrkCreate ? rate(wrkCreate.result.requests / wrkCreate.result.seconds) : '–',
            wrkCreate ? met(wrkCreate.result.requests / wrkCreate.result.seconds >= 5000) : '–',
          ],
        ],
        ['left', 'right', 'left', 'right', 'left'],
      ),
    );
    console.log(
      `\nObjects: ConfigMaps of ~${listSize.objectBytes} bytes of JSON; a list of ${LIST_SIZE} is ` +
        `${(listSize.bytes / 2 ** 20).toFixed(2)} MiB. Requests per single-object phase at 1/10/100 clients: ` +
        `${LEVELS.map((l) => SINGLE_OPS[l]!.toLocaleString('en-US')).join(' / ')} ` +
        `(each phase stops issuing after ${PHASE_DEADLINE_MS / 1000} s); after a warm-up of ${WARMUP_OPS.toLocaleString('en-US')} requests of each kind at ${WARMUP_CLIENTS} clients. ` +
        `Run took ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    );
  },
  () => bench.dispose(),
);
