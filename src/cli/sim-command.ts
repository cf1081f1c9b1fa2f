/**
 * `skiff sim [flags]` — runs simulated nodes against a cluster. Control commands are read from
 * stdin, one a line (`stop-heartbeat sim-3`); each is answered on stdout with `ok <line>` or
 * `error <line>: <why>`.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport } from '../client/index.ts';
import { credentialsFromToken, parseDuration, Simulator } from '../sim/index.ts';

const USAGE = `Usage: skiff sim --kubeconfig FILE --nodes N [flags]
       skiff sim --server URL --token TOKEN --nodes N [flags]

Runs N simulated nodes (kubelets without containers) in one process.

Flags:
  --kubeconfig FILE            cluster and credentials
  --server URL, --token TOKEN  join like an agent: the server's CA is checked against the token's CA
                               hash, then the server signs a client certificate (system:skiff-sim)
  --nodes N                    how many nodes (default 1)
  --node-name-prefix P         node names are P0, P1, … (default sim-)
  --cpu Q, --memory Q, --pods N, --ephemeral-storage Q
                               capacity of each node (default 32, 256Gi, 110, 1Ti)
  --labels k=v,...             extra node labels
  --taints k=v:Effect,...      taints every node registers with
  --job-duration D             how long Job pods run before they succeed (default 5s)
  --heartbeat-interval D       Lease renewal period (default 10s)
  --node-status-interval D     how often an unchanged node status is posted (default 5m)
  --max-grace-period D         longest wait for a deleted pod's grace period (default 1s)
  --cluster-cidr CIDR          pod addresses, a subnet per node (default 10.42.0.0/16)

Commands on stdin: stop-heartbeat NODE, resume-heartbeat NODE, set-node-ready NODE true|false,
fail-pod NS/NAME [CODE], exit-pod NS/NAME CODE, set-pod-ready NS/NAME true|false.
`;

/** Parses the flags and runs the simulator until SIGTERM/SIGINT. */
export async function simCommand(args: string[]): Promise<number> {
  const text = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args,
    options: {
      kubeconfig: text, server: text, token: text, nodes: text, 'node-name-prefix': text, cpu: text, memory: text, pods: text,
      'ephemeral-storage': text, labels: text, taints: text, 'job-duration': text, 'heartbeat-interval': text,
      'node-status-interval': text, 'max-grace-period': text, 'cluster-cidr': text, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const nodes = Number(v.nodes ?? '1');
  if (!Number.isInteger(nodes) || nodes < 0) throw new RangeError(`--nodes: "${v.nodes}" is not a number of nodes`);
  let transport: HttpTransport;
  const http = { userAgent: 'skiff-sim', maxSockets: 64 };
  if (v.kubeconfig) transport = HttpTransport.fromKubeconfig(v.kubeconfig, http);
  else if (v.server && v.token) transport = new HttpTransport(await credentialsFromToken(v.server, v.token, { kind: 'sim' }), http);
  else throw new TypeError('pass --kubeconfig FILE, or --server URL and --token TOKEN');
  const duration = (flag: string, value: string | undefined) => {
    try {
      return value === undefined ? undefined : parseDuration(value);
    } catch (error) {
      throw new RangeError(`--${flag}: ${(error as Error).message}`);
    }
  };
  const sim = new Simulator({
    client: new Client(transport),
    nodes,
    ...defined({
      nodeNamePrefix: v['node-name-prefix'], cpu: v.cpu, memory: v.memory, pods: v.pods, ephemeralStorage: v['ephemeral-storage'],
      labels: v.labels === undefined ? undefined : parseLabels(v.labels), taints: v.taints === undefined ? undefined : parseTaints(v.taints),
      jobDurationMs: duration('job-duration', v['job-duration']), heartbeatIntervalMs: duration('heartbeat-interval', v['heartbeat-interval']),
      nodeStatusIntervalMs: duration('node-status-interval', v['node-status-interval']), maxGracePeriodMs: duration('max-grace-period', v['max-grace-period']),
      clusterCidr: v['cluster-cidr'],
    }),
  });
  const started = performance.now();
  await sim.start();
  console.error(`skiff sim: ${nodes} nodes ready in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      sim.command(line);
      process.stdout.write(`ok ${line.trim()}\n`);
    } catch (error) {
      process.stdout.write(`error ${line.trim()}: ${(error as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  lines.close();
  await sim.stop();
  transport.close();
  return 0;
}

function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** `a=b,c=d` → { a: 'b', c: 'd' }. */
function parseLabels(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split(',').filter(Boolean).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new TypeError(`--labels: "${pair}" is not key=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

/** `k=v:NoSchedule,k2:NoExecute` → taints. */
function parseTaints(text: string): Taint[] {
  return text.split(',').filter(Boolean).map((item) => {
    const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(item);
    if (!match) throw new TypeError(`--taints: "${item}" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    return { key: match[1]!, ...(match[2] ? { value: match[2] } : {}), effect: match[3]! };
  });
}
