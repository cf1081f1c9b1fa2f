/**
 * The configuration of `skiff server`, with k3s's flag names and defaults.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Everything `skiff server` is told. */
export interface ServerConfig {
  dataDir: string;
  bindAddress: string;
  httpsListenPort: number;
  /** '' = SQLite under the data dir; `http(s)://host:2379[,…]` = etcd. */
  datastoreEndpoint: string;
  disableAgent: boolean;
  token: string;
  writeKubeconfig: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  clusterDomain: string;
  nodeName: string;
  /** `--kube-apiserver-arg key=value` pairs (k3s's pass-through); see `run-server.ts`. */
  kubeApiserverArgs: Record<string, string>;
  /** `--kube-controller-manager-arg key=value` pairs; see `run-server.ts`. */
  kubeControllerManagerArgs: Record<string, string>;
  /** `--kube-scheduler-arg key=value` pairs; see `run-server.ts`. */
  kubeSchedulerArgs: Record<string, string>;
  /** `--kubelet-arg key=value` pairs for the embedded agent (supported: `port`). */
  kubeletArgs?: Record<string, string>;
}

/** The default data dir: `/var/lib/skiff` for root, `~/.skiff` otherwise (as k3s's rootless). */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/skiff' : join(homedir(), '.skiff');
}
