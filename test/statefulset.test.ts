/**
 * StatefulSets against a real server, simulated nodes (`skiff sim`) and the real kubectl:
 * ordered creation seen through a watch, stable names and claims, failed pods replaced under
 * the same name, scale-down from the highest ordinal, Parallel creation, RollingUpdate with a
 * partition, ControllerRevisions with `kubectl rollout status|history|undo`. The server's
 * scheduler places the pods and the simulated kubelets run them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

interface Seen {
  type: string;
  name: string;
  ready: boolean;
  deleting: boolean;
}

const statefulSet = (namespace: string, name: string, spec: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'nginx:1.25' }] },
      },
      ...spec,
    },
  });

describe('statefulsets', () => {
  let server: TestServer;
  let sim: TestSim;
  let client: Client;
  let transport: HttpTransport;
  const stops: (() => void)[] = [];

  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
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
  /** Every pod event in `namespace`, in order, from now on. */
  const record = async (namespace: string): Promise<Seen[]> => {
    const seen: Seen[] = [];
    const stop = await client.resource(kinds.pods).watch(
      { namespace },
      (event) => {
        const pod = event.object as Pod;
        seen.push({
          type: event.type,
          name: pod.metadata?.name ?? '',
          ready: pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          deleting: !!pod.metadata?.deletionTimestamp,
        });
      },
      () => undefined,
    );
    stops.push(stop);
    return seen;
  };
  const pods = async (namespace: string) => (await client.resource(kinds.pods).list({ namespace })).items;
  const sts = (namespace: string, name: string) => client.resource(kinds.statefulSets).get(namespace, name);
  const readyPods = async (namespace: string, names: string[]) => {
    const list = await pods(namespace);
    for (const name of names) {
      const pod = list.find((p) => p.metadata?.name === name && !p.metadata.deletionTimestamp);
      assert.ok(pod, `${name} exists`);
      assert.ok(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${name} is ready`);
    }
    return list;
  };

  before(async () => {
    server = await startServer();
    sim = await startSim(server, { nodes: 2 });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'statefulset-test' });
    client = new Client(transport);
  });

  after(async () => {
    for (const stop of stops) stop();
    transport?.close();
    await sim?.stop();
    await cleanup(server);
  });

  it('creates pods one at a time in ordinal order, each after the previous is Ready, with claims and identity', async () => {
    await ok(['create', 'namespace', 'ordered']);
    const seen = await record('ordered');
    await ok(['apply', '-f', '-'], statefulSet('ordered', 'web', {
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }));
    const status = await kubectl(server, ['-n', 'ordered', 'rollout', 'status', 'statefulset/web', '--timeout=60s']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /partitioned roll out complete: 3 new pods have been updated\.\.\./);

    // web-N is created only after web-(N-1) was seen Running and Ready.
    for (const [prev, next] of [['web-0', 'web-1'], ['web-1', 'web-2']] as const) {
      const created = seen.findIndex((e) => e.type === 'ADDED' && e.name === next);
      const readyAt = seen.findIndex((e) => e.name === prev && e.ready);
      assert.ok(created > 0 && readyAt >= 0 && readyAt < created, `${next} created (event ${created}) after ${prev} was Ready (event ${readyAt})`);
    }

    const set = await sts('ordered', 'web');
    assert.equal(set.status?.replicas, 3);
    assert.equal(set.status?.readyReplicas, 3);
    assert.equal(set.status?.availableReplicas, 3);
    assert.equal(set.status?.currentReplicas, 3);
    assert.equal(set.status?.updatedReplicas, 3);
    assert.equal(set.status?.observedGeneration, set.metadata?.generation);
    assert.equal(set.status?.currentRevision, set.status?.updateRevision);
    assert.match(set.status?.updateRevision ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);

    for (const pod of await pods('ordered')) {
      const name = pod.metadata!.name!;
      const ordinal = name.slice('web-'.length);
      assert.equal(pod.spec?.hostname, name);
      assert.equal(pod.spec?.subdomain, 'web');
      assert.equal(pod.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], name);
      assert.equal(pod.metadata?.labels?.['apps.kubernetes.io/pod-index'], ordinal);
      assert.equal(pod.metadata?.labels?.['controller-revision-hash'], set.status?.updateRevision);
      assert.deepEqual(pod.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: `data-web-${ordinal}` });
      assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet');
    }
    const claims = await json(['-n', 'ordered', 'get', 'pvc']);
    assert.deepEqual(claims.items.map((c: any) => c.metadata.name).sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
    for (const claim of claims.items) assert.equal(claim.metadata.labels.app, 'web');

    const revisions = await ok(['-n', 'ordered', 'get', 'controllerrevisions']);
    assert.match(revisions, new RegExp(`${set.status?.updateRevision}\\s+statefulset\\.apps/web\\s+1\\s`));
    const events = await eventually(async () => {
      const text = await ok(['-n', 'ordered', 'get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet']);
      assert.match(text, /create Claim data-web-2 Pod web-2 in StatefulSet web success/);
      return text;
    });
    assert.match(events, /SuccessfulCreate\s+statefulset\/web\s+create Pod web-0 in StatefulSet web successful/);
  });

  it('keeps names: a deleted or failed pod comes back under the same name', async () => {
    const before = (await pods('ordered')).find((p) => p.metadata?.name === 'web-1')!;
    await ok(['-n', 'ordered', 'delete', 'pod', 'web-1', '--wait=false']);
    const replaced = await eventually(async () => {
      const list = await readyPods('ordered', ['web-0', 'web-1', 'web-2']);
      const pod = list.find((p) => p.metadata?.name === 'web-1')!;
      assert.notEqual(pod.metadata?.uid, before.metadata?.uid);
      return pod;
    });
    assert.deepEqual(replaced.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'data-web-1' });

    const failed = (await pods('ordered')).find((p) => p.metadata?.name === 'web-2')!;
    // A pod of a StatefulSet (restartPolicy Always) fails only when its node gives up on it, as
    // an eviction does: the node writes the phase.
    await client.resource(kinds.pods).patch('ordered', 'web-2', { status: { phase: 'Failed', reason: 'Evicted' } }, { subresource: 'status' });
    await eventually(async () => {
      const list = await readyPods('ordered', ['web-2']);
      const pod = list.find((p) => p.metadata?.name === 'web-2')!;
      assert.notEqual(pod.metadata?.uid, failed.metadata?.uid);
      assert.equal(pod.status?.phase, 'Running');
    });
    await eventually(async () => {
      const events = await ok(['-n', 'ordered', 'get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet']);
      assert.match(events, /SuccessfulDelete\s+statefulset\/web\s+delete Pod web-2 in StatefulSet web successful/);
    });
  });

  it('scales down from the highest ordinal, one pod at a time', async () => {
    const seen = await record('ordered');
    await ok(['-n', 'ordered', 'scale', 'statefulset/web', '--replicas=1']);
    await eventually(async () => {
      const names = (await pods('ordered')).map((p) => p.metadata?.name);
      assert.deepEqual(names, ['web-0']);
    });
    const goneAt = (name: string) => seen.findIndex((e) => e.type === 'DELETED' && e.name === name);
    const deletingAt = (name: string) => seen.findIndex((e) => e.name === name && (e.deleting || e.type === 'DELETED'));
    assert.ok(goneAt('web-2') >= 0 && deletingAt('web-1') > goneAt('web-2'), 'web-1 is deleted only after web-2 is gone');
    const set = await eventually(async () => {
      const set = await sts('ordered', 'web');
      assert.equal(set.status?.replicas, 1);
      return set;
    });
    assert.equal(set.status?.readyReplicas, 1);
    // Claims are retained by default.
    assert.equal((await json(['-n', 'ordered', 'get', 'pvc'])).items.length, 3);
  });

  it('Parallel creates every pod at once, without waiting for any to be Ready', async () => {
    await ok(['create', 'namespace', 'parallel']);
    // No node fits yet, so no pod can become Ready: under OrderedReady only burst-0 would exist.
    const template = { metadata: { labels: { app: 'burst' } }, spec: { nodeSelector: { role: 'burst' }, containers: [{ name: 'c', image: 'nginx:1.25' }] } };
    await ok(['apply', '-f', '-'], statefulSet('parallel', 'burst', { podManagementPolicy: 'Parallel', template }));
    await eventually(async () => {
      const list = await pods('parallel');
      assert.deepEqual(list.map((p) => `${p.metadata?.name} ${p.status?.phase}`).sort(), ['burst-0 Pending', 'burst-1 Pending', 'burst-2 Pending']);
    });
    await ok(['label', 'node', sim.nodes[1]!, 'role=burst']);
    await eventually(() => readyPods('parallel', ['burst-0', 'burst-1', 'burst-2']));
  });

  it('RollingUpdate with a partition updates only ordinals at or above it; rollout history and undo use the revisions', async () => {
    await ok(['create', 'namespace', 'rolling']);
    await ok(['apply', '-f', '-'], statefulSet('rolling', 'db', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
    assert.equal((await kubectl(server, ['-n', 'rolling', 'rollout', 'status', 'statefulset/db', '--timeout=60s'])).code, 0);
    const first = (await sts('rolling', 'db')).status!.updateRevision!;

    await ok(['-n', 'rolling', 'set', 'image', 'statefulset/db', 'c=nginx:1.26']);
    const status = await kubectl(server, ['-n', 'rolling', 'rollout', 'status', 'statefulset/db', '--timeout=60s']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /partitioned roll out complete: 1 new pods have been updated\.\.\./);
    const set = await sts('rolling', 'db');
    const second = set.status!.updateRevision!;
    assert.notEqual(second, first);
    assert.equal(set.status?.currentRevision, first);
    assert.equal(set.status?.updatedReplicas, 1);
    assert.equal(set.status?.currentReplicas, 2);
    const images = async () => Object.fromEntries((await pods('rolling')).map((p) => [p.metadata!.name!, `${p.spec?.containers[0]?.image} ${p.metadata?.labels?.['controller-revision-hash']}`]));
    assert.deepEqual(await images(), { 'db-0': `nginx:1.25 ${first}`, 'db-1': `nginx:1.25 ${first}`, 'db-2': `nginx:1.26 ${second}` });

    // Partition 0: the rest follow, highest first, and the update becomes current.
    await ok(['-n', 'rolling', 'patch', 'statefulset/db', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    const done = await eventually(async () => {
      const s = await sts('rolling', 'db');
      assert.equal(s.status?.currentRevision, second);
      assert.equal(s.status?.readyReplicas, 3);
      return s;
    }, 60_000);
    assert.equal(done.status?.updatedReplicas, 3);
    assert.deepEqual(await images(), { 'db-0': `nginx:1.26 ${second}`, 'db-1': `nginx:1.26 ${second}`, 'db-2': `nginx:1.26 ${second}` });

    const history = await ok(['-n', 'rolling', 'rollout', 'history', 'statefulset/db']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const undo = await kubectl(server, ['-n', 'rolling', 'rollout', 'undo', 'statefulset/db']);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /statefulset.apps\/db rolled back/);
    const back = await eventually(async () => {
      const s = await sts('rolling', 'db');
      assert.equal(s.status?.currentRevision, first);
      assert.equal(s.status?.updatedReplicas, 3);
      assert.equal(s.status?.readyReplicas, 3);
      return s;
    }, 60_000);
    assert.equal((back as StatefulSet).spec?.template?.spec?.containers[0]?.image, 'nginx:1.25');
    // The old revision was renumbered rather than copied.
    assert.match(await ok(['-n', 'rolling', 'rollout', 'history', 'statefulset/db']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
  });
});
