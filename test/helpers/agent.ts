/**
 * Helpers for tests of the node agent: a registry holding Skiff's busybox and hello-http images,
 * unique node names and pod subnets per run, and the check (and clean-up) of everything a node
 * leaves on the machine — runtime containers, mounts, network namespaces, veths, the bridge,
 * cgroups, iptables rules — found by the names the agent derives from its node name.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostNames, RegistryClient } from '../../src/kubelet/index.ts';
import { buildBusybox, buildHelloHttp, pushImage } from '../../scripts/build-images.ts';
import { startRegistry, type TestRegistry } from './registry.ts';

/** A registry with `busybox:latest` and `hello-http:1.0`. */
export async function imageRegistry(): Promise<TestRegistry & { busybox: string; helloHttp: string }> {
  const registry = await startRegistry();
  const client = new RegistryClient();
  await pushImage(client, registry.host, 'busybox', 'latest', buildBusybox());
  await pushImage(client, registry.host, 'hello-http', '1.0', buildHelloHttp());
  return Object.assign(registry, { busybox: `${registry.host}/busybox:latest`, helloHttp: `${registry.host}/hello-http:1.0` });
}

/** A node name and pod subnet unique to this run (10.88.X.0/24). */
export function uniqueNode(): { nodeName: string; podCidr: string; octet: number } {
  const rand = Math.random().toString(16).slice(2, 8);
  const octet = 1 + Math.floor(Math.random() * 250);
  return { nodeName: `skiff-test-${rand}`, podCidr: `10.88.${octet}.0/24`, octet };
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function cgroupDirs(cgroupRoot: string): string[] {
  const top = cgroupRoot.split('/').slice(0, 2).join('/');
  return [...new Set(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l)).map((l) => join(l.split(' ')[4]!, top)))];
}

/**
 * {@link nodeLeftovers} once the node has had time to clean up: a terminal pod's API object
 * goes at once (as upstream, nothing waits for the kubelet), and its containers go just after.
 * Polls until nothing is left or `timeoutMs` passes; returns what is still there.
 */
export async function nodeLeftoversSettled(nodeName: string, dataDir: string, octet: number, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = nodeLeftovers(nodeName, dataDir, octet);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What of a node is still on the machine (empty when nothing). Without `all`, what a running
 * agent keeps for itself may stay: the node's bridge and cgroup root, and the one network
 * namespace its runtime makes ahead for the next pod (`all`, after the agent stopped, checks
 * that it went too).
 */
export function nodeLeftovers(nodeName: string, dataDir: string, octet: number, options: { all?: boolean } = {}): string[] {
  const names = hostNames(nodeName, dataDir);
  const found: string[] = [];
  for (const rt of ['runc', 'crun']) {
    const root = join(names.runtimeRoot, rt);
    if (!existsSync(root)) continue;
    const list = sh(rt, ['--root', root, 'list', '-q']).trim();
    if (list) found.push(`${rt} containers: ${list.replace(/\n/g, ' ')}`);
  }
  let mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dataDir) || l.includes(`${names.runtimeRoot}/`)).map((l) => l.split(' ')[4]!);
  const spares = mounts.filter((m) => m.includes('/netns/'));
  if (!options.all && spares.length === 1) mounts = mounts.filter((m) => m !== spares[0]);
  if (mounts.length) found.push(`mounts: ${mounts.join(' ')}`);
  const veths = sh('ip', ['-o', 'link', 'show', 'master', names.bridge]).trim();
  if (veths) found.push(`veths: ${veths.split('\n').length}`);
  for (const dir of cgroupDirs(names.cgroupRoot)) {
    if (!existsSync(dir)) continue;
    const pods = sh('find', [dir, '-mindepth', '1', '-type', 'd', '-name', 'pod*']).trim();
    if (pods) found.push(`pod cgroups: ${pods.split('\n').length} under ${dir}`);
    if (options.all) found.push(`cgroup root ${dir}`);
  }
  if (options.all && sh('ip', ['link', 'show', names.bridge]).trim()) found.push(`bridge ${names.bridge}`);
  if (sh('iptables-save', ['-t', 'nat']).includes(`10.88.${octet}.`)) found.push('iptables rules for the node subnet');
  return found;
}

/** Removes whatever of a node is left: containers, mounts, bridge, cgroups, runtime root, data. */
export async function cleanupNode(nodeName: string, dataDir: string): Promise<void> {
  const names = hostNames(nodeName, dataDir);
  for (const rt of ['runc', 'crun']) {
    const root = join(names.runtimeRoot, rt);
    if (!existsSync(root)) continue;
    for (const id of sh(rt, ['--root', root, 'list', '-q']).split('\n').filter(Boolean)) sh(rt, ['--root', root, 'delete', '-f', id]);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dataDir) || l.includes(`${names.runtimeRoot}/`)).reverse()) sh('umount', ['-l', line.split(' ')[4]!]);
  sh('ip', ['link', 'del', names.bridge]);
  for (const dir of cgroupDirs(names.cgroupRoot)) if (existsSync(dir)) sh('find', [dir, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
  await rm(names.runtimeRoot, { recursive: true, force: true });
  // The parent (/run/skiff) goes too once no other node's root is in it.
  await rmdir(dirname(names.runtimeRoot)).catch(() => {});
}
