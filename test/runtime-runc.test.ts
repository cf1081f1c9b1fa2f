/**
 * The shared ContainerRuntime suite against real runc (and crun where it can run), as root:
 * a test bridge and subnet unique to the run, a busybox layer from Debian's busybox-static,
 * and a check that nothing (runtime containers, mounts, veths, cgroups, iptables rules) is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuncRuntime, bridgeConfList } from '../src/kubelet/index.ts';
import { runRuntimeSuite, type RuntimeSuiteEnv } from '../src/kubelet/runtime/runtime.suite.ts';

const isRoot = process.getuid?.() === 0;
const has = (bin: string) => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, bin)));

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Whether crun is here (on a hybrid cgroup host the runtime runs it through a wrapper; see runtime-command.ts). */
function crunWorks(): string | undefined {
  if (!has('crun')) return 'crun is not installed (scripts/test.sh installs it)';
  return undefined;
}

async function busyboxLayer(dir: string): Promise<string> {
  const layer = join(dir, 'layer');
  await mkdir(join(layer, 'bin'), { recursive: true });
  await copyFile('/usr/bin/busybox', join(layer, 'bin', 'busybox'));
  for (const applet of sh('/usr/bin/busybox', ['--list']).split('\n').filter(Boolean)) {
    if (applet !== 'busybox') await symlink('busybox', join(layer, 'bin', applet));
  }
  for (const d of ['tmp', 'etc', 'proc', 'sys', 'dev']) await mkdir(join(layer, d), { recursive: true });
  await writeFile(join(layer, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  return layer;
}

function setupFor(runtimePath: string) {
  return async (): Promise<RuntimeSuiteEnv & { stateDir: string; runDir: string; newRuntimeWithoutRunDir(): RuncRuntime }> => {
    const rand = Math.random().toString(16).slice(2, 6);
    const name = `skiff-test-${rand}`;
    const octet = 1 + Math.floor(Math.random() * 250);
    const subnet = `10.88.${octet}.0/24`;
    const dir = await mkdtemp(join(tmpdir(), `${name}-`));
    const layer = await busyboxLayer(dir);
    const stateDir = join(dir, 'state');
    // The agent's layout: records and writable layers in one directory, the rest in another
    // (a tmpfs under /run for the agent); the failing runtime below keeps both in one.
    const runDir = join(dir, 'run');
    const runtimeRoot = join(dir, 'runtime-root');
    const cgroupRoot = `/${name}`;
    const ipForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const network = bridgeConfList({ name, bridge: name, subnet, ipMasq: false, ipamDataDir: join(dir, 'ipam') });
    const cgroupDirs = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .filter((l) => / - cgroup2? /.test(l)).map((l) => join(l.split(' ')[4]!, cgroupRoot));
    return {
      stateDir,
      runDir,
      newRuntime: () => new RuncRuntime({ stateDir, runDir, runtimePath, runtimeRoot, network, cgroupRoot }),
      newRuntimeWithoutRunDir: () => new RuncRuntime({ stateDir, runtimePath, runtimeRoot, network, cgroupRoot }),
      newRuntimeWithFailingNetwork: () => new RuncRuntime({
        stateDir: join(dir, 'state-failing'), runtimePath, runtimeRoot: join(dir, 'runtime-root-failing'), cgroupRoot,
        network: { ...network, name: `${name}-failing`, plugins: [{ type: 'skiff-no-such-plugin' }] },
      }),
      layers: [layer],
      logDir: join(dir, 'logs'),
      hostAddress: `10.88.${octet}.1`,
      hostPort: 30000 + Math.floor(Math.random() * 10000),
      async leftovers() {
        const found: string[] = [];
        const list = sh(runtimePath, ['--root', runtimeRoot, 'list', '-q']).trim();
        if (list) found.push(`runtime containers: ${list}`);
        const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
        if (mounts.length) found.push(`mounts: ${mounts.join('; ')}`);
        const veths = sh('ip', ['-o', 'link', 'show', 'master', name]).trim();
        if (veths) found.push(`veths: ${veths}`);
        for (const cg of cgroupDirs()) {
          if (!existsSync(cg)) continue;
          const walk = async (d: string, depth: number): Promise<void> => {
            for (const e of await readdir(d, { withFileTypes: true })) {
              if (!e.isDirectory()) continue;
              // kubepods/<qos> levels may stay (shared by pods); pod and container cgroups may not.
              if (/^pod/.test(e.name) || depth >= 2) found.push(`cgroup: ${join(d, e.name)}`);
              await walk(join(d, e.name), depth + 1);
            }
          };
          await walk(cg, 0);
        }
        const nat = sh('iptables-save', ['-t', 'nat']);
        if (nat.includes(`10.88.${octet}.`)) found.push('iptables rules for the test subnet');
        const leases = existsSync(join(dir, 'ipam', name)) ? (await readdir(join(dir, 'ipam', name))).filter((f) => /^\d/.test(f)) : [];
        if (leases.length) found.push(`IP leases: ${leases.join(',')}`);
        return found;
      },
      async teardown() {
        sh('ip', ['link', 'del', name]);
        for (const cg of cgroupDirs().reverse()) {
          // deepest first
          sh('find', [cg, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
        }
        for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)).reverse()) {
          sh('umount', ['-l', line.split(' ')[4]!]);
        }
        await rm(dir, { recursive: true, force: true });
        await writeFile('/proc/sys/net/ipv4/ip_forward', ipForward);
      },
    };
  };
}

const notRoot = isRoot ? undefined : 'needs root: runs real containers';
runRuntimeSuite({ name: 'runc', skip: notRoot, setup: setupFor('runc') });
const crunSkip = notRoot ?? crunWorks();
if (!crunSkip) runRuntimeSuite({ name: 'crun', setup: setupFor('crun') });

describe('RuncRuntime after a kill -9', { skip: notRoot }, () => {
  it('removes the network namespace a killed instance had made ahead, and keeps those of sandboxes', async () => {
    const env = await setupFor('runc')();
    try {
      const dir = join(env.runDir, 'netns');
      // Where a version before runDir made its spares.
      const oldDir = join(env.stateDir, 'netns');
      await mkdir(dir, { recursive: true });
      await mkdir(oldDir, { recursive: true });
      // No process has this PID (above the kernel's largest pid_max): its maker is gone.
      const left = join(dir, '4194305-left');
      const oldLeft = join(oldDir, '4194305-old');
      for (const file of [left, oldLeft]) {
        await writeFile(file, '');
        execFileSync('unshare', [`--net=${file}`, 'true']);
      }
      const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(left);
      const oldMounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(oldLeft);
      assert.ok(mounted() && oldMounted());
      const rt = env.newRuntime();
      try {
        assert.deepEqual(await rt.listPodSandboxes(), []);
        assert.equal(mounted(), false);
        assert.equal(oldMounted(), false);
        assert.deepEqual(await readdir(dir), []);
        assert.deepEqual(await readdir(oldDir), []);
      } finally {
        await rt.close();
      }
      assert.deepEqual(await env.leftovers(), []);
    } finally {
      await env.teardown();
    }
  });

  it('takes over a pod whose files are in the state directory (records from before runDir) and removes it whole', async () => {
    const env = await setupFor('runc')();
    try {
      const old = env.newRuntimeWithoutRunDir();
      const pod = { name: 'old-layout', namespace: 'default', uid: '00000000-0000-0000-0000-00000000beef', qosClass: 'BestEffort' as const };
      const sb = await old.runPodSandbox(pod);
      const id = await old.createContainer(sb, { name: 'c', argv: ['sleep', '1000'], layers: env.layers, logPath: join(env.logDir, 'old-layout.log') });
      await old.startContainer(id);
      await old.close();
      // What a version before runDir wrote: records without `files` and `bundle`.
      for (const file of [join(env.stateDir, 'sandboxes', sb, 'sandbox.json'), join(env.stateDir, 'containers', id, 'container.json')]) {
        const rec = JSON.parse(readFileSync(file, 'utf8'));
        delete rec.files;
        delete rec.bundle;
        await writeFile(file, JSON.stringify(rec));
      }
      const rt = env.newRuntime();
      try {
        assert.equal((await rt.containerStatus(id)).state, 'running');
        assert.equal((await rt.execSync(id, ['hostname'], 5000)).stdout.toString().trim(), 'old-layout');
        assert.equal((await rt.podSandboxStatus(sb)).hostsPath, join(env.stateDir, 'sandboxes', sb, 'hosts'));
        await rt.removePodSandbox(sb);
      } finally {
        await rt.close();
      }
      assert.deepEqual(await env.leftovers(), []);
      assert.deepEqual(await readdir(join(env.stateDir, 'sandboxes')), []);
      assert.deepEqual(await readdir(join(env.stateDir, 'containers')), []);
    } finally {
      await env.teardown();
    }
  });
});
