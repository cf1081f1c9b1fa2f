/**
 * `skiff server [flags]` — flags follow k3s (see docs/architecture.md and DESIGN's contract).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir, runServer, type ServerConfig } from '../server/index.ts';

const USAGE = `Usage: skiff server [flags]

Runs a whole cluster in one process: store, API server and controllers.

Flags:
  --data-dir DIR              where state lives (default /var/lib/skiff as root, ~/.skiff otherwise)
  --bind-address IP           address the API listens on (default 127.0.0.1)
  --https-listen-port PORT    API port (default 6443)
  --datastore-endpoint URL    '' = embedded SQLite; http(s)://host:2379[,...] = etcd
  --disable-agent             do not run containers on this machine
  --token TOKEN               the join token (default: generated at first start)
  --write-kubeconfig FILE     where to write the admin kubeconfig (default <data-dir>/kubeconfig.yaml)
  --cluster-cidr CIDR         pod addresses (default 10.42.0.0/16)
  --service-cidr CIDR         service addresses (default 10.43.0.0/16)
  --cluster-dns IP            cluster DNS service address (default 10.43.0.10)
  --cluster-domain DOMAIN     cluster DNS domain (default cluster.local)
  --node-name NAME            this machine's node name (default: host name)
  --kube-apiserver-arg K=V    API server setting (repeatable); supported: min-request-timeout=SECONDS, event-ttl=DURATION
  --kube-controller-manager-arg K=V
                              controller setting (repeatable); supported: node-monitor-grace-period=DURATION,
                              node-monitor-period=DURATION, concurrent-syncs=N, controllers=*,-NAME,
                              leader-elect=true|false,
                              leader-elect-lease-duration=DURATION, leader-elect-renew-deadline=DURATION,
                              leader-elect-retry-period=DURATION (leader election is on with etcd)
  --kube-scheduler-arg K=V    scheduler setting (repeatable); supported: percentage-of-nodes-to-score=N,
                              pod-initial-backoff-seconds=N, pod-max-backoff-seconds=N, and the leader-elect* settings
  --kubelet-arg K=V           embedded agent's kubelet setting (repeatable); supported: port=N (streaming server, default 10250),
                              image-pull-backoff=10s, image-pull-backoff-max=5m, container-log-max-size=10Mi,
                              container-log-max-files=5, container-log-monitor-interval=10s (log rotation),
                              allowed-unsafe-sysctls=kernel.msg*,net.core.somaxconn (sysctls beyond the safe set),
                              eviction-hard=memory.available<100Mi,nodefs.available<10%, eviction-pressure-transition-period=5m
`;

/** Parses the flags and runs the server until SIGTERM/SIGINT. */
export async function serverCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string', short: 'd' },
      'bind-address': { type: 'string' },
      'https-listen-port': { type: 'string' },
      'datastore-endpoint': { type: 'string' },
      'disable-agent': { type: 'boolean' },
      token: { type: 'string', short: 't' },
      'write-kubeconfig': { type: 'string', short: 'o' },
      'cluster-cidr': { type: 'string' },
      'service-cidr': { type: 'string' },
      'cluster-dns': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'node-name': { type: 'string' },
      'kube-apiserver-arg': { type: 'string', multiple: true },
      'kube-controller-manager-arg': { type: 'string', multiple: true },
      'kube-scheduler-arg': { type: 'string', multiple: true },
      'kubelet-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const port = Number(values['https-listen-port'] ?? '6443');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--https-listen-port: "${values['https-listen-port']}" is not a port number`);
  }
  let bindAddress = values['bind-address'] ?? '127.0.0.1';
  if (!isLoopback(bindAddress)) {
    // Until authentication lands, the API must not be reachable from other machines.
    console.error(`skiff: --bind-address ${bindAddress}: serving on 127.0.0.1 only until authentication is built`);
    bindAddress = '127.0.0.1';
  }
  const config: ServerConfig = {
    dataDir,
    bindAddress,
    httpsListenPort: port,
    datastoreEndpoint: values['datastore-endpoint'] ?? '',
    disableAgent: values['disable-agent'] ?? false,
    token: values.token ?? '',
    writeKubeconfig: values['write-kubeconfig'] ?? join(dataDir, 'kubeconfig.yaml'),
    clusterCidr: values['cluster-cidr'] ?? '10.42.0.0/16',
    serviceCidr: values['service-cidr'] ?? '10.43.0.0/16',
    clusterDns: values['cluster-dns'] ?? '10.43.0.10',
    clusterDomain: values['cluster-domain'] ?? 'cluster.local',
    nodeName: values['node-name'] ?? (await import('node:os')).hostname(),
    kubeApiserverArgs: pairs('kube-apiserver-arg', values['kube-apiserver-arg']),
    kubeControllerManagerArgs: pairs('kube-controller-manager-arg', values['kube-controller-manager-arg']),
    kubeSchedulerArgs: pairs('kube-scheduler-arg', values['kube-scheduler-arg']),
    kubeletArgs: pairs('kubelet-arg', values['kubelet-arg']),
  };
  const server = await runServer(config);
  const onSignal = (signal: string) => {
    console.error(`skiff: ${signal} received, shutting down`);
    void server.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  await server.stopped;
  console.error('skiff: stopped');
  return 0;
}

/** `--flag key=value` repeated → { key: value }. */
function pairs(flag: string, list: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (list ?? []).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new TypeError(`--${flag}: "${pair}" is not key=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}
