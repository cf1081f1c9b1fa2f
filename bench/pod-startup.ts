/**
 * Pod start-up latency through the whole system (root only):
 *
 *   node_modules/.bin/node bench/pod-startup.ts [--runtime runc|crun] [--burst 50] [--singles 10] [--idle-pods 20]
 *
 * First the floor, in the same run: `runc run --detach` and `crun run --detach` of the same
 * busybox `sleep` (their own `spec` defaults, a plain rootfs, no network), timed from a shell
 * loop. On a hybrid cgroup host crun runs through Skiff's private-mount-namespace wrapper
 * (src/kubelet/runtime/runc/runtime-command.ts), as the agent runs it.
 *
 * A `skiff server --disable-agent` and a separate `skiff agent --kubeconfig` process (so the
 * agent's memory is its own), busybox from a docker-registry on 127.0.0.1, image present
 * (pulled once before timing, `imagePullPolicy: IfNotPresent`). Timed from the create request to
 * the pod's `Running` phase as seen through a watch: p50/p99 of single pods created one after
 * another, then of a burst created at once. Then the agent's RSS idle (no pods) and with
 * `--idle-pods` running pods. Everything is deleted and cleaned up at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanupNode, imageRegistry, uniqueNode } from '../test/helpers/agent.ts';
import { cleanup, startServer } from '../test/helpers/cluster.ts';
import { runtimeCommand } from '../src/kubelet/runtime/runc/runtime-command.ts';

const { values } = parseArgs({ options: { burst: { type: 'string' }, singles: { type: 'string' }, 'idle-pods': { type: 'string' }, runtime: { type: 'string' } } });
const RUNTIME = values.runtime ?? 'runc';
const BURST = Number(values.burst ?? 50);
const SINGLES = Number(values.singles ?? 10);
const IDLE = Number(values['idle-pods'] ?? 20);
const skiff = resolve(import.meta.dirname, '..', 'bin', 'skiff');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** p50/p99 ms of `<runtime> run --detach` of a busybox sleep, timed in a shell loop. */
async function rawRun(runtime: string, runs: number): Promise<{ p50: number; p99: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-test-raw-'));
  try {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/usr/bin/busybox', join(rootfs, 'bin', 'busybox'));
    symlinkSync('busybox', join(rootfs, 'bin', 'sleep'));
    const command = await runtimeCommand(runtime, dir);
    execFileSync(command, ['spec'], { cwd: dir });
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    spec.root = { path: rootfs, readonly: true };
    spec.process.terminal = false;
    spec.process.args = ['sleep', '1000'];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    const root = join(dir, 'state');
    const out = execFileSync('sh', ['-c', `for i in $(seq ${runs}); do s=$(date +%s%N); "$0" --root "$1" run --detach --bundle "$2" "raw-$i" >/dev/null 2>&1 </dev/null; e=$(date +%s%N); echo $((e - s)); done`, command, root, dir], { encoding: 'utf8' });
    const ms = out.trim().split('\n').map((ns) => Number(ns) / 1e6);
    for (let i = 1; i <= runs; i++) execFileSync(command, ['--root', root, 'delete', '--force', `raw-${i}`], { stdio: 'ignore' });
    return { p50: pct(ms, 50), p99: pct(ms, 99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rawRunc = await rawRun('runc', 20);
const rawCrun = await rawRun('crun', 20);
const registry = await imageRegistry();
const node = uniqueNode();
const server = await startServer();
const transport = HttpTransport.fromKubeconfig(server.kubeconfig);
const client = new Client(transport);
const pods = client.resource(kinds.pods);
let agentLog = '';
const agent = spawn(skiff, ['agent', '--kubeconfig', server.kubeconfig, '--node-name', node.nodeName, '--pod-cidr', node.podCidr, '--data-dir', server.dataDir, '--runtime', RUNTIME], { stdio: ['ignore', 'pipe', 'pipe'] });
agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));

const manifest = (name: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { bench: 'startup' } },
  spec: { nodeName: node.nodeName, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: registry.busybox, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
});

/** Resolves each pod name's Running time through one watch. */
const running = new Map<string, (at: number) => void>();
const stopWatch = await pods.watch({ namespace: 'default', labelSelector: 'bench=startup' }, (event) => {
  const pod = event.object as Pod;
  if (pod.status?.phase === 'Running') running.get(pod.metadata!.name!)?.(performance.now());
}, () => {});

async function startOne(name: string): Promise<number> {
  const t0 = performance.now();
  const done = new Promise<number>((r) => running.set(name, r));
  await pods.create(manifest(name));
  return (await done) - t0;
}

async function deleteAll(): Promise<void> {
  const list = await pods.list({ namespace: 'default' });
  await Promise.all(list.items.map((p) => pods.delete('default', p.metadata!.name!, { gracePeriodSeconds: 0 }).catch(() => {})));
  const deadline = Date.now() + 120_000;
  while ((await pods.list({ namespace: 'default' })).items.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
}

try {
  const deadline = Date.now() + 30_000;
  while (!agentLog.includes('running (state') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  const idleRss = rssMiB(agent.pid!);
  await startOne('warm'); // pulls the image
  await deleteAll();
  const singles: number[] = [];
  for (let i = 0; i < SINGLES; i++) singles.push(await startOne(`single-${i}`));
  await deleteAll();
  // The node settles first (the kernel tears network namespaces down in the background).
  await new Promise((r) => setTimeout(r, 5000));
  const burstStart = performance.now();
  const burst = await Promise.all(Array.from({ length: BURST }, (_, i) => startOne(`burst-${i}`)));
  const burstWall = performance.now() - burstStart;
  await deleteAll();
  await Promise.all(Array.from({ length: IDLE }, (_, i) => startOne(`idle-${i}`)));
  await new Promise((r) => setTimeout(r, 3000));
  const busyRss = rssMiB(agent.pid!);
  const f = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const floor = RUNTIME === 'crun' ? rawCrun : rawRunc;
  console.log(`floor: raw runc run --detach p50 ${rawRunc.p50.toFixed(1)} ms p99 ${rawRunc.p99.toFixed(1)} ms; raw crun run --detach p50 ${rawCrun.p50.toFixed(1)} ms p99 ${rawCrun.p99.toFixed(1)} ms`);
  console.log(`create → Running (watch), image present, runtime ${RUNTIME}`);
  console.log(`  single pod (${SINGLES} runs): p50 ${f(pct(singles, 50))}  p99 ${f(pct(singles, 99))}  (p50 ${(pct(singles, 50) / floor.p50).toFixed(2)}× raw ${RUNTIME}, ${(pct(singles, 50) / rawRunc.p50).toFixed(2)}× raw runc)`);
  console.log(`  burst of ${BURST}:          p50 ${f(pct(burst, 50))}  p99 ${f(pct(burst, 99))}  (all Running after ${f(burstWall)})`);
  console.log(`agent RSS: idle ${idleRss.toFixed(1)} MiB, with ${IDLE} running pods ${busyRss.toFixed(1)} MiB`);
} finally {
  stopWatch();
  await deleteAll().catch(() => {});
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await server.stop();
  transport.close();
  await cleanupNode(node.nodeName, server.dataDir);
  await cleanup(server);
  await registry.stop();
}
