/**
 * DaemonSets against a real server, simulated nodes (`skiff sim`) and the real kubectl: one pod
 * per node, pinned by node affinity; nodeSelector and node labels; taints and tolerations; a
 * node joining and leaving; rolling updates with maxUnavailable and with maxSurge;
 * `kubectl rollout status|history|undo daemonset`. The server's scheduler places the pods (on
 * the node their affinity names) and the simulated kubelets run them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

/** The node names a pod's required node affinity allows through `matchFields` on `metadata.name`. */
const affinityNodeNames = (pod: Pod): string[] =>
  (pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []).flatMap((t) =>
    (t.matchFields ?? []).filter((f) => f.key === 'metadata.name' && f.operator === 'In').flatMap((f) => f.values ?? []),
  );

const daemonSet = (name: string, podSpec: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'ds' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'agent:1' }], ...podSpec },
      },
      ...spec,
    },
  });

describe('daemonsets', () => {
  let server: TestServer;
  let sim: TestSim;
  let extra: TestSim | undefined;
  let client: Client;
  let transport: HttpTransport;
  const stops: (() => void)[] = [];

  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const eventually = async <T>(check: () => Promise<T>, ms = 30_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  };
  /** Live pods of a set: node → pod. */
  const placement = async (app: string) => {
    const pods = (await client.resource(kinds.pods).list({ namespace: 'ds', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
    return new Map(pods.map((p) => [p.spec?.nodeName ?? `unbound:${p.metadata?.name}`, p]));
  };
  /** Waits until the set's pods are exactly on `nodes`, bound and Ready. */
  const onNodes = (app: string, nodes: string[]) =>
    eventually(async () => {
      const placed = await placement(app);
      assert.deepEqual([...placed.keys()].sort(), [...nodes].sort());
      for (const pod of placed.values()) assert.ok(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${pod.metadata?.name} is ready`);
      return placed;
    });
  const rolledOut = async (name: string) => {
    const r = await kubectl(server, ['-n', 'ds', 'rollout', 'status', `daemonset/${name}`, '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`daemon set "${name}" successfully rolled out`));
  };

  before(async () => {
    server = await startServer();
    sim = await startSim(server, { nodes: 3 });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'daemonset-test' });
    client = new Client(transport);
    await ok(['create', 'namespace', 'ds']);
  });

  after(async () => {
    for (const stop of stops) stop();
    transport?.close();
    await extra?.stop();
    await sim?.stop();
    await cleanup(server);
  });

  it('runs one pod per node, pinned to it by node affinity, with the default daemon tolerations', async () => {
    await ok(['apply', '-f', '-'], daemonSet('agent'));
    await rolledOut('agent');
    const placed = await onNodes('agent', sim.nodes);
    for (const [node, pod] of placed) {
      assert.deepEqual(affinityNodeNames(pod), [node]);
      assert.match(pod.metadata?.name ?? '', /^agent-[a-z0-9]{5}$/);
      const tolerations = (pod.spec?.tolerations ?? []).map((t) => `${t.key}:${t.operator}:${t.effect}:${t.tolerationSeconds ?? ''}`);
      for (const key of ['not-ready:Exists:NoExecute:', 'unreachable:Exists:NoExecute:', 'disk-pressure:Exists:NoSchedule:', 'memory-pressure:Exists:NoSchedule:', 'pid-pressure:Exists:NoSchedule:', 'unschedulable:Exists:NoSchedule:']) {
        assert.ok(tolerations.includes(`node.kubernetes.io/${key}`), `${pod.metadata?.name} tolerates ${key}: ${tolerations}`);
      }
      assert.ok(!tolerations.some((t) => t.includes('network-unavailable')));
      assert.ok(pod.metadata?.labels?.['controller-revision-hash']);
    }
    const ds = await client.resource(kinds.daemonSets).get('ds', 'agent');
    assert.deepEqual(
      [ds.status?.desiredNumberScheduled, ds.status?.currentNumberScheduled, ds.status?.numberReady, ds.status?.numberAvailable, ds.status?.updatedNumberScheduled, ds.status?.numberMisscheduled],
      [3, 3, 3, 3, 3, 0],
    );
    assert.equal(ds.status?.observedGeneration, ds.metadata?.generation);
    const table = await ok(['-n', 'ds', 'get', 'ds', 'agent']);
    assert.match(table, /agent\s+3\s+3\s+3\s+3\s+3\s+<none>/);
    const events = await eventually(async () => {
      const text = await ok(['-n', 'ds', 'get', 'events', '--field-selector', 'involvedObject.name=agent']);
      assert.equal(text.match(/SuccessfulCreate\s+daemonset\/agent\s+Created pod: agent-/g)?.length, 3, text);
      return text;
    });
    assert.ok(events);
  });

  it('follows node labels: a nodeSelector picks labelled nodes, and a removed label removes the pod', async () => {
    await ok(['apply', '-f', '-'], daemonSet('edge', { nodeSelector: { role: 'edge' } }));
    await eventually(async () => {
      const ds = await client.resource(kinds.daemonSets).get('ds', 'edge');
      assert.equal(ds.status?.observedGeneration, 1);
      assert.equal(ds.status?.desiredNumberScheduled, 0);
    });
    assert.equal((await placement('edge')).size, 0);
    await ok(['label', 'node', sim.nodes[1]!, 'role=edge']);
    await onNodes('edge', [sim.nodes[1]!]);
    await ok(['label', 'node', sim.nodes[2]!, 'role=edge']);
    await onNodes('edge', [sim.nodes[1]!, sim.nodes[2]!]);
    await ok(['label', 'node', sim.nodes[1]!, 'role-']);
    await onNodes('edge', [sim.nodes[2]!]);
    const events = await ok(['-n', 'ds', 'get', 'events', '--field-selector', 'involvedObject.name=edge']);
    assert.match(events, /SuccessfulDelete\s+daemonset\/edge\s+Deleted pod: edge-/);
  });

  it('skips a tainted node unless the pod tolerates the taint; running pods stay for NoSchedule', async () => {
    const tainted = sim.nodes[0]!;
    await ok(['taint', 'node', tainted, 'dedicated=db:NoSchedule']);
    try {
      await ok(['apply', '-f', '-'], daemonSet('plain'));
      await ok(['apply', '-f', '-'], daemonSet('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }));
      await onNodes('plain', [sim.nodes[1]!, sim.nodes[2]!]);
      await onNodes('tolerant', sim.nodes);
      // agent's pod was there before the taint: NoSchedule does not evict it.
      await onNodes('agent', sim.nodes);
      const plain = await client.resource(kinds.daemonSets).get('ds', 'plain');
      assert.equal(plain.status?.desiredNumberScheduled, 2);
    } finally {
      await ok(['taint', 'node', tainted, 'dedicated=db:NoSchedule-']);
    }
    await onNodes('plain', sim.nodes);
  });

  it('a node that joins gets a pod; a node that leaves takes its pod with it', async () => {
    extra = await startSim(server, { nodes: 1, nodeNamePrefix: 'extra-' });
    await onNodes('agent', [...sim.nodes, 'extra-0']);
    await ok(['delete', 'node', 'extra-0']);
    await onNodes('agent', sim.nodes);
    await extra.stop();
    extra = undefined;
    const ds = await eventually(async () => {
      const ds = await client.resource(kinds.daemonSets).get('ds', 'agent');
      assert.equal(ds.status?.desiredNumberScheduled, 3);
      return ds;
    });
    assert.equal(ds.status?.currentNumberScheduled, 3);
  });

  it('rolls out a new template node by node, with maxUnavailable and with maxSurge; rollout history lists the revisions', async () => {
    const events: { type: string; pod: Pod }[] = [];
    stops.push(await client.resource(kinds.pods).watch({ namespace: 'ds', labelSelector: 'app=agent' }, (e) => events.push({ type: e.type, pod: e.object as Pod }), () => undefined));
    const before = await placement('agent');
    await ok(['-n', 'ds', 'set', 'image', 'daemonset/agent', 'c=agent:2']);
    await rolledOut('agent');
    const after1 = await onNodes('agent', sim.nodes);
    const hash2 = [...after1.values()][0]!.metadata?.labels?.['controller-revision-hash'];
    for (const [node, pod] of after1) {
      assert.equal(pod.spec?.containers[0]?.image, 'agent:2');
      assert.notEqual(pod.metadata?.uid, before.get(node)?.metadata?.uid);
      assert.equal(pod.metadata?.labels?.['controller-revision-hash'], hash2);
    }
    // maxUnavailable 1: never two old pods being deleted at once.
    let deleting = 0;
    let most = 0;
    const seenDeleting = new Set<string>();
    for (const e of events) {
      const uid = e.pod.metadata!.uid!;
      if (e.pod.metadata?.deletionTimestamp && !seenDeleting.has(uid) && e.type !== 'DELETED') {
        seenDeleting.add(uid);
        most = Math.max(most, ++deleting);
      }
      if (e.type === 'DELETED' && seenDeleting.has(uid)) deleting--;
    }
    assert.equal(most, 1);

    // maxSurge: the new pod starts beside the old one, which goes once the new one is available.
    await ok(['-n', 'ds', 'patch', 'daemonset/agent', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}}}']);
    events.length = 0;
    await ok(['-n', 'ds', 'set', 'image', 'daemonset/agent', 'c=agent:3']);
    await rolledOut('agent');
    const after2 = await onNodes('agent', sim.nodes);
    for (const pod of after2.values()) assert.equal(pod.spec?.containers[0]?.image, 'agent:3');
    const live = new Map<string, Pod>();
    let shared = false;
    for (const e of events) {
      if (e.type === 'DELETED') live.delete(e.pod.metadata!.uid!);
      else live.set(e.pod.metadata!.uid!, e.pod);
      const perNode = new Map<string, number>();
      for (const p of live.values()) {
        const node = affinityNodeNames(p)[0]!;
        perNode.set(node, (perNode.get(node) ?? 0) + 1);
      }
      if ([...perNode.values()].some((n) => n > 1)) shared = true;
    }
    assert.ok(shared, 'an old and a new pod shared a node during the surge');

    const history = await ok(['-n', 'ds', 'rollout', 'history', 'daemonset/agent']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>/);
    const revisions = await ok(['-n', 'ds', 'get', 'controllerrevisions', '-l', 'app=agent']);
    assert.match(revisions, new RegExp(`agent-${hash2}\\s+daemonset\\.apps/agent\\s+2\\s`));
    const undo = await kubectl(server, ['-n', 'ds', 'rollout', 'undo', 'daemonset/agent', '--to-revision=1']);
    assert.equal(undo.code, 0, undo.stderr);
    await rolledOut('agent');
    const after3 = await onNodes('agent', sim.nodes);
    for (const pod of after3.values()) assert.equal(pod.spec?.containers[0]?.image, 'agent:1');
  });
});
