/**
 * Watch fan-out: 1,000 HTTPS watch connections on one namespace's ConfigMaps, then 200 updates
 * spaced ~10 ms apart (100 writes/s, so 100,000 deliveries/s), or as far apart as the first
 * argument says (`bench/watch.ts 50` for 20 writes/s). Each update carries the time it was sent in an annotation; every watcher
 * records delivery time − write time, so a figure covers the whole path: request, validation,
 * the SQLite commit, the watch cache, serialization and 1,000 TLS writes, and the client's read.
 *
 *   node_modules/.bin/node bench/watch.ts [spacing-ms]
 *
 * Writer and watchers live in this process, so both times come from one monotonic clock.
 */
import { ApiClient, readKubeconfig, type WatchHandle } from './lib/client.ts';
import { fileSystemOf, machineLine } from './lib/machine.ts';
import { cpuBetween, cpuSnapshot, rssBytes, runBench, waitForQuietMachine } from './lib/process.ts';
import { mib, ms, summarize } from './lib/stats.ts';
import { BenchServer } from './lib/server.ts';
import { markdownTable } from './lib/table.ts';

const WATCHERS = 1000;
const UPDATES = 200;
const SPACING_MS = Number(process.argv[2] ?? '10');
if (!Number.isFinite(SPACING_MS) || SPACING_MS <= 0) throw new RangeError(`spacing "${process.argv[2]}" is not a positive number of ms`);
/** Watches opened at once while attaching (each is a TLS handshake on both sides). */
const ATTACH_CONCURRENCY = 50;
/** How long to wait for stragglers after the last update. */
const DRAIN_TIMEOUT_MS = 30_000;
const NS = 'bench-watch';
const ANNOTATION = 'bench.skiff.dev/written-at';

interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string>; [k: string]: unknown };
  data: Record<string, string>;
}

const sleep = (msDelay: number) => new Promise((r) => setTimeout(r, Math.max(0, msDelay)));

const bench = new BenchServer();
const watches: WatchHandle[] = [];
let writer: ApiClient | undefined;
let watchClient: ApiClient | undefined;

