/** The message tables themselves: every row parses and every reference resolves. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { protobufKinds } from './index.ts';
import { messageForKind } from './kinds.ts';
import { messageTables } from './messages/index.ts';
import { MessageRegistry } from './schema.ts';

describe('message tables', () => {
  const registry = new MessageRegistry(messageTables);

  it('resolve every message reachable from every kind', () => {
    const seen = new Set<string>();
    const queue = protobufKinds().map(({ apiVersion, kind }) => messageForKind(apiVersion, kind)!);
    while (queue.length > 0) {
      const name = queue.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const field of registry.message(name).fields.values()) {
        if (typeof field.type === 'object') queue.push(field.type.message);
      }
    }
    // Every message in a table is used by some kind; a stray row would be a transcription slip.
    const all = Object.entries(messageTables).flatMap(([alias, table]) => Object.keys(table).map((name) => `${alias}.${name}`));
    assert.deepEqual(all.filter((name) => !seen.has(name)), []);
  });

  it('cover the kinds kubectl create sends and the kinds Skiff serves', () => {
    const kinds = new Set(protobufKinds().map(({ apiVersion, kind }) => `${apiVersion} ${kind}`));
    const expected = [
      'v1 Namespace', 'v1 ConfigMap', 'v1 Secret', 'v1 Service', 'v1 ServiceAccount', 'v1 Pod', 'v1 Endpoints', 'v1 Event',
      'v1 Node', 'v1 PersistentVolume', 'v1 PersistentVolumeClaim', 'v1 LimitRange', 'v1 ResourceQuota',
      'apps/v1 Deployment', 'apps/v1 ReplicaSet', 'apps/v1 StatefulSet', 'apps/v1 DaemonSet', 'batch/v1 Job', 'batch/v1 CronJob',
      'rbac.authorization.k8s.io/v1 Role', 'rbac.authorization.k8s.io/v1 RoleBinding',
      'rbac.authorization.k8s.io/v1 ClusterRole', 'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
      'scheduling.k8s.io/v1 PriorityClass', 'policy/v1 PodDisruptionBudget', 'coordination.k8s.io/v1 Lease',
      'discovery.k8s.io/v1 EndpointSlice', 'networking.k8s.io/v1 Ingress', 'networking.k8s.io/v1 IngressClass',
      'networking.k8s.io/v1 NetworkPolicy', 'autoscaling/v1 HorizontalPodAutoscaler', 'autoscaling/v2 HorizontalPodAutoscaler',
      'storage.k8s.io/v1 StorageClass', 'node.k8s.io/v1 RuntimeClass', 'events.k8s.io/v1 Event', 'v1 DeleteOptions',
      'autoscaling/v1 Scale',
    ];
    assert.deepEqual(expected.filter((kind) => !kinds.has(kind)), []);
  });

  it('reject malformed rows and unknown references', () => {
    const bad = new MessageRegistry({ t: { A: 'name=1:string b=x:int32', B: 'ref=1:Missing', C: 'x=1:string y=1:int32' } });
    assert.throws(() => bad.message('t.A'), /cannot parse field "b=x:int32"/);
    assert.throws(() => bad.message('t.Missing'), /no message t\.Missing/);
    assert.throws(() => bad.message('t.C'), /field number 1 used twice/);
    assert.equal(bad.message('t.B').fields.get(1)!.type instanceof Object, true);
  });
});
