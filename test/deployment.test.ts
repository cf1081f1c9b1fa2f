/**
 * The Deployment controller with the real kubectl against a real `skiff server` and simulated
 * nodes (`skiff sim`): rollout status, rolling updates within maxSurge/maxUnavailable (checked on
 * every ReplicaSet change a watch sees), history with change-cause, undo (to a revision),
 * pause/resume, restart, proportional scaling mid-rollout, Recreate, the progress deadline, and
 * deletion through the garbage collector. The server's scheduler places the pods.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Client, controllerOf, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

let server: TestServer;
let sim: TestSim;
let transport: HttpTransport;
let client: Client;

before(async () => {
  server = await startServer();
  sim = await startSim(server, { nodes: 3, maxGracePeriod: '0s' });
  transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'deployment-test' });
  client = new Client(transport);
});

after(async () => {
  transport?.close();
  await sim?.stop();
  await cleanup(server);
});

async function eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function run(args: string[], input?: string): Promise<string> {
  const result = await kubectl(server, args, input === undefined ? {} : { input });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

interface DeploymentSpecOptions {
  replicas?: number;
  image?: string;
  strategy?: string;
  extraSpec?: string;
  /** Pods carry a readiness gate nobody sets: they run but never become ready. */
  neverReady?: boolean;
}

function deploymentYaml(ns: string, name: string, o: DeploymentSpecOptions = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${o.replicas ?? 3}
  selector: {matchLabels: {app: ${name}}}${o.strategy ? `\n  strategy: ${o.strategy}` : ''}${o.extraSpec ?? ''}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: ${o.image ?? 'nginx:1'}}]${o.neverReady ? '\n      readinessGates: [{conditionType: example.com/never}]' : ''}
