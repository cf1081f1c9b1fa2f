/**
 * A rolling update of a large Deployment on simulated nodes, end to end.
 *
 *   node_modules/.bin/node bench/rollout.ts [replicas=1000] [nodes=100]
 *
 * Starts `skiff server` and `skiff sim`, applies a Deployment (default maxSurge/maxUnavailable
 * 25%) and measures (1) apply until every replica is available and (2) a template change until
 * the rollout is complete (all replicas updated and available, old ReplicaSet at zero), polling
 * the Deployment's status every 50 ms. The server's scheduler places the pods.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanup, startServer } from '../test/helpers/cluster.ts';
import { startSim } from '../test/helpers/sim.ts';

const replicas = Number(process.argv[2] ?? 1000);
const nodes = Number(process.argv[3] ?? 100);

const server = await startServer();
const sim = await startSim(server, { nodes, maxGracePeriod: '0s' });
const transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'bench-rollout' });
const deployments = new Client(transport).resource(kinds.deployments);

async function until(done: (d: Deployment) => boolean): Promise<void> {
  for (;;) {
    const d = await deployments.get('default', 'web');
    if (done(d)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const complete = (d: Deployment) =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
  d.status?.updatedReplicas === replicas && d.status?.availableReplicas === replicas && d.status?.replicas === replicas;

try {
  let start = performance.now();
  await deployments.create({
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
    },
  });
  await until(complete);
  const created = performance.now() - start;
  start = performance.now();
  await deployments.patch('default', 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } }, { type: 'strategic' });
  await until(complete);
  const rolled = performance.now() - start;
  console.log(`| Deployment of ${replicas} replicas on ${nodes} simulated nodes | time |`);
  console.log('|---|---|');
  console.log(`| create → all available | ${(created / 1000).toFixed(1)} s |`);
  console.log(`| rolling update (25%/25%) → complete | ${(rolled / 1000).toFixed(1)} s |`);
} finally {
  transport.close();
  await sim.stop();
  await cleanup(server);
}
