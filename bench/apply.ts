/**
 * Apply: `kubectl apply -f` of a 50-object multi-document manifest, end to end (kubectl's own
 * start-up, discovery, one request per object), client-side and server-side; and the server's
 * cost of one strategic merge patch of a Pod with 50 containers, both as the bare function and
 * as a whole PATCH request.
 *
 *   node_modules/.bin/node bench/apply.ts
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { applyStrategicMergePatch, patchMetaFor } from '../src/apiserver/patch/index.ts';
import { kubectlBinary } from '../test/helpers/cluster.ts';
import { ApiClient, readKubeconfig } from './lib/client.ts';
import { machineLine } from './lib/machine.ts';
import { runBench } from './lib/process.ts';
import { BenchServer } from './lib/server.ts';
import { ms, summarize } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';

const OBJECTS = 50;
const RUNS = 5;
const CONTAINERS = 50;
const PATCHES = 300;

/** 50 objects: ConfigMaps, Services and Deployments in one namespace. */
function manifest(ns: string, image: string): string {
  const docs: string[] = [`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`];
  for (let i = 0; docs.length < OBJECTS; i++) {
    const kind = i % 3;
    if (kind === 0) docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-${i}\n  namespace: ${ns}\ndata:\n  key: value-${i}\n`);
    else if (kind === 1) docs.push(`apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\n  namespace: ${ns}\nspec:\n  selector: { app: app-${i} }\n  ports:\n  - port: 80\n`);
    else {
      docs.push(
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\n  namespace: ${ns}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: { app: app-${i} }\n  template:\n    metadata:\n      labels: { app: app-${i} }\n    spec:\n      containers:\n      - name: main\n        image: ${image}\n        env:\n        - name: INDEX\n          value: "${i}"\n`,
      );
    }
  }
  return docs.join('---\n');
}

function timeKubectl(kubeconfig: string, args: string[], input: string): number {
  const started = performance.now();
  execFileSync(kubectlBinary(), ['--kubeconfig', kubeconfig, '--cache-dir', join(dirname(kubeconfig), '.kube-cache'), ...args], { input, stdio: ['pipe', 'ignore', 'inherit'] });
  return performance.now() - started;
}

function pod(image: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'wide', namespace: 'default' },
    spec: {
      containers: Array.from({ length: CONTAINERS }, (_, i) => ({
        name: `c${i}`,
        image,
        env: [{ name: 'INDEX', value: String(i) }],
        ports: [{ containerPort: 8000 + i }],
      })),
    },
  };
}

const bench = new BenchServer();
let client: ApiClient | undefined;

await runBench(
  async () => {
    const server = await bench.start();
    const rows: string[][] = [];
    for (const mode of ['client-side', 'server-side'] as const) {
      const extra = mode === 'server-side' ? ['--server-side'] : [];
      const create: number[] = [];
      const change: number[] = [];
      const same: number[] = [];
      try {
        for (let run = 0; run < RUNS; run++) {
          const ns = `apply-${mode}-${run}`;
          create.push(timeKubectl(server.kubeconfig, ['apply', ...extra, '-f', '-'], manifest(ns, 'nginx:1.27')));
          same.push(timeKubectl(server.kubeconfig, ['apply', ...extra, '-f', '-'], manifest(ns, 'nginx:1.27')));
          change.push(timeKubectl(server.kubeconfig, ['apply', ...extra, '-f', '-'], manifest(ns, 'nginx:1.28')));
        }
      } catch {
        rows.push([mode, "failed (see kubectl's message above)", '–', '–', '–']);
        continue;
      }
      for (const [what, samples] of [['create', create], ['unchanged', same], ['change every Deployment', change]] as const) {
        const s = summarize(Float64Array.from(samples));
        rows.push([mode, what, `${ms(s.p50)} ms`, `${ms(Math.min(...samples))} – ${ms(s.max)} ms`, `${((OBJECTS / s.p50) * 1000).toFixed(0)}/s`]);
      }
    }

    // The strategic merge patch itself, in this process.
    const meta = patchMetaFor('', 'v1', 'Pod')!;
    const current = pod('nginx:1.27');
    const patch = { spec: { containers: Array.from({ length: CONTAINERS }, (_, i) => ({ name: `c${i}`, image: 'nginx:1.28' })) } };
    for (let i = 0; i < 200; i++) applyStrategicMergePatch(current, patch, meta);
    const fn: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      applyStrategicMergePatch(current, patch, meta);
      fn.push(performance.now() - t);
    }
    // The same patch as a whole PATCH request (one client, so latency is the server's cost).
    client = new ApiClient(await readKubeconfig(server.kubeconfig));
    await client.json('POST', '/api/v1/namespaces/default/pods', pod('nginx:1.27'));
    const requests: number[] = [];
    for (let i = 0; i < PATCHES; i++) {
      const body = { spec: { containers: Array.from({ length: CONTAINERS }, (_, c) => ({ name: `c${c}`, image: `nginx:1.${i % 2 ? 27 : 28}` })) } };
      const t = performance.now();
      const res = (await client.request('PATCH', '/api/v1/namespaces/default/pods/wide', body, 'application/strategic-merge-patch+json')).status;
      requests.push(performance.now() - t);
      if (res !== 200) throw new Error(`PATCH answered ${res}`);
    }
    const f = summarize(Float64Array.from(fn));
    const r = summarize(Float64Array.from(requests.slice(20)));

    console.log('## Skiff apply\n');
    console.log(machineLine());
    console.log(`\n\`kubectl apply -f\` of ${OBJECTS} objects (Namespace, ConfigMaps, Services, Deployments), kubectl ${execFileSync(kubectlBinary(), ['version', '--client', '-o', 'json']).toString().match(/"gitVersion": "([^"]+)"/)?.[1]}; wall time of the whole kubectl run, median of ${RUNS}.\n`);
    console.log(markdownTable(['Apply', 'Step', 'p50', 'min – max', 'objects/s'], rows, ['left', 'left', 'right', 'right', 'right']));
    console.log(`\nStrategic merge patch of a Pod with ${CONTAINERS} containers (every image changed):\n`);
    console.log(
      markdownTable(
        ['Measure', 'p50', 'p99'],
        [
          ['applyStrategicMergePatch, in process', `${ms(f.p50)} ms`, `${ms(f.p99)} ms`],
          ['PATCH request end to end (1 client, HTTPS)', `${ms(r.p50)} ms`, `${ms(r.p99)} ms`],
        ],
        ['left', 'right', 'right'],
      ),
    );
  },
  async () => {
    client?.close();
    await bench.dispose();
  },
);
