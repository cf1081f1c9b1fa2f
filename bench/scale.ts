/**
 * The control plane at scale, on simulated nodes (issue #4's targets).
 *
 *   node_modules/.bin/node bench/scale.ts deployment [replicas=10000] [nodes=1000]
 *   node_modules/.bin/node bench/scale.ts envelope [nodes=5000] [pods=150000] [deployments|direct]
 *
 * `deployment`: `kubectl apply` of one Deployment, until every replica is Running (target
 * < 30 s for 10,000 replicas on 1,000 nodes). Progress is printed every second: pods created,
 * bound, Running — the picture of where the time goes.
 *
 * `envelope`: upstream's scalability envelope on one machine: N nodes and P pods held (pods
 * from Deployments of 1,000 replicas, or with `direct` created already bound to a node, round
 * robin, as kwok-based density tests fill a cluster — the state held is the same, the scheduler
 * and controllers are left out of the filling); then, while a background writer makes 20 changes/s,
 * single-object API calls (get, create, update, delete of ConfigMaps; get of a pod) are timed
 * for 60 s (target p99 < 1 s); the server's and the simulator's RSS are reported.
 *
 * Everything (server, simulator, kubectl, this process) shares the machine's cores.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, HttpTransport, Informer, kinds } from '../src/client/index.ts';
import { cleanup, kubectlBinary, startServer, type TestServer } from '../test/helpers/cluster.ts';
import { startSim, type TestSim } from '../test/helpers/sim.ts';
import { machineLine } from './lib/machine.ts';
import { rssBytes, runBench } from './lib/process.ts';
import { mib, ms, summarize } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';

const mode = process.argv[2] ?? 'deployment';
let server: TestServer | undefined;
let sim: TestSim | undefined;
let transport: HttpTransport | undefined;

function deployment(name: string, replicas: number): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'registry.local/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  };
}

function kubectlApply(s: TestServer, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlBinary(), ['--kubeconfig', s.kubeconfig, 'apply', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply exited ${code}`))));
  });
}

/** Follows pods through one informer: how many exist, are bound, are Running. */
async function podCounter(client: Client) {
  const pods = new Informer(client.resource(kinds.pods), {
    // Keep only what is counted, so the benchmark's own memory stays small.
    transform: (p) => ({ metadata: { name: p.metadata!.name!, namespace: p.metadata!.namespace!, resourceVersion: p.metadata!.resourceVersion! }, spec: { nodeName: p.spec?.nodeName ?? '', containers: [] }, status: { phase: p.status?.phase ?? '' } }),
    onError: () => undefined,
  });
  await pods.start();
  return {
    counts() {
      let bound = 0;
      let running = 0;
      for (const p of pods.list()) {
        if (p.spec?.nodeName) bound++;
        if (p.status?.phase === 'Running') running++;
      }
      return { total: pods.size, bound, running };
    },
    stop: () => pods.stop(),
  };
}

async function waitRunning(counter: Awaited<ReturnType<typeof podCounter>>, want: number, started: number, label: string): Promise<number> {
  let last = 0;
  for (;;) {
    const c = counter.counts();
    const now = performance.now();
    if (now - last >= 1000) {
      last = now;
      console.error(`  ${label} ${((now - started) / 1000).toFixed(0).padStart(4)} s: ${c.total} pods, ${c.bound} bound, ${c.running} Running`);
    }
    if (c.running >= want) return now - started;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deploymentMode(): Promise<void> {
  const replicas = Number(process.argv[3] ?? 10_000);
  const nodes = Number(process.argv[4] ?? 1000);
  server = await startServer();
  sim = await startSim(server, { nodes, heartbeatInterval: '10s', maxGracePeriod: '0s' });
  transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'bench-scale' });
  const counter = await podCounter(new Client(transport));
  const file = join(server.dataDir, 'web.json');
  await writeFile(file, JSON.stringify(deployment('web', replicas)));
  console.error(`applying a Deployment of ${replicas} replicas on ${nodes} simulated nodes`);
  const started = performance.now();
  await kubectlApply(server, file);
  const elapsed = await waitRunning(counter, replicas, started, 'apply');
  counter.stop();
  console.log(`\n${machineLine()}\n`);
  console.log(
    markdownTable(
      ['Scenario', 'Time', 'Pods/s', 'Target', 'Server RSS after'],
      [[`kubectl apply → ${replicas.toLocaleString('en-US')} replicas Running on ${nodes.toLocaleString('en-US')} simulated nodes`, `${(elapsed / 1000).toFixed(1)} s`, Math.round(replicas / (elapsed / 1000)).toLocaleString('en-US'), '< 30 s', `${mib(rssBytes(server.process.pid!))} MiB`]],
    ),
  );
}

