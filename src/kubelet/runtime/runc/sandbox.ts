/**
 * A pod sandbox without a pause process: its network, IPC and UTS namespaces are kept alive by
 * bind mounts (as `unshare --net=FILE` and `ip netns add` do; made with system calls, kernel.ts),
 * its /dev/shm is a tmpfs shared by its containers, and its hosts, resolv.conf and hostname files
 * are written here for every container to mount.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { SandboxConfig } from '../container-runtime.ts';
import { createSandboxNamespaces, type NamespaceFiles, unmountAll } from './kernel.ts';

/** Files of one sandbox under its directory. */
export interface SandboxPaths {
  dir: string;
  netns: string;
  ipc: string;
  uts: string;
  shm: string;
  hosts: string;
  resolvConf: string;
  hostname: string;
}

/** The file layout of a sandbox directory. */
export function sandboxPaths(dir: string): SandboxPaths {
  const ns = join(dir, 'ns');
  return {
    dir,
    netns: join(ns, 'net'),
    ipc: join(ns, 'ipc'),
    uts: join(ns, 'uts'),
    shm: join(dir, 'shm'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
    hostname: join(dir, 'hostname'),
  };
}

/** The hostname of a pod (spec.hostname, else the pod name), cut to 63 characters as the kubelet does. */
export function podHostname(config: SandboxConfig): string {
  return (config.hostname || config.name).slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * Creates the namespaces (IPC; network and UTS unless hostNetwork) and sets the hostname in the
 * new UTS namespace, and mounts the shared /dev/shm. `netnsMade`: the network namespace exists
 * already (made ahead, elsewhere), so only the others are made.
 */
export async function createNamespaces(paths: SandboxPaths, config: SandboxConfig, netnsMade = false): Promise<void> {
  await Promise.all([mkdir(join(paths.dir, 'ns'), { recursive: true }), mkdir(paths.shm, { recursive: true })]);
  // As containerd: a hostNetwork pod shares the host's UTS namespace too (it has the host's name).
  const files: NamespaceFiles = config.hostNetwork
    ? { ipc: paths.ipc, shm: paths.shm }
    : { ...(netnsMade ? {} : { net: paths.netns }), ipc: paths.ipc, uts: paths.uts, shm: paths.shm };
  await Promise.all([files.net, files.ipc, files.uts].filter((f) => f !== undefined).map((f) => writeFile(f, '')));
  await createSandboxNamespaces(files, podHostname(config));
}

/** Unmounts and removes everything `createNamespaces` made; tolerant of parts already gone. */
export async function destroyNamespaces(paths: SandboxPaths): Promise<void> {
  await unmountAll([paths.netns, paths.ipc, paths.uts, paths.shm]);
  await rm(join(paths.dir, 'ns'), { recursive: true, force: true });
  await rm(paths.shm, { recursive: true, force: true });
}

/**
 * The pod's hosts file: the host's own for a pod on the host's network, else the kubelet's
 * managed format with the pod's IPs and host aliases. Written once, when the IPs are known
 * (replacing a file costs a millisecond on a file system that discards freed blocks).
 */
export async function writeHostsFile(paths: SandboxPaths, config: SandboxConfig, podIps: string[]): Promise<void> {
  if (config.hostNetwork) {
    await copyFile('/etc/hosts', paths.hosts).catch(() => writeFile(paths.hosts, '127.0.0.1\tlocalhost\n'));
  } else {
    const hostname = podHostname(config);
    let hosts = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
      'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
    for (const ip of podIps) hosts += `${ip}\t${hostname}\n`;
    if (config.hostAliases?.length) {
      hosts += '\n# Entries added by HostAliases.\n';
      for (const a of config.hostAliases) hosts += `${a.ip}\t${a.hostnames.join('\t')}\n`;
    }
    await writeFile(paths.hosts, hosts);
  }
}

/** The pod's hostname and resolv.conf files, which do not depend on its IPs. */
export async function writeNameFiles(paths: SandboxPaths, config: SandboxConfig): Promise<void> {
  const hostname = config.hostNetwork ? osHostname() : podHostname(config);
  await writeFile(paths.hostname, `${hostname}\n`);
  const dns = config.dns;
  if (dns && (dns.servers?.length || dns.searches?.length || dns.options?.length)) {
    let text = '';
    if (dns.searches?.length) text += `search ${dns.searches.join(' ')}\n`;
    for (const s of dns.servers ?? []) text += `nameserver ${s}\n`;
    if (dns.options?.length) text += `options ${dns.options.join(' ')}\n`;
    await writeFile(paths.resolvConf, text);
  } else {
    // No DNS config (dnsPolicy Default): the host's resolv.conf, as the kubelet does.
    const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    await writeFile(paths.resolvConf, host);
  }
}
