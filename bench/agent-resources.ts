/**
 * The node agent's own resource use (root only):
 *
 *   node_modules/.bin/node bench/agent-resources.ts [--pods 100] [--window 60] [--idle-window 30]
 *
 * A `skiff server --disable-agent` and a separate `skiff agent --kubeconfig` process (so the
 * agent's memory and CPU are its own), busybox from a docker-registry on 127.0.0.1. Measured:
 * the agent's RSS idle (no pods) and its CPU over `--idle-window` seconds; then `--pods` pods
 * of `skiff.local/busybox`-style `sleep` containers (real runc), and once all are Running and
 * settled, the agent's RSS and its CPU over `--window` seconds — CPU per idle pod is that CPU
 * divided by the pod count (issue #5's figure). The per-container shims' RSS is shown beside it
 * (they are separate processes, one per container, forks of one spawner: their PSS counts shared
 * pages once). Prints a markdown table. Everything is
 * deleted and cleaned up at the end. Run it on a quiet machine (load average below 1).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanupNode, imageRegistry, uniqueNode } from '../test/helpers/agent.ts';
import { cleanup, startServer } from '../test/helpers/cluster.ts';
import { markdownTable } from './lib/table.ts';

const { values } = parseArgs({ options: { pods: { type: 'string' }, window: { type: 'string' }, 'idle-window': { type: 'string' } } });
const PODS = Number(values.pods ?? 100);
const WINDOW_S = Number(values.window ?? 60);
const IDLE_WINDOW_S = Number(values['idle-window'] ?? 30);
const skiff = resolve(import.meta.dirname, '..', 'bin', 'skiff');
const TICK = 100; // USER_HZ on Linux

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** Proportional set size: shared pages (the shims are forks of one spawner) split among their users. */
const pssMiB = (pid: number) => Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
/** CPU seconds the process used over `seconds` of wall time. */
async function cpuOver(pid: number, seconds: number): Promise<number> {
  const before = cpuSeconds(pid);
  await sleep(seconds * 1000);
  return cpuSeconds(pid) - before;
}
/** PIDs of the running containers' shims, from the runtime's records. */
function shimPids(dataDir: string): number[] {
  const dir = join(dataDir, 'agent', 'runtime', 'containers');
  const out: number[] = [];
  for (const id of readdirSync(dir)) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, id, 'container.json'), 'utf8')) as { shimPid?: number; exit?: unknown };
      if (rec.shimPid && !rec.exit) out.push(rec.shimPid);
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

console.error(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const registry = await imageRegistry();
const node = uniqueNode();
const server = await startServer();
const transport = HttpTransport.fromKubeconfig(server.kubeconfig);
const client = new Client(transport);
const pods = client.resource(kinds.pods);
let agentLog = '';
const agent = spawn(skiff, ['agent', '--kubeconfig', server.kubeconfig, '--node-name', node.nodeName, '--pod-cidr', node.podCidr, '--data-dir', server.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));

const manifest = (name: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { bench: 'resources' } },
  spec: { nodeName: node.nodeName, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: registry.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '36000'] }] },
});

async function runningCount(): Promise<number> {
  return (await pods.list({ namespace: 'default' })).items.filter((p) => p.status?.phase === 'Running').length;
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function deleteAll(): Promise<void> {
  const list = await pods.list({ namespace: 'default' });
  await Promise.all(list.items.map((p) => pods.delete('default', p.metadata!.name!, { gracePeriodSeconds: 0 }).catch(() => {})));
  await waitFor('pods gone', async () => (await pods.list({ namespace: 'default' })).items.length === 0, 300_000).catch(() => {});
}

try {
  await waitFor('the node agent', async () => agentLog.includes(`node ${node.nodeName} ready`), 60_000);
  // The image is pulled once, outside the measurements.
  await pods.create(manifest('warm'));
  await waitFor('warm-up pod Running', async () => (await runningCount()) === 1, 120_000);
  await deleteAll();
  await sleep(5000);
  const idleRss = rssMiB(agent.pid!);
  const idleCpu = await cpuOver(agent.pid!, IDLE_WINDOW_S);

  const started = performance.now();
  for (let i = 0; i < PODS; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, PODS - i) }, (_, j) => pods.create(manifest(`idle-${i + j}`))));
  }
  await waitFor(`${PODS} pods Running`, async () => (await runningCount()) === PODS, 600_000);
  const startSeconds = (performance.now() - started) / 1000;
  await sleep(15_000); // let start-up work (status writes, probes of the first sync) settle
  const busyRss = rssMiB(agent.pid!);
  const shims = shimPids(server.dataDir);
  const shimPss = shims.reduce((sum, pid) => { try { return sum + pssMiB(pid); } catch { return sum; } }, 0);
  const busyCpu = await cpuOver(agent.pid!, WINDOW_S);
  const loadAfter = loadavg();

  const pct = (cpu: number, seconds: number) => `${((cpu / seconds) * 100).toFixed(3)} %`;
  const rows: (string | number)[][] = [
    ['agent RSS, idle (0 pods)', `${idleRss.toFixed(1)} MiB`],
    [`agent RSS, ${PODS} running pods`, `${busyRss.toFixed(1)} MiB`],
    ['agent RSS per pod', `${((busyRss - idleRss) / PODS * 1024).toFixed(0)} KiB`],
    [`agent CPU, idle (0 pods, ${IDLE_WINDOW_S} s)`, `${pct(idleCpu, IDLE_WINDOW_S)} of a core`],
    [`agent CPU, ${PODS} idle pods (${WINDOW_S} s)`, `${pct(busyCpu, WINDOW_S)} of a core (${busyCpu.toFixed(2)} CPU-s)`],
    ['agent CPU per idle pod', `${((busyCpu / WINDOW_S / PODS) * 1000).toFixed(3)} millicores`],
    [`shims (${shims.length} processes) PSS`, `${shimPss.toFixed(1)} MiB (${(shimPss / Math.max(1, shims.length) * 1024).toFixed(0)} KiB each)`],
    [`${PODS} pods created → all Running`, `${startSeconds.toFixed(1)} s`],
  ];
  console.log(markdownTable(['node agent (runc, busybox sleep)', 'figure'], rows));
  console.log(`load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await deleteAll().catch(() => {});
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await server.stop();
  transport.close();
  await cleanupNode(node.nodeName, server.dataDir);
  await cleanup(server);
  await registry.stop();
}