async function envelopeMode(): Promise<void> {
  const nodes = Number(process.argv[3] ?? 5000);
  const podsWanted = Number(process.argv[4] ?? 150_000);
  server = await startServer();
  const simStarted = performance.now();
  // 150,000 pods on 5,000 nodes need more pod addresses than 10.42.0.0/16 gives (13 a node).
  sim = await startSim(server, { nodes, heartbeatInterval: '10s', maxGracePeriod: '0s', pods: '110', clusterCidr: '100.64.0.0/10' });
  console.error(`${nodes} simulated nodes ready in ${((performance.now() - simStarted) / 1000).toFixed(1)} s`);
  transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'bench-scale', maxSockets: 32 });
  const client = new Client(transport);
  const counter = await podCounter(client);
  const perDeployment = 1000;
  const direct = process.argv[5] === 'direct';
  const started = performance.now();
  if (direct) {
    let next = 0;
    const pods = client.resource(kinds.pods);
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let i = next++; i < podsWanted; i = next++) {
          await pods.create({
            metadata: { name: `held-${i}`, namespace: 'default', labels: { app: `held-${i % 150}` } },
            spec: { nodeName: `sim-${i % nodes}`, containers: [{ name: 'c', image: 'registry.local/app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
          });
        }
      }),
    );
  } else {
    for (let i = 0; i * perDeployment < podsWanted; i++) {
      await client.resource(kinds.deployments).create(deployment(`app-${i}`, Math.min(perDeployment, podsWanted - i * perDeployment)) as never);
    }
  }
  const filled = await waitRunning(counter, podsWanted, started, 'fill');
  counter.stop();
  console.error(`${podsWanted} pods Running after ${(filled / 1000).toFixed(0)} s; measuring API latency under 20 changes/s for 60 s`);

  // Background churn: 20 changes/s, alternating ConfigMap updates and pod label patches.
  let churning = true;
  const podNames = (await client.resource(kinds.pods).list({ namespace: 'default', limit: 200 })).items.map((p) => p.metadata!.name!);
  await client.resource(kinds.configMaps).create({ metadata: { name: 'churn', namespace: 'default' }, data: { n: '0' } });
  const churn = (async () => {
    for (let n = 0; churning; n++) {
      const tick = performance.now();
      if (n % 2 === 0) await client.resource(kinds.configMaps).patch('default', 'churn', { data: { n: String(n) } });
      else await client.resource(kinds.pods).patch('default', podNames[n % podNames.length]!, { metadata: { labels: { churn: String(n) } } });
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (performance.now() - tick))));
    }
  })();
  const samples: Record<string, number[]> = { 'get pod': [], 'create configmap': [], 'update configmap': [], 'get configmap': [], 'delete configmap': [] };
  const time = async (op: string, call: () => Promise<unknown>) => {
    const t = performance.now();
    await call();
    samples[op]!.push(performance.now() - t);
  };
  const until = performance.now() + 60_000;
  for (let i = 0; performance.now() < until; i++) {
    const name = `probe-${i}`;
    const cms = client.resource(kinds.configMaps);
    await time('get pod', () => client.resource(kinds.pods).get('default', podNames[i % podNames.length]!));
    await time('create configmap', () => cms.create({ metadata: { name, namespace: 'default' }, data: { v: '1' } }));
    const got = await cms.get('default', name);
    await time('update configmap', () => cms.update({ ...got, data: { v: '2' } }));
    await time('get configmap', () => cms.get('default', name));
    await time('delete configmap', () => cms.delete('default', name));
    await new Promise((r) => setTimeout(r, 100));
  }
  churning = false;
  await churn;
  console.log(`\n${machineLine()}\n`);
  console.log(`${nodes.toLocaleString('en-US')} simulated nodes, ${podsWanted.toLocaleString('en-US')} pods Running (${direct ? 'created bound' : 'from Deployments'}, filled in ${(filled / 1000).toFixed(0)} s); 20 background changes/s\n`);
  console.log(
    markdownTable(
      ['Call', 'p50 (ms)', 'p99 (ms)', 'max (ms)', 'n'],
      Object.entries(samples).map(([op, s]) => {
        const sum = summarize(s);
        return [op, ms(sum.p50), ms(sum.p99), ms(sum.max), s.length];
      }),
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );
  console.log(`\nServer RSS ${mib(rssBytes(server.process.pid!))} MiB; simulator RSS ${mib(rssBytes(sim.process.pid!))} MiB`);
}

await runBench(
  async () => {
    if (mode === 'deployment') await deploymentMode();
    else if (mode === 'envelope') await envelopeMode();
    else throw new Error(`unknown mode "${mode}": deployment or envelope`);
  },
  async () => {
    transport?.close();
    await sim?.stop();
    // A graceful stop first, so that a server run with --cpu-prof (NODE_OPTIONS) writes its profile.
    await server?.stop();
    await cleanup(server);
  },
);