await runBench(
  async () => {
    const loadBefore = await waitForQuietMachine();
    const server = await bench.start();
    const pid = server.process.pid!;
    const credentials = await readKubeconfig(server.kubeconfig);
    // A connection per update: a PUT never waits in the client for a free socket, so its send
    // time is when it reaches the wire.
    writer = new ApiClient(credentials, { maxSockets: UPDATES });
    // Watches never end, so they get their own pool with one connection each.
    watchClient = new ApiClient(credentials, { maxSockets: Infinity, keepAlive: false });

    await writer.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // One object per update: updates are independent, so the schedule never waits for an answer.
    const objects: ConfigMap[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < UPDATES) {
          const i = next++;
          const body: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { value: '0' } };
          objects[i] = await writer!.json<ConfigMap>('POST', `/api/v1/namespaces/${NS}/configmaps`, body);
        }
      }),
    );
    const list = await writer.json<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${NS}/configmaps`);
    const fromRv = list.metadata.resourceVersion;
    // Open the writer's connections now, so no TLS handshake lands in an update's latency.
    await Promise.all(Array.from({ length: UPDATES }, () => writer!.request('GET', `/api/v1/namespaces/${NS}`)));
    const rssBefore = rssBytes(pid);

    // Every delivery's latency, in arrival order.
    const latencies = new Float64Array(WATCHERS * UPDATES);
    let delivered = 0;
    let unexpected = 0;
    let eventBytes = 0;
    let allDelivered: () => void = () => undefined;
    const done = new Promise<void>((r) => (allDelivered = r));
    const marker = `"${ANNOTATION}":"`;
    const onLine = (line: string, receivedAt: number) => {
      // Skiff writes "type" first; scanning for the annotation is far cheaper than JSON.parse,
      // and the parser's time would otherwise count against the server (they share the CPU).
      const at = line.indexOf(marker);
      if (!line.startsWith('{"type":"MODIFIED"') || at === -1) {
        unexpected++;
        return;
      }
      eventBytes ||= Buffer.byteLength(line) + 1;
      const start = at + marker.length;
      const writtenAt = Number(line.slice(start, line.indexOf('"', start)));
      latencies[delivered++] = receivedAt - writtenAt;
      if (delivered === latencies.length) allDelivered();
    };

    console.error(`skiff server pid ${pid}; attaching ${WATCHERS} watchers…`);
    const path = `/api/v1/namespaces/${NS}/configmaps?watch=true&resourceVersion=${fromRv}`;
    const attachStart = performance.now();
    let opened = 0;
    await Promise.all(
      Array.from({ length: ATTACH_CONCURRENCY }, async () => {
        while (opened < WATCHERS) {
          opened++;
          watches.push(await watchClient!.watch(path, onLine));
        }
      }),
    );
    const attachSeconds = (performance.now() - attachStart) / 1000;
    await sleep(1000); // let the handshakes' garbage settle before reading memory
    const rssWatching = rssBytes(pid);

    console.error(`sending ${UPDATES} updates ${SPACING_MS} ms apart…`);
    const writeLatencies: number[] = [];
    let writeErrors = 0;
    const cpu0 = cpuSnapshot(pid);
    const t0 = performance.now();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < UPDATES; i++) {
      await sleep(t0 + i * SPACING_MS - performance.now());
      const current = objects[i]!;
      const writtenAt = performance.now();
      const body: ConfigMap = {
        ...current,
        metadata: { ...current.metadata, annotations: { [ANNOTATION]: writtenAt.toFixed(3) } },
        data: { value: String(i) },
      };
      writes.push(
        writer.request('PUT', `/api/v1/namespaces/${NS}/configmaps/${current.metadata.name}`, body).then((res) => {
          writeLatencies.push(performance.now() - writtenAt);
          if (res.status !== 200) {
            writeErrors++;
            console.error(`update of ${current.metadata.name} answered ${res.status}: ${res.body.slice(0, 200)}`);
          }
        }),
      );
    }
    const sendSeconds = (performance.now() - t0) / 1000;
    await Promise.all(writes);
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (drainTimer = setTimeout(r, DRAIN_TIMEOUT_MS)))]);
    clearTimeout(drainTimer);
    const cpu1 = cpuSnapshot(pid);
    const cpu = cpuBetween(cpu0, cpu1);
    // Robust to a busy machine, unlike latency: CPU time, not wall time.
    const serverMicrosPerDelivery = ((cpu1.server - cpu0.server) * 1e6) / Math.max(1, delivered);
    const rssAfter = rssBytes(pid);

    const d = summarize(latencies.subarray(0, delivered));
    const w = summarize(writeLatencies);
    const expected = WATCHERS * UPDATES;
    const met = (ok: boolean) => (ok ? 'yes' : 'NO');

    const rate = Math.round(1000 / SPACING_MS);
    console.log(`## Skiff watch fan-out at ${rate} writes/s (ConfigMaps, SQLite store)\n`);
    console.log(machineLine());
    console.log(`Load from other processes just before the run: ${loadBefore.toFixed(2)} cores.`);
    console.log(`Data dir on ${fileSystemOf(server.dataDir)}.`);
    console.log(
      `\n${WATCHERS.toLocaleString('en-US')} watch connections (HTTP/1.1 over TLS, one socket each) on namespace ` +
        `\`${NS}\`; ${UPDATES} updates of distinct ConfigMaps sent every ${SPACING_MS} ms (took ${sendSeconds.toFixed(2)} s). ` +
        'Latency = arrival of the event at the watcher − the moment the PUT was sent, both on this ' +
        "process's monotonic clock. The watchers and the writer (this process) and `skiff server` " +
        '(its child process) share the same cores over loopback.\n',
    );
    console.log(
      markdownTable(
        ['Measure', 'Value'],
        [
          ['deliveries (expected 1,000 × 200)', `${delivered.toLocaleString('en-US')} / ${expected.toLocaleString('en-US')}`],
          ['unexpected events', unexpected],
          ['size of one event line', `${eventBytes} bytes`],
          ['delivery p50', `${ms(d.p50)} ms`],
          ['delivery p99', `${ms(d.p99)} ms`],
          ['delivery max', `${ms(d.max)} ms`],
          ['update (PUT) p50 / p99', `${ms(w.p50)} / ${ms(w.p99)} ms`],
          ['update errors', writeErrors],
          [`time to attach ${WATCHERS} watchers`, `${attachSeconds.toFixed(2)} s`],
          ['server RSS before watchers', `${mib(rssBefore)} MiB`],
          [`server RSS with ${WATCHERS} watchers attached`, `${mib(rssWatching)} MiB`],
          ['server RSS after the updates', `${mib(rssAfter)} MiB`],
          ['server CPU from first update to last delivery (100% = one core)', `${Math.round(cpu.server * 100)}%`],
          ['server CPU time per delivery (all of the server\'s work ÷ deliveries)', `${serverMicrosPerDelivery.toFixed(1)} µs`],
          ['load generator CPU, same interval', `${Math.round(cpu.client * 100)}%`],
          ['other processes on the machine, same interval', `${Math.round(cpu.other * 100)}%`],
        ],
        ['left', 'right'],
      ),
    );
    if (cpu.other > 0.25) {
      console.log(
        `\n⚠ Other processes used ${Math.round(cpu.other * 100)}% of a core during the updates: the latencies are worse ` +
          'than this server on a quiet machine. Run again when the machine is idle.',
      );
    }
    console.log('\n### Targets\n');
    console.log(
      markdownTable(
        ['Target', 'Measured', 'Met'],
        [
          [`delivery p99 < 100 ms (${rate} writes/s × ${WATCHERS.toLocaleString('en-US')} watchers = ${(rate * WATCHERS).toLocaleString('en-US')} deliveries/s)`, `${ms(d.p99)} ms`, met(d.p99 < 100)],
          ['every event delivered (200,000)', delivered.toLocaleString('en-US'), met(delivered === expected)],
        ],
        ['left', 'right', 'left'],
      ),
    );
    if (delivered !== expected) process.exitCode = 1;
  },
  async () => {
    for (const w of watches) w.close();
    watchClient?.close();
    writer?.close();
    await bench.dispose();
  },
);
