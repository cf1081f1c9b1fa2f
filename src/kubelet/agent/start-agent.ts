/**
 * Assembles a node agent from plain settings — the runc (or crun) runtime with the node's CNI
 * bridge network, the image service, the kubelet — for `skiff agent` and for the agent embedded
 * in `skiff server`. Everything lives under `<data-dir>/agent`.
 *
 * Per-node host resources are named after the node: the node whose name is the machine's
 * hostname (the normal case) uses the bridge `skiff0`, the cgroup root `/kubepods` and masquerades
 * pod traffic leaving the node; any other node name (several agents on one machine, as tests
 * run them) gets a bridge `sk<hash>` and a cgroup root `/skiff-<hash>/kubepods` of its own and no
 * masquerading, so agents never share or disturb each other's host state. Likewise only the
 * machine's own node serves streams (logs, exec, port-forward) on the kubelet port 10250; others
 * take any free port, which the Node's `status.daemonEndpoints` reports.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Client } from '../../client/index.ts';
import { ImageService } from '../images/index.ts';
import { favorDynamicModifications } from '../runtime/runc/cgroups.ts';
import { bridgeConfList } from '../runtime/runc/cni.ts';
import { RuncRuntime } from '../runtime/runc/runc-runtime.ts';
import { KubeletError } from './errors.ts';
import { Kubelet } from './kubelet.ts';
import { DEFAULT_KUBELET_PORT, KubeletServer } from '../server/index.ts';
import { ContainerLogManager, type ContainerLogSettings } from './container-log-manager.ts';
import { SummaryProvider } from './summary-provider.ts';

/** Options of {@link startAgent}. */
export interface AgentOptions {
  client: Client;
  nodeName: string;
  /** Skiff's data dir; the agent keeps its state in `<dataDir>/agent`. */
  dataDir: string;
  /** `runc` (default) or `crun`; `sim` is served by `skiff sim`. */
  runtime?: 'runc' | 'crun' | 'sim';
  /** The node's pod subnet, e.g. `10.42.0.0/24`. */
  podCidr: string;
  clusterDns?: string[];
  clusterDomain?: string;
  nodeIp?: string;
  /** Registries spoken to over plain HTTP although not on loopback. */
  insecureRegistries?: string[];
  /**
   * PEM of the cluster CA: the kubelet's streaming server (logs, exec, attach, port-forward)
   * accepts only client certificates it signed. Without it that server does not start.
   */
  clientCa?: string;
  /**
   * Port of the streaming server (upstream's `--port`); 0 for any free port. Default 10250 for
   * the node named after the machine, any free port for other node names (see the file header).
   */
  kubeletPort?: number;
  /** Container log rotation (upstream's containerLogMaxSize 10Mi, containerLogMaxFiles 5, containerLogMonitorInterval 10 s). */
  containerLogs?: ContainerLogSettings;
  /** Image pull back-off (default 10 s doubling to 5 min, as upstream). */
  imagePullBackoff?: { initialMs?: number; maxMs?: number };
  /** Unsafe sysctls pods may set (upstream's `--allowed-unsafe-sysctls`). */
  allowedUnsafeSysctls?: string[];
  /** Hard eviction thresholds (upstream's `--eviction-hard` syntax) and the pressure transition period. */
  evictionHard?: string;
  pressureTransitionPeriodMs?: number;
  /**
   * Leave the node's kernel settings alone (upstream's `--protect-kernel-defaults`). Otherwise the
   * agent turns on cgroup2's `favordynmods`, which saves each container start an RCU grace
   * period (cgroups.ts, `favorDynamicModifications`).
   */
  protectKernelDefaults?: boolean;
  log?: (line: string) => void;
}

/** A running agent. */
export interface RunningAgent {
  kubelet: Kubelet;
  /** Host names of what the agent made, for operators and tests. */
  host: { bridge: string; cgroupRoot: string; runtimeRoot: string; stateDir: string };
  /** Stops the agent; containers keep running. */
  stop(): Promise<void>;
}

