/**
 * Scheduler throughput, scheduler_perf "SchedulingBasic" style: N Node objects (500, then 5,000;
 * no simulator: the scheduler reads only Node objects), then 10,000 pods with small requests
 * (100m CPU, 500 MiB, as scheduler_perf's default pod) created by 50 concurrent HTTPS clients,
 * scheduled by the scheduler inside `skiff server`. A watch on pods records when each pod's
 * `spec.nodeName` appears; throughput is pods bound per second from the first binding to the
 * last. The pods' creation rate is shown beside it, since creation and scheduling share the
 * server's thread.
 *
 *   node_modules/.bin/node bench/scheduler.ts [nodes…]      (default: 500 5000)
 *   PODS=2000 node_modules/.bin/node bench/scheduler.ts 5000
 */
import { ApiClient, readKubeconfig, type WatchHandle } from './lib/client.ts';
import { machineLine } from './lib/machine.ts';
import { cpuBetween, cpuSnapshot, rssBytes, runBench, waitForQuietMachine } from './lib/process.ts';
import { BenchServer } from './lib/server.ts';
import { markdownTable } from './lib/table.ts';
import { defaultProfile, Framework, NodeInfo, PodInfo, type ClusterTotals } from '../src/scheduler/index.ts';

const NODE_COUNTS = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : [500, 5000];
const PODS = Number(process.env.PODS ?? 10_000);
const CONCURRENCY = 50;
const NS = 'sched-bench';
const TIMEOUT_MS = 300_000;

interface Row {
  nodes: number;
  pods: number;
  createRate: number;
  scheduleRate: number;
  p50: number;
  p99: number;
  cpu: string;
  other: string;
  rss: number;
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function runOne(nodes: number): Promise<Row> {
  const bench = new BenchServer();
  let client: ApiClient | undefined;
  let watch: WatchHandle | undefined;
  try {
    const load = await waitForQuietMachine({ maxWaitMs: 10_000 });
    const server = await bench.start();
    const credentials = await readKubeconfig(server.kubeconfig);
    client = new ApiClient(credentials, { maxSockets: CONCURRENCY });
    const watchClient = new ApiClient(credentials, { maxSockets: 2 });
    await client.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const names = Array.from({ length: nodes }, (_, i) => `node-${i}`);
    await pool(names, CONCURRENCY, async (name) => {
      await client!.json('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${names.indexOf(name) % 3}` } },
        status: {
          capacity: { cpu: '4', memory: '32Gi', pods: '110' },
          allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      });
    });
    // Creation times and binding times of every pod, from one monotonic clock.
    const created = new Map<string, number>();
    const bound = new Map<string, number>();
    let done!: () => void;
    const allBound = new Promise<void>((r) => (done = r));
    const list = await client.json<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${NS}/pods`);
    watch = await watchClient.watch(`/api/v1/namespaces/${NS}/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (line, at) => {
      const event = JSON.parse(line) as { object: { metadata: { name: string }; spec?: { nodeName?: string } } };
      const pod = event.object;
      if (pod.spec?.nodeName && !bound.has(pod.metadata.name)) {
        bound.set(pod.metadata.name, at);
        if (bound.size === PODS) done();
      }
    });
    const cpu0 = cpuSnapshot(server.process.pid!);
    const start = performance.now();
    const podNames = Array.from({ length: PODS }, (_, i) => `pod-${i}`);
    await pool(podNames, CONCURRENCY, async (name) => {
      created.set(name, performance.now());
      await client!.json('POST', `/api/v1/namespaces/${NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } } }] },
      });
    });
    const createSeconds = (performance.now() - start) / 1000;
    await Promise.race([allBound, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${bound.size}/${PODS} pods bound in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS).unref())]);
    const cpu = cpuBetween(cpu0, cpuSnapshot(server.process.pid!));
    const times = [...bound.values()].sort((a, b) => a - b);
    const latencies = [...bound].map(([name, at]) => at - created.get(name)!).sort((a, b) => a - b);
    const rss = rssBytes(server.process.pid!);
    return {
      nodes,
      pods: PODS,
      createRate: PODS / createSeconds,
      scheduleRate: (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000),
      p50: latencies[Math.floor(latencies.length * 0.5)]!,
      p99: latencies[Math.floor(latencies.length * 0.99)]!,
      cpu: cpu.server.toFixed(2),
      other: `${load.toFixed(2)} / ${cpu.other.toFixed(2)}`,
      rss: rss / 2 ** 20,
    };
  } finally {
    watch?.close();
    client?.close();
    await bench.dispose();
  }
}

/** Pods per second of the scheduling cycle alone over `nodes` nodes. */
function algorithmOnly(nodes: number, owned: boolean): number {
  const totals: ClusterTotals = { podsWithAffinity: 0, podsWithRequiredAntiAffinity: 0, controllerZones: new Map() };
  const infos: NodeInfo[] = [];
  for (let i = 0; i < nodes; i++) {
    const info = new NodeInfo(`node-${i}`, totals);
    const labels = { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 3}` };
    info.setNode({ metadata: { name: `node-${i}`, labels }, status: { allocatable: { cpu: '4', memory: '32Gi', pods: '110' } } });
    infos.push(info);
  }
  const byName = new Map(infos.map((n) => [n.name, n]));
  const snapshot = { nodes: infos, get: (name: string) => byName.get(name), namespaceLabels: () => undefined, totals };
  const framework = new Framework(defaultProfile());
  const owner = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true }] };
  const start = performance.now();
  for (let i = 0; i < PODS; i++) {
    const pod = new PodInfo({
      metadata: { name: `pod-${i}`, namespace: NS, uid: `uid-${i}`, ...(owned ? owner : {}) },
      spec: { containers: [{ name: 'pause', image: 'pause', resources: { requests: { cpu: '100m', memory: '500Mi' } } }] },
    });
    const result = framework.schedule(pod, snapshot);
    if (!result.node) throw new Error(`pod-${i} fits nowhere`);
    result.node.addPod(pod);
  }
  return PODS / ((performance.now() - start) / 1000);
}

await runBench(async () => {
  console.log(machineLine());
  const algorithm = NODE_COUNTS.map((n) => [n, PODS, algorithmOnly(n, false).toFixed(0), algorithmOnly(n, true).toFixed(0)]);
  console.log(markdownTable(['Nodes', 'Pods', 'Cycle only: plain pods/s', 'Cycle only: one controller\'s pods/s'], algorithm));
  const rows: Row[] = [];
  for (const n of NODE_COUNTS) {
    const row = await runOne(n);
    rows.push(row);
    console.error(`${n} nodes: ${row.scheduleRate.toFixed(0)} pods/s`);
  }
  console.log(
    markdownTable(
      ['Nodes', 'Pods', 'Pods created/s', 'Pods scheduled/s', 'Create→bound p50 / p99', 'Server CPU (cores)', 'Other load before / during (cores)', 'Server RSS'],
      rows.map((r) => [r.nodes, r.pods, r.createRate.toFixed(0), r.scheduleRate.toFixed(0), `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} ms`, r.cpu, r.other, `${r.rss.toFixed(0)} MiB`]),
    ),
  );
}, async () => undefined);