`;
}

async function namespace(ns: string): Promise<void> {
  await run(['create', 'namespace', ns]);
}

async function rolloutStatus(ns: string, name: string): Promise<string> {
  return run(['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=60s']);
}

async function replicaSets(ns: string): Promise<ReplicaSet[]> {
  return (await client.resource(kinds.replicaSets).list({ namespace: ns })).items;
}

async function deployment(ns: string, name: string): Promise<Deployment> {
  return client.resource(kinds.deployments).get(ns, name);
}

async function scalingEvents(ns: string): Promise<string[]> {
  const items = (await client.resource(kinds.events).list({ namespace: ns })).items.filter((e: Event) => e.reason === 'ScalingReplicaSet');
  return items.sort((a, b) => (a.metadata!.creationTimestamp! < b.metadata!.creationTimestamp! ? -1 : 1)).map((e) => e.message!);
}

/** Records every ReplicaSet state a watch of the namespace sees. */
async function watchReplicaSets(ns: string): Promise<{ states: Map<string, ReplicaSet>[]; stop: () => void }> {
  const current = new Map<string, ReplicaSet>();
  const states: Map<string, ReplicaSet>[] = [];
  const stop = await client.resource(kinds.replicaSets).watch(
    { namespace: ns },
    (event) => {
      if (event.type === 'DELETED') current.delete(event.object.metadata!.name!);
      else if (event.type !== 'BOOKMARK' && event.type !== 'ERROR') current.set(event.object.metadata!.name!, event.object);
      states.push(new Map(current));
    },
    () => undefined,
  );
  return { states, stop };
}

test('kubectl apply then rollout status: one ReplicaSet named by the template hash, revision 1, pods labelled', async () => {
  await namespace('basic');
  await run(['apply', '-f', '-'], deploymentYaml('basic', 'web'));
  assert.match(await rolloutStatus('basic', 'web'), /deployment "web" successfully rolled out/);
  const [rs, ...others] = await replicaSets('basic');
  assert.equal(others.length, 0);
  const hash = rs!.metadata!.labels!['pod-template-hash']!;
  assert.match(hash, /^[456789bcdf]{1,10}$/);
  assert.equal(rs!.metadata!.name, `web-${hash}`);
  assert.equal(rs!.spec!.selector!.matchLabels!['pod-template-hash'], hash);
  assert.equal(rs!.spec!.template!.metadata!.labels!['pod-template-hash'], hash);
  assert.deepEqual(
    { revision: rs!.metadata!.annotations!['deployment.kubernetes.io/revision'], desired: rs!.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], max: rs!.metadata!.annotations!['deployment.kubernetes.io/max-replicas'] },
    { revision: '1', desired: '3', max: '4' },
  );
  const d = await deployment('basic', 'web');
  assert.equal(controllerOf(rs!)?.uid, d.metadata!.uid);
  assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.deepEqual(
    { ...d.status, conditions: undefined },
    { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: undefined },
  );
  const conditions = Object.fromEntries(d.status!.conditions!.map((c) => [c.type, `${c.status} ${c.reason} ${c.message}`]));
  assert.deepEqual(conditions, {
    Available: 'True MinimumReplicasAvailable Deployment has minimum availability.',
    Progressing: `True NewReplicaSetAvailable ReplicaSet "web-${hash}" has successfully progressed.`,
  });
  const pods = (await client.resource(kinds.pods).list({ namespace: 'basic' })).items;
  assert.equal(pods.length, 3);
  for (const pod of pods) assert.equal(pod.metadata!.labels!['pod-template-hash'], hash);
  assert.deepEqual(await scalingEvents('basic'), [`Scaled up replica set web-${hash} from 0 to 3`]);
  assert.match(await run(['get', 'deploy', 'web', '-n', 'basic', '--no-headers']), /^web\s+3\/3\s+3\s+3\s/);

  // Deleting the Deployment takes its ReplicaSet and pods with it (garbage collector).
  await run(['delete', 'deployment', 'web', '-n', 'basic']);
  await eventually(async () => {
    assert.equal((await replicaSets('basic')).length, 0);
    assert.equal((await client.resource(kinds.pods).list({ namespace: 'basic' })).items.length, 0);
  }, 'cascading deletion');
});

test('kubectl set image rolls out within maxSurge and maxUnavailable; history, undo and --to-revision', async () => {
  await namespace('rolling');
  await run(['apply', '-f', '-'], deploymentYaml('rolling', 'web', { replicas: 4, strategy: '{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}' }));
  await rolloutStatus('rolling', 'web');
  await run(['annotate', 'deployment/web', '-n', 'rolling', 'kubernetes.io/change-cause=first']);
  await eventually(async () => assert.equal((await replicaSets('rolling'))[0]!.metadata!.annotations!['kubernetes.io/change-cause'], 'first'), 'change-cause copied');
  const [first] = await replicaSets('rolling');

  const watch = await watchReplicaSets('rolling');
  try {
    await run(['set', 'image', 'deployment/web', '-n', 'rolling', 'c=nginx:2']);
    await run(['annotate', 'deployment/web', '-n', 'rolling', 'kubernetes.io/change-cause=second', '--overwrite']);
    assert.match(await rolloutStatus('rolling', 'web'), /successfully rolled out/);
  } finally {
    watch.stop();
  }
  const second = (await replicaSets('rolling')).find((rs) => rs.metadata!.name !== first!.metadata!.name)!;
  // Every state a watch saw: at most 4 + 1 pods asked for, and never fewer than 4 - 0 available
  // counting the old ReplicaSet's desired pods (they are only removed once new ones are available).
  let maxTotal = 0;
  for (const state of watch.states) {
    const old = state.get(first!.metadata!.name!);
    const fresh = state.get(second.metadata!.name!);
    const total = (old?.spec?.replicas ?? 0) + (fresh?.spec?.replicas ?? 0);
    maxTotal = Math.max(maxTotal, total);
    assert.ok(total <= 5, `at most replicas + maxSurge pods: ${total}`);
    assert.ok((old?.spec?.replicas ?? 0) + (fresh?.status?.availableReplicas ?? 0) >= 4, 'never below replicas - maxUnavailable');
  }
  assert.equal(maxTotal, 5, 'the surge was used');
  assert.equal(second.metadata!.annotations!['deployment.kubernetes.io/revision'], '2');
  assert.equal(second.spec!.replicas, 4);
  assert.equal((await replicaSets('rolling')).find((rs) => rs.metadata!.name === first!.metadata!.name)!.spec!.replicas, 0);
  const events = await scalingEvents('rolling');
  assert.ok(events.includes(`Scaled up replica set ${second.metadata!.name} from 0 to 1`), events.join('\n'));
  assert.ok(events.includes(`Scaled down replica set ${first!.metadata!.name} from 4 to 3`), events.join('\n'));

  const history = await run(['rollout', 'history', 'deployment/web', '-n', 'rolling']);
  assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+first\n2\s+second\n/);
  assert.match(await run(['rollout', 'history', 'deployment/web', '-n', 'rolling', '--revision=1']), /Image:\s+nginx:1/);

  // Undo: back to revision 1's template, which becomes revision 3 on the same ReplicaSet.
  assert.match(await run(['rollout', 'undo', 'deployment/web', '-n', 'rolling']), /rolled back/);
  await rolloutStatus('rolling', 'web');
  let d = await deployment('rolling', 'web');
  assert.equal(d.spec!.template!.spec!.containers[0]!.image, 'nginx:1');
  assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '3');
  let sets = await replicaSets('rolling');
  assert.equal(sets.length, 2, 'the old ReplicaSet is reused');
  const reused = sets.find((rs) => rs.metadata!.name === first!.metadata!.name)!;
  assert.equal(reused.spec!.replicas, 4);
  assert.equal(reused.metadata!.annotations!['deployment.kubernetes.io/revision'], '3');
  assert.equal(reused.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1');
  assert.match(await run(['rollout', 'history', 'deployment/web', '-n', 'rolling']), /REVISION\s+CHANGE-CAUSE\n2\s+second\n3\s+first\n/);

  assert.match(await run(['rollout', 'undo', 'deployment/web', '-n', 'rolling', '--to-revision=2']), /rolled back/);
  await rolloutStatus('rolling', 'web');
  d = await deployment('rolling', 'web');
  assert.equal(d.spec!.template!.spec!.containers[0]!.image, 'nginx:2');
  assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '4');
  sets = await replicaSets('rolling');
  assert.equal(sets.find((rs) => rs.metadata!.name === second.metadata!.name)!.spec!.replicas, 4);
  const missing = await kubectl(server, ['rollout', 'undo', 'deployment/web', '-n', 'rolling', '--to-revision=9']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /unable to find specified revision 9 in history/);
});

test('rollout pause holds template changes; resume rolls them out; restart replaces every pod', async () => {
  await namespace('pause');
  await run(['apply', '-f', '-'], deploymentYaml('pause', 'web', { replicas: 2 }));
  await rolloutStatus('pause', 'web');
  await run(['rollout', 'pause', 'deployment/web', '-n', 'pause']);
  await run(['set', 'image', 'deployment/web', '-n', 'pause', 'c=nginx:2']);
  await eventually(async () => {
    const d = await deployment('pause', 'web');
    assert.equal(d.status!.observedGeneration, d.metadata!.generation);
    const progressing = d.status!.conditions!.find((c) => c.type === 'Progressing')!;
    assert.deepEqual([progressing.status, progressing.reason, progressing.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
    assert.equal(d.status!.updatedReplicas ?? 0, 0, 'no pod runs the paused template');
  }, 'the paused deployment observed');
  assert.equal((await replicaSets('pause')).length, 1, 'no new ReplicaSet while paused');

  await run(['rollout', 'resume', 'deployment/web', '-n', 'pause']);
  await rolloutStatus('pause', 'web');
  assert.equal((await replicaSets('pause')).length, 2);
  // kubectl refuses to undo a paused deployment (it checks the spec the controller keeps).
  await run(['rollout', 'pause', 'deployment/web', '-n', 'pause']);
  const paused = await kubectl(server, ['rollout', 'undo', 'deployment/web', '-n', 'pause']);
  assert.match(paused.stderr, /you cannot rollback a paused deployment; resume it first/);
  await run(['rollout', 'resume', 'deployment/web', '-n', 'pause']);

  const before = (await client.resource(kinds.pods).list({ namespace: 'pause' })).items.map((p: Pod) => p.metadata!.name);
  assert.match(await run(['rollout', 'restart', 'deployment/web', '-n', 'pause']), /restarted/);
  await rolloutStatus('pause', 'web');
  const d = await deployment('pause', 'web');
  assert.ok(d.spec!.template!.metadata!.annotations!['kubectl.kubernetes.io/restartedAt']);
  assert.equal(d.metadata!.annotations!['deployment.kubernetes.io/revision'], '3');
  await eventually(async () => {
    const now = (await client.resource(kinds.pods).list({ namespace: 'pause' })).items.filter((p) => !p.metadata!.deletionTimestamp);
    assert.equal(now.length, 2);
    for (const pod of now) assert.ok(!before.includes(pod.metadata!.name), `${pod.metadata!.name} is new`);
  }, 'every pod replaced');
});

test('kubectl scale during a stuck rollout spreads the new replicas in proportion (max-replicas)', async () => {
  await namespace('proportional');
  await run(['apply', '-f', '-'], deploymentYaml('proportional', 'web', { replicas: 10, strategy: '{type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}' }));
  await rolloutStatus('proportional', 'web');
  const [old] = await replicaSets('proportional');
  // The new template's pods never become ready, so the rollout stops at old 8 / new 5.
  await run(['apply', '-f', '-'], deploymentYaml('proportional', 'web', { replicas: 10, image: 'nginx:2', neverReady: true, strategy: '{type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}' }));
  const sizes = async () => {
    const sets = await replicaSets('proportional');
    const o = sets.find((rs) => rs.metadata!.name === old!.metadata!.name)!;
    const n = sets.find((rs) => rs.metadata!.name !== old!.metadata!.name)!;
    return { old: o.spec!.replicas, new: n?.spec!.replicas, oldMax: o.metadata!.annotations!['deployment.kubernetes.io/max-replicas'] };
  };
  await eventually(async () => assert.deepEqual(await sizes(), { old: 8, new: 5, oldMax: '13' }), 'the rollout stuck at 8 + 5');
  await run(['scale', 'deployment/web', '-n', 'proportional', '--replicas=20']);
  // 10 more (20 + 3 - 13): old gets round(8 * 23 / 13) - 8 = 6, new round(5 * 23 / 13) - 5 = 4.
  await eventually(async () => assert.deepEqual(await sizes(), { old: 14, new: 9, oldMax: '23' }), 'proportional scale-up');
  const watch = await watchReplicaSets('proportional');
  try {
    await run(['scale', 'deployment/web', '-n', 'proportional', '--replicas=5']);
    // The rollout then goes on within the new bounds (min available 3, at most 8): old 3, new 5.
    await eventually(async () => assert.deepEqual(await sizes(), { old: 3, new: 5, oldMax: '8' }), 'the rollout at its new size');
  } finally {
    watch.stop();
  }
  // 15 fewer (5 + 3 - 23) first: old round(14 * 8 / 23) - 14 = -9, new round(9 * 8 / 23) - 9 = -6.
  const proportional = watch.states.some((state) => {
    const seen = [...state.values()];
    const oldSize = seen.find((rs) => rs.metadata!.name === old!.metadata!.name)?.spec!.replicas;
    const newSize = seen.find((rs) => rs.metadata!.name !== old!.metadata!.name)?.spec!.replicas;
    return oldSize === 5 && newSize === 3;
  });
  assert.ok(proportional, 'the scale-down was proportional (old 5, new 3)');
});

test('Recreate removes every old pod before the first new one is created', async () => {
  await namespace('recreate');
  await run(['apply', '-f', '-'], deploymentYaml('recreate', 'web', { replicas: 3, strategy: '{type: Recreate}' }));
  await rolloutStatus('recreate', 'web');
  const [old] = await replicaSets('recreate');
  const live = new Map<string, Pod>();
  let overlap = false;
  const stop = await client.resource(kinds.pods).watch(
    { namespace: 'recreate' },
    (event) => {
      if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
      const pod = event.object;
      if (event.type === 'DELETED') live.delete(pod.metadata!.name!);
      else live.set(pod.metadata!.name!, pod);
      const owners = new Set([...live.values()].map((p) => controllerOf(p)?.uid));
      if (owners.size > 1) overlap = true;
    },
    () => undefined,
  );
  try {
    await run(['set', 'image', 'deployment/web', '-n', 'recreate', 'c=nginx:2']);
    await rolloutStatus('recreate', 'web');
  } finally {
    stop();
  }
  assert.equal(overlap, false, 'old and new pods never coexisted');
  const fresh = (await replicaSets('recreate')).find((rs) => rs.metadata!.name !== old!.metadata!.name)!;
  assert.deepEqual((await scalingEvents('recreate')).slice(1), [`Scaled down replica set ${old!.metadata!.name} from 3 to 0`, `Scaled up replica set ${fresh.metadata!.name} from 0 to 3`]);
});

test('a rollout whose pods never become ready exceeds its progress deadline; rollout status fails as upstream', async () => {
  await namespace('deadline');
  await run(['apply', '-f', '-'], deploymentYaml('deadline', 'slow', { replicas: 2, neverReady: true, extraSpec: '\n  progressDeadlineSeconds: 2' }));
  const status = await kubectl(server, ['rollout', 'status', 'deployment/slow', '-n', 'deadline', '--timeout=60s']);
  assert.notEqual(status.code, 0);
  assert.match(status.stderr, /error: deployment "slow" exceeded its progress deadline/);
  const d = await deployment('deadline', 'slow');
  const [rs] = await replicaSets('deadline');
  const progressing = d.status!.conditions!.find((c) => c.type === 'Progressing')!;
  assert.deepEqual([progressing.status, progressing.reason, progressing.message], ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${rs!.metadata!.name}" has timed out progressing.`]);
  const available = d.status!.conditions!.find((c) => c.type === 'Available')!;
  assert.deepEqual([available.status, available.reason], ['False', 'MinimumReplicasUnavailable']);
  assert.equal(d.status!.unavailableReplicas, 2);
  // kubectl describe shows the reason, as upstream's.
  assert.match(await run(['describe', 'deployment', 'slow', '-n', 'deadline']), /Progressing\s+False\s+ProgressDeadlineExceeded/);
});

