/**
 * `skiff agent [flags]` — joins this machine to a cluster as a node: registers the Node, runs
 * the pods the scheduler binds to it in real containers (runc or crun), heartbeats its Lease.
 * Stops on SIGTERM/SIGINT; containers keep running and a restarted agent takes them over.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, HttpTransport, kinds, readKubeconfig } from '../client/index.ts';
import { nodePodCidr, parseKubeletArgs, startAgent } from '../kubelet/index.ts';
import { defaultDataDir } from '../server/index.ts';
import { credentialsFromToken, ensureNodePassword } from '../sim/index.ts';

const USAGE = `Usage: skiff agent --server URL --token TOKEN [flags]
       skiff agent --kubeconfig FILE [flags]

Joins this machine to a cluster as a node and runs its pods in real containers (as root).

Flags:
  --server URL, --token TOKEN  the cluster to join: the server's CA is checked against the token's
                               CA hash, then the server signs this node a client certificate
                               (system:node:<name>); the token is in <data-dir>/server/token on the server
  --kubeconfig FILE            cluster and credentials, instead of --server and --token
  --node-name N                the node's name (default: the hostname)
  --runtime runc|crun|sim      the OCI runtime (default runc; sim nodes are run by 'skiff sim')
  --data-dir DIR               state directory (default /var/lib/skiff); the agent uses DIR/agent
                               (DIR/agent/node-password: this node's password, made at the first join)
  --pod-cidr CIDR              this node's pod subnet (default: the Node's spec.podCIDR, else 10.42.0.0/24)
  --cluster-dns IP             DNS server written into pods' resolv.conf (default 10.43.0.10)
  --cluster-domain D           cluster domain (default cluster.local)
  --node-ip IP                 the node's address (default: the first IPv4 address)
  --insecure-registry HOST     a registry reached over plain HTTP (repeatable)
  --kubelet-arg K=V            kubelet setting (repeatable); supported: port=N (streaming server, default 10250)
                               container-log-max-size=10Mi, container-log-max-files=5,
                               container-log-monitor-interval=10s (log rotation),
                               image-pull-backoff=10s, image-pull-backoff-max=5m (image pull back-off),
                               allowed-unsafe-sysctls=kernel.msg*,net.core.somaxconn (beyond the safe set),
                               eviction-hard=memory.available<100Mi,nodefs.available<10%, eviction-pressure-transition-period=5m
`;

/** Parses the flags and runs the agent until SIGTERM/SIGINT. */
export async function agentCommand(args: string[]): Promise<number> {
  const text = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args,
    options: {
      server: text, token: text, kubeconfig: text, 'node-name': text, runtime: text, 'data-dir': text, 'pod-cidr': text,
      'cluster-dns': text, 'cluster-domain': text, 'node-ip': text, 'insecure-registry': { type: 'string', multiple: true },
      'kubelet-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const runtime = (v.runtime ?? 'runc') as 'runc' | 'crun' | 'sim';
  if (!['runc', 'crun', 'sim'].includes(runtime)) throw new TypeError(`--runtime: "${v.runtime}" is not runc, crun or sim`);
  if (runtime === 'sim') {
    console.error('skiff agent: --runtime sim is served by `skiff sim --nodes N` (simulated nodes); use runc or crun here');
    return 2;
  }
  if (process.getuid?.() !== 0) console.error('skiff agent: warning: not running as root; creating containers will fail');
  const nodeName = v['node-name'] ?? hostname();
  const dataDir = v['data-dir'] ?? defaultDataDir();
  let transport: HttpTransport;
  /** The cluster CA: the kubelet's streaming server accepts the API server's certificate by it. */
  let clientCa: string | undefined;
  const http = { userAgent: 'kubelet/v1.32.0-skiff (linux/amd64)', maxSockets: 32 };
  if (v.kubeconfig) {
    const credentials = readKubeconfig(v.kubeconfig);
    clientCa = credentials.ca;
    transport = new HttpTransport(credentials, http);
  } else if (v.server && v.token) {
    const nodePassword = await ensureNodePassword(join(dataDir, 'agent', 'node-password'));
    const credentials = await credentialsFromToken(v.server, v.token, { kind: 'node', nodeName, nodePassword });
    console.error(`skiff agent: joined ${v.server} as system:node:${nodeName} (cluster CA checked against the token)`);
    clientCa = credentials.ca;
    transport = new HttpTransport(credentials, http);
  } else throw new TypeError('pass --kubeconfig FILE, or --server URL and --token TOKEN');
  const kubeletSettings = parseKubeletArgs((v['kubelet-arg'] ?? []).map((pair) => pair.split(/=(.*)/s) as [string, string]).map(([k, val]) => [k, val ?? ''] as const),
    (key, value) => console.error(`skiff agent: --kubelet-arg ${key}=${value} is not supported; ignored`));
  const client = new Client(transport);
  let podCidr = v['pod-cidr'];
  if (!podCidr) {
    const existing = await client.resource(kinds.nodes).get(undefined, nodeName).catch(() => undefined);
    podCidr = existing?.spec?.podCIDR ?? nodePodCidr('10.42.0.0/16');
  }
  const agent = await startAgent({
    client,
    nodeName,
    dataDir,
    runtime,
    podCidr,
    clusterDns: [v['cluster-dns'] ?? '10.43.0.10'],
    clusterDomain: v['cluster-domain'] ?? 'cluster.local',
    ...(v['node-ip'] ? { nodeIp: v['node-ip'] } : {}),
    ...(v['insecure-registry'] ? { insecureRegistries: v['insecure-registry'] } : {}),
    ...(clientCa ? { clientCa } : {}),
    ...kubeletSettings,
  });
  console.error(`skiff agent: node ${nodeName} running (state in ${join(dataDir, 'agent')}, pod subnet ${podCidr})`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await agent.stop();
  transport.close();
  return 0;
}