/** The node's /24 (or the CIDR itself when narrower) of a cluster CIDR: its first subnet. */
export function nodePodCidr(clusterCidr: string): string {
  const [addr, bits] = clusterCidr.split('/') as [string, string | undefined];
  const prefix = Number(bits ?? 32);
  if (prefix >= 24) return clusterCidr;
  const o = addr.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.0/24`;
}

/** Host resource names for a node (see the file header). */
export function hostNames(nodeName: string, dataDir: string): RunningAgent['host'] {
  const own = nodeName === hostname();
  const hash = createHash('sha256').update(nodeName).digest('hex').slice(0, 8);
  return {
    bridge: own ? 'skiff0' : `sk${hash}`,
    cgroupRoot: own ? '/kubepods' : `/skiff-${hash}/kubepods`,
    runtimeRoot: `/run/skiff/${own ? 'agent' : hash}`,
    stateDir: join(dataDir, 'agent'),
  };
}

/** Builds and starts the agent. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const kind = options.runtime ?? 'runc';
  if (kind === 'sim') throw new KubeletError('ERR_AGENT_RUNTIME', 'the sim runtime is served by `skiff sim` (simulated nodes); use --runtime runc or crun');
  const names = hostNames(options.nodeName, options.dataDir);
  const own = options.nodeName === hostname();
  const root = names.stateDir;
  const log = options.log ?? console.error;
  if (!options.protectKernelDefaults) {
    const favor = await favorDynamicModifications();
    if (favor.state === 'enabled') log(`kubelet: cgroup2 at ${favor.mountPoint} remounted with favordynmods (container starts skip an RCU grace period)`);
    if (favor.state === 'unavailable') log(`kubelet: favordynmods not set (${favor.reason}); each container start may wait for an RCU grace period`);
  }
  const network = bridgeConfList({
    name: `skiff-${names.bridge}`,
    bridge: names.bridge,
    subnet: options.podCidr,
    ipMasq: own,
    ipamDataDir: join(root, 'cni', 'ipam'),
  });
  const runtime = new RuncRuntime({
    stateDir: join(root, 'runtime'),
    // A tmpfs (/run), as containerd's state directory: see RuncRuntimeOptions.runDir.
    runDir: join(names.runtimeRoot, 'state'),
    runtimePath: kind,
    runtimeRoot: join(names.runtimeRoot, kind),
    network,
    cgroupRoot: names.cgroupRoot,
  });
  // Node and pod stats (/stats/summary) and log rotation, both over the runtime.
  const stats = new SummaryProvider({ runtime, nodeName: options.nodeName, rootDir: root, imageDir: join(root, 'images'), cgroupRoot: names.cgroupRoot });
  const logs = new ContainerLogManager({ runtime, ...options.containerLogs, ...(options.log ? { log: options.log } : {}) });
  // The streaming server first: the Node reports its port.
  let server: KubeletServer | undefined;
  if (options.clientCa) {
    server = new KubeletServer({
      runtime,
      stats,
      clientCa: options.clientCa,
      certDir: join(root, 'tls'),
      // Like the bridge and cgroup root: only the machine's own node takes the well-known port.
      port: options.kubeletPort ?? (own ? DEFAULT_KUBELET_PORT : 0),
      ...(options.nodeIp ? { hosts: [options.nodeIp] } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    await server.start();
  } else {
    log('kubelet: no cluster CA given; logs, exec, attach and port-forward are not served');
  }
  const images = await ImageService.open({ root: join(root, 'images'), ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}) });
  const kubelet = new Kubelet({
    client: options.client,
    nodeName: options.nodeName,
    runtime,
    cleanContainerLog: (logPath) => logs.clean(logPath),
    images,
    rootDir: root,
    podCidr: options.podCidr,
    ...(options.clusterDns ? { clusterDns: options.clusterDns } : {}),
    ...(options.clusterDomain ? { clusterDomain: options.clusterDomain } : {}),
    ...(options.nodeIp ? { nodeIp: options.nodeIp } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(server ? { kubeletPort: server.port } : {}),
    ...(options.imagePullBackoff ? { imagePullBackoff: options.imagePullBackoff } : {}),
    ...(options.allowedUnsafeSysctls ? { allowedUnsafeSysctls: options.allowedUnsafeSysctls } : {}),
    ...(options.evictionHard !== undefined ? { evictionHard: options.evictionHard } : {}),
    ...(options.pressureTransitionPeriodMs !== undefined ? { pressureTransitionPeriodMs: options.pressureTransitionPeriodMs } : {}),
  });
  try {
    await kubelet.start();
  } catch (error) {
    await kubelet.stop().catch(() => {});
    await server?.close();
    await runtime.close();
    throw error;
  }
  stats.start();
  logs.start();
  return {
    kubelet,
    host: names,
    async stop() {
      stats.stop();
      await logs.stop();
      await server?.close();
      await kubelet.stop();
      await runtime.close();
    },
  };
}