test('old ReplicaSets beyond revisionHistoryLimit are deleted; a matching orphan ReplicaSet is adopted', async () => {
  await namespace('history');
  // An orphan ReplicaSet the Deployment's selector matches: adopted, and scaled away as old.
  await run(['apply', '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: stray, namespace: history, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web, v: stray}}
  template:
    metadata: {labels: {app: web, v: stray}}
    spec: {containers: [{name: c, image: nginx:0}]}
`);
  await run(['apply', '-f', '-'], deploymentYaml('history', 'web', { replicas: 2, extraSpec: '\n  revisionHistoryLimit: 1' }));
  await rolloutStatus('history', 'web');
  const d = await deployment('history', 'web');
  for (const image of ['nginx:2', 'nginx:3']) {
    await run(['set', 'image', 'deployment/web', '-n', 'history', `c=${image}`]);
    await rolloutStatus('history', 'web');
  }
  await eventually(async () => {
    const sets = await replicaSets('history');
    assert.deepEqual(sets.map((rs) => rs.spec!.template!.spec!.containers[0]!.image).sort(), ['nginx:2', 'nginx:3'], 'the newest and one old');
    for (const rs of sets) assert.equal(controllerOf(rs)?.uid, d.metadata!.uid);
  }, 'history trimmed to one old ReplicaSet');
  assert.match(await run(['rollout', 'history', 'deployment/web', '-n', 'history']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
});
