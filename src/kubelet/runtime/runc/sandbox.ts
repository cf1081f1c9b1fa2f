/**
 * A pod sandbox without a pause process: its network, IPC and UTS namespaces are kept alive by
 * bind mounts (as `unshare --net=FILE` and `ip netns add` do; made with system calls, kernel.ts),
 * its /dev/shm is a tmpfs shared by its containers, and its hosts, resolv.conf and hostname files
 * are written here for every container to mount.
 */
// Its small files are written synchronously: each takes tens of microseconds, where fs/promises
// hands every open, write and close to the thread pool, and on a busy machine each hand-off waits
// for a thread to be scheduled (see `#writeJson` in runc-runtime.ts).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
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
  mkdirSync(join(paths.dir, 'ns'), { recursive: true });
  mkdirSync(paths.shm, { recursive: true });
  // As containerd: a hostNetwork pod shares the host's UTS namespace too (it has the host's name).
  const files: NamespaceFiles = config.hostNetwork
    ? { ipc: paths.ipc, shm: paths.shm }
    : { ...(netnsMade ? {} : { net: paths.netns }), ipc: paths.ipc, uts: paths.uts, shm: paths.shm };
  for (const f of [files.net, files.ipc, files.uts]) if (f !== undefined) writeFileSync(f, '');
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
 * managed format with the pod's IPs and host aliases. Until the IPs are known (`podIps`
 * undefined) it is an empty file, for the containers' bind mounts to name; then it is written in
 * place (over an empty file, which frees no blocks: see `#writeJson` in runc-runtime.ts).
 */
export async function writeHostsFile(paths: SandboxPaths, config: SandboxConfig, podIps: string[] | undefined): Promise<void> {
  if (podIps === undefined && !config.hostNetwork) {
    writeFileSync(paths.hosts, '');
  } else if (config.hostNetwork) {
    try {
      copyFileSync('/etc/hosts', paths.hosts);
    } catch {
      writeFileSync(paths.hosts, '127.0.0.1\tlocalhost\n');
    }
  } else {
    const hostname = podHostname(config);
    let hosts = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
      'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
    for (const ip of podIps ?? []) hosts += `${ip}\t${hostname}\n`;
    if (config.hostAliases?.length) {
      hosts += '\n# Entries added by HostAliases.\n';
      for (const a of config.hostAliases) hosts += `${a.ip}\t${a.hostnames.join('\t')}\n`;
    }
    writeFileSync(paths.hosts, hosts);
  }
}

/** The pod's hostname and resolv.conf files, which do not depend on its IPs. */
export async function writeNameFiles(paths: SandboxPaths, config: SandboxConfig): Promise<void> {
  const hostname = config.hostNetwork ? osHostname() : podHostname(config);
  writeFileSync(paths.hostname, `${hostname}\n`);
  const dns = config.dns;
  if (dns && (dns.servers?.length || dns.searches?.length || dns.options?.length)) {
    let text = '';
    if (dns.searches?.length) text += `search ${dns.searches.join(' ')}\n`;
    for (const s of dns.servers ?? []) text += `nameserver ${s}\n`;
    if (dns.options?.length) text += `options ${dns.options.join(' ')}\n`;
    writeFileSync(paths.resolvConf, text);
  } else {
    // No DNS config (dnsPolicy Default): the host's resolv.conf, as the kubelet does.
    let host = '';
    try {
      host = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      // none on the host: none in the pod
    }
    writeFileSync(paths.resolvConf, host);
  }
}
