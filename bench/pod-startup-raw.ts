/**
 * The runtime's share of pod start-up, against the floor (root only):
 *
 *   node_modules/.bin/node bench/pod-startup-raw.ts
 *
 * - `runtime`: `runPodSandbox` (namespaces, CNI bridge + host-local + portmap, hosts/resolv.conf,
 *   pod cgroup) + `createContainer` (overlayfs, OCI spec) + `startContainer` (shim, `runc run
 *   --detach`) of a busybox `sleep`, until the container runs with a known PID.
 * - `raw runc run`: `runc run --detach` of the same rootfs with `runc spec`'s default config (no
 *   network, no overlay): the floor the later pod-startup benchmark compares against.
 * p50/p90 over 20 runs each; clean-up is outside the timing. Then memory per running container:
 * the RSS and PSS of each container's shim with 10 containers running.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuncRuntime, bridgeConfList } from '../src/kubelet/index.ts';

const RUNS = 20;
const rand = Math.random().toString(16).slice(2, 6);
const name = `skiff-test-${rand}`;
const dir = await mkdtemp(join(tmpdir(), `${name}-`));
const layer = join(dir, 'layer');
await mkdir(join(layer, 'bin'), { recursive: true });
await copyFile('/usr/bin/busybox', join(layer, 'bin', 'busybox'));
for (const a of ['sh', 'sleep', 'true']) await symlink('busybox', join(layer, 'bin', a));

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const ipForward = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();

const rt = new RuncRuntime({
  stateDir: join(dir, 'state'),
  runtimeRoot: join(dir, 'runc-root'),
  cgroupRoot: `/${name}`,
  network: bridgeConfList({ name, bridge: name, subnet: `10.88.${200 + Math.floor(Math.random() * 50)}.0/24`, ipMasq: false, ipamDataDir: join(dir, 'ipam') }),
});

try {
  // raw runc run --detach
  const bundle = join(dir, 'raw');
  await mkdir(bundle, { recursive: true });
  execFileSync('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
  spec.root = { path: layer, readonly: true };
  spec.process.terminal = false;
  spec.process.args = ['sleep', '1000'];
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const id = `${name}-raw-${i}`;
    const t = performance.now();
    execFileSync('runc', ['--root', join(dir, 'raw-root'), 'run', '--detach', '--bundle', bundle, id], { stdio: 'ignore' });
    raw.push(performance.now() - t);
    execFileSync('runc', ['--root', join(dir, 'raw-root'), 'delete', '--force', id]);
  }

  const pod: number[] = [];
  const sandboxOnly: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const sb = await rt.runPodSandbox({ name: `bench-${i}`, namespace: 'default', uid: `bench-${rand}-${i}`, qosClass: 'BestEffort' });
    sandboxOnly.push(performance.now() - t);
    const id = await rt.createContainer(sb, { name: 'c', argv: ['sleep', '1000'], layers: [layer], logPath: join(dir, 'logs', `${i}.log`) });
    await rt.startContainer(id);
    pod.push(performance.now() - t);
    await rt.removePodSandbox(sb);
  }

  // memory per running container: the shim is the only per-container process
  const sb = await rt.runPodSandbox({ name: 'mem', namespace: 'default', uid: `mem-${rand}`, qosClass: 'BestEffort' });
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const id = await rt.createContainer(sb, { name: `m${i}`, argv: ['sleep', '1000'], layers: [layer], logPath: join(dir, 'logs', `m${i}.log`) });
    await rt.startContainer(id);
    ids.push(id);
  }
  const rss: number[] = [];
  const pss: number[] = [];
  for (const id of ids) {
    const { pid } = await rt.containerStatus(id);
    const ppid = Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[1]);
    const status = await readFile(`/proc/${ppid}/status`, 'utf8');
    rss.push(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
    const rollup = await readFile(`/proc/${ppid}/smaps_rollup`, 'utf8');
    pss.push(Number(/Pss:\s+(\d+)/.exec(rollup)![1]) / 1024);
  }
  await rt.removePodSandbox(sb);

  const f = (x: number) => x.toFixed(1);
  console.log(`| measure (${RUNS} runs) | p50 | p90 |\n|---|---|---|`);
  console.log(`| raw \`runc run --detach\` | ${f(pct(raw, 50))} ms | ${f(pct(raw, 90))} ms |`);
  console.log(`| runPodSandbox + create + start | ${f(pct(pod, 50))} ms | ${f(pct(pod, 90))} ms |`);
  console.log(`| of which runPodSandbox | ${f(pct(sandboxOnly, 50))} ms | ${f(pct(sandboxOnly, 90))} ms |`);
  console.log(`ratio p50: ${(pct(pod, 50) / pct(raw, 50)).toFixed(2)}x raw runc`);
  console.log(`shim per running container: RSS ${f(pct(rss, 50))} MiB, PSS ${f(pct(pss, 50))} MiB (median of 10)`);
} finally {
  await rt.close();
  try { execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' }); } catch { /* not created */ }
  for (const h of await readdir('/sys/fs/cgroup')) {
    try { execFileSync('find', [join('/sys/fs/cgroup', h, name), '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' }); } catch { /* none */ }
  }
  await rm(dir, { recursive: true, force: true });
  await writeFile('/proc/sys/net/ipv4/ip_forward', ipForward);
}
