import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch, PatchError, patchMetaFor } from './index.ts';
import type { PatchMeta } from './index.ts';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function metaOf(apiVersion: string, kind: string): PatchMeta {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const meta = patchMetaFor(group, version, kind);
  assert.ok(meta, `no patch metadata for ${apiVersion} ${kind}`);
  return meta;
}

/** Applies with frozen inputs, so any modification of them throws. */
function apply(document: unknown, patch: unknown, meta: PatchMeta): unknown {
  return applyStrategicMergePatch(deepFreeze(structuredClone(document)), deepFreeze(structuredClone(patch)), meta);
}

const POD = metaOf('v1', 'Pod');
const DEPLOYMENT = metaOf('apps/v1', 'Deployment');
const SERVICE = metaOf('v1', 'Service');

/** A Deployment as the server stores it after `kubectl apply`: defaults filled in, a sidecar injected. */
function storedDeployment(): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u-1',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}\n', 'deployment.kubernetes.io/revision': '1' },
      labels: { app: 'web' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1',
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
              ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }],
              env: [{ name: 'A', value: '1' }, { name: 'X', value: '2' }],
            },
            { name: 'proxy', image: 'envoy:1' },
          ],
          restartPolicy: 'Always',
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
        },
      },
    },
    status: { observedGeneration: 1, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] },
  };
}

/** `storedDeployment()` with `edit` applied to a copy. */
function deploymentWith(edit: (d: Record<string, any>) => void): Record<string, any> {
  const d = storedDeployment();
  edit(d);
  return d;
}

describe('applyStrategicMergePatch', () => {
  const cases: [title: string, document: unknown, patch: unknown, meta: PatchMeta, expected: unknown][] = [
    [
      // What kubectl apply (client side) sends the second time, after the image changed and
      // env X was removed from the file: a three-way patch with order lists.
      'kubectl apply: second apply changes the image and drops an env var',
      storedDeployment(),
      {
        metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}\n' } },
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }],
              containers: [{ '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'X' }], image: 'nginx:2', name: 'web' }],
            },
          },
        },
      },
      DEPLOYMENT,
      deploymentWith((d) => {
        d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"new":true}\n';
        d.spec.template.spec.containers[0].image = 'nginx:2';
        d.spec.template.spec.containers[0].env = [{ name: 'A', value: '1' }];
      }),
    ],
    [
      'kubectl apply: an env var inserted in the middle lands where the file puts it',
      { spec: { containers: [{ name: 'web', env: [{ name: 'A', value: '1' }, { name: 'C', value: '3' }] }] } },
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }],
          containers: [{ '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }, { name: 'C' }], env: [{ name: 'B', value: '2' }], name: 'web' }],
        },
      },
      POD,
      { spec: { containers: [{ name: 'web', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }] }] } },
    ],
    [
      // A server-only element goes before a named one that the live list had after it.
      'kubectl apply: a reordered file reorders the list, server-only elements interleave',
      { spec: { containers: [{ name: 'a' }, { name: 'injected' }, { name: 'b' }] } },
      { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } },
      POD,
      { spec: { containers: [{ name: 'injected' }, { name: 'b' }, { name: 'a' }] } },
    ],
    [
      'kubectl apply: a container added to the file lands where the file puts it',
      { spec: { containers: [{ name: 'web' }, { name: 'injected' }] } },
      { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'worker' }], containers: [{ name: 'worker', image: 'w:1' }] } },
      POD,
      { spec: { containers: [{ name: 'web' }, { name: 'worker', image: 'w:1' }, { name: 'injected' }] } },
    ],
    [
      'kubectl set image: one container changes, the rest and their order stay',
      storedDeployment(),
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } },
      DEPLOYMENT,
      deploymentWith((d) => {
        d.spec.template.spec.containers[0].image = 'nginx:2';
      }),
    ],
    [
      'kubectl set image on a sidecar keeps it second',
      storedDeployment(),
      { spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoy:2' }] } } } },
      DEPLOYMENT,
      deploymentWith((d) => {
        d.spec.template.spec.containers[1].image = 'envoy:2';
      }),
    ],
    [
      // Upstream puts an element new to the list before the live elements the patch does not name.
      'kubectl patch: a new container without an order list goes first, as upstream',
      { spec: { containers: [{ name: 'patch-demo-ctr', image: 'nginx' }] } },
      { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } },
      POD,
      { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }, { name: 'patch-demo-ctr', image: 'nginx' }] } },
    ],
    [
      // What kubectl edit sends: a two-way patch from the object before and after editing.
      'kubectl edit: replicas, a label and a removed container port',
      storedDeployment(),
      {
        metadata: { labels: { tier: 'frontend' } },
        spec: {
          replicas: 3,
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }, { name: 'proxy' }],
              containers: [{ '$setElementOrder/ports': [{ containerPort: 80 }], name: 'web', ports: [{ $patch: 'delete', containerPort: 443 }] }],
            },
          },
        },
      },
      DEPLOYMENT,
      deploymentWith((d) => {
        d.metadata.labels.tier = 'frontend';
        d.spec.replicas = 3;
        d.spec.template.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
      }),
    ],
    [
      'retainKeys: Deployment strategy RollingUpdate → Recreate',
      storedDeployment(),
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
      DEPLOYMENT,
      deploymentWith((d) => {
        d.spec.strategy = { type: 'Recreate' };
      }),
    ],
    [
      'retainKeys clears unlisted keys even without a null for them',
      { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      DEPLOYMENT,
      { spec: { strategy: { type: 'Recreate' } } },
    ],
    [
      'retainKeys on a pod volume: emptyDir → hostPath',
      { spec: { volumes: [{ name: 'data', emptyDir: {} }, { name: 'cache', emptyDir: { medium: 'Memory' } }] } },
      { spec: { volumes: [{ $retainKeys: ['hostPath', 'name'], name: 'data', hostPath: { path: '/srv' } }] } },
      POD,
      { spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' } }, { name: 'cache', emptyDir: { medium: 'Memory' } }] } },
    ],
    [
      'finalizers are a set: union, no duplicates',
      { metadata: { name: 'p', finalizers: ['a', 'b'] } },
      { metadata: { finalizers: ['b', 'c'] } },
      POD,
      { metadata: { name: 'p', finalizers: ['a', 'b', 'c'] } },
    ],
    [
      'finalizers: adding one already there changes nothing',
      { metadata: { finalizers: ['example.com/x'] } },
      { metadata: { finalizers: ['example.com/x'] } },
      POD,
      { metadata: { finalizers: ['example.com/x'] } },
    ],
    [
      '$deleteFromPrimitiveList/finalizers removes only those',
      { metadata: { finalizers: ['a', 'b', 'c'] } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'absent'] } },
      POD,
      { metadata: { finalizers: ['a', 'c'] } },
    ],
    [
      'kubectl apply dropping a finalizer: order list plus deletion list',
      { metadata: { finalizers: ['a', 'b', 'c'] } },
      { metadata: { '$setElementOrder/finalizers': ['a', 'c'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
      POD,
      { metadata: { finalizers: ['a', 'c'] } },
    ],
    [
      'deleting from a list the object does not have is a no-op',
      { metadata: { name: 'p' } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      POD,
      { metadata: { name: 'p' } },
    ],
    [
      'Service ports merge by port',
      { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }] } },
      { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
      SERVICE,
      { spec: { ports: [{ name: 'http', port: 80, targetPort: 9090, protocol: 'TCP' }, { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }] } },
    ],
    [
      'an int-or-string field may change type',
      { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
      { spec: { ports: [{ port: 80, targetPort: 'http' }] } },
      SERVICE,
      { spec: { ports: [{ port: 80, targetPort: 'http' }] } },
    ],
    [
      'Service port removed with a delete directive',
      { spec: { ports: [{ port: 80 }, { port: 443 }] } },
      { spec: { ports: [{ port: 443, $patch: 'delete' }] } },
      SERVICE,
      { spec: { ports: [{ port: 80 }] } },
    ],
    [
      'tolerations are atomic: the patch list replaces them',
      storedDeployment(),
      { spec: { template: { spec: { tolerations: [{ key: 'disktype', value: 'ssd', effect: 'NoSchedule' }] } } } },
      DEPLOYMENT,
      deploymentWith((d) => {
        d.spec.template.spec.tolerations = [{ key: 'disktype', value: 'ssd', effect: 'NoSchedule' }];
      }),
    ],
    [
      'a list without the merge strategy (args) is replaced',
      { spec: { containers: [{ name: 'c', args: ['a', 'b'] }] } },
      { spec: { containers: [{ name: 'c', args: ['z'] }] } },
      POD,
      { spec: { containers: [{ name: 'c', args: ['z'] }] } },
    ],
    [
      'an empty list on a merging list changes nothing',
      { spec: { containers: [{ name: 'c' }] } },
      { spec: { containers: [] } },
      POD,
      { spec: { containers: [{ name: 'c' }] } },
    ],
    [
      'status conditions merge by type (a status patch)',
      { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] } },
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      POD,
      { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } },
    ],
    [
      'ownerReferences merge by uid',
      { metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs-1' }] } },
      { metadata: { ownerReferences: [{ uid: 'u1', controller: true }] } },
      POD,
      { metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs-1', controller: true }] } },
    ],
    [
      'container ports merge by containerPort, volumeMounts by mountPath',
      { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }], volumeMounts: [{ name: 'v', mountPath: '/a' }] }] } },
      { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http' }], volumeMounts: [{ mountPath: '/a', readOnly: true }] }] } },
      POD,
      { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http' }], volumeMounts: [{ name: 'v', mountPath: '/a', readOnly: true }] }] } },
    ],
    [
      'null deletes a key; a null for a missing key is ignored',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { a: null, zz: null } } },
      POD,
      { metadata: { labels: { b: '2' } } },
    ],
    [
      'nulls inside a value new to the object vanish',
      { metadata: { name: 'p' } },
      { metadata: { labels: { a: null, b: '1' } }, spec: { containers: [{ name: 'c', image: null }] } },
      POD,
      { metadata: { name: 'p', labels: { b: '1' } }, spec: { containers: [{ name: 'c' }] } },
    ],
    [
      '$patch: replace on an object replaces it whole',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { $patch: 'replace', only: 'this' } } },
      POD,
      { metadata: { labels: { only: 'this' } } },
    ],
    [
      '$patch: delete on an object empties it, as upstream',
      { metadata: { name: 'p', labels: { a: '1' } } },
      { metadata: { labels: { $patch: 'delete' } } },
      POD,
      { metadata: { name: 'p', labels: {} } },
    ],
    [
      '$patch: replace in a list replaces the list',
      { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } },
      { spec: { containers: [{ name: 'c', image: 'z' }, { $patch: 'replace' }] } },
      POD,
      { spec: { containers: [{ name: 'c', image: 'z' }] } },
    ],
    [
      '$patch: delete in a list removes the element with that key',
      { spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
      { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
      POD,
      { spec: { containers: [{ name: 'b' }] } },
    ],
    [
      'CronJob: the job template pod spec merges containers',
      { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'busybox:1', command: ['true'] }] } } } } } },
      { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'busybox:2' }] } } } } } },
      metaOf('batch/v1', 'CronJob'),
      { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'busybox:2', command: ['true'] }] } } } } } },
    ],
    [
      'fields the metadata does not know merge like a merge patch',
      { data: { a: '1' }, extra: { list: [1, 2] } },
      { data: { b: '2' }, extra: { list: [3] } },
      metaOf('v1', 'ConfigMap'),
      { data: { a: '1', b: '2' }, extra: { list: [3] } },
    ],
  ];
  for (const [title, document, patch, meta, expected] of cases) {
    it(title, () => {
      assert.deepEqual(apply(document, patch, meta), expected);
    });
  }

  const errors: [title: string, document: unknown, patch: unknown, code: PatchError['code'], message: RegExp][] = [
    ['an unknown directive in an object', { spec: {} }, { spec: { $patch: 'explode' } }, 'PATCH_MALFORMED', /^unknown patch type: explode in map: map\[\$patch:explode\]$/],
    [
      'an unknown directive in a list element',
      { spec: { containers: [{ name: 'a' }] } },
      { spec: { containers: [{ name: 'a', $patch: 'explode' }] } },
      'PATCH_MALFORMED',
      /^unknown patch type: explode in map: map\[\$patch:explode name:a\]$/,
    ],
    ['$patch: merge in a list', { spec: { containers: [] } }, { spec: { containers: [{ $patch: 'merge' }] } }, 'PATCH_MALFORMED', /merging lists cannot yet be specified/],
    ['$patch: merge in an object (upstream rejects it too)', {}, { metadata: { $patch: 'merge' } }, 'PATCH_MALFORMED', /unknown patch type: merge/],
    [
      'a list element without its merge key',
      { spec: { containers: [{ name: 'web' }] } },
      { spec: { containers: [{ image: 'nginx' }] } },
      'PATCH_NOT_APPLICABLE',
      /^map: map\[image:nginx\] does not contain declared merge key: name$/,
    ],
    ['a delete directive without the merge key', { spec: {} }, { spec: { containers: [{ $patch: 'delete' }] } }, 'PATCH_NOT_APPLICABLE', /does not contain declared merge key: name/],
    ['a list where the object has a map', { spec: { containers: [] } }, { spec: [{ containers: [] }] }, 'PATCH_NOT_APPLICABLE', /^spec: expected a map, but the patch has a list$/],
    ['a map where the object has a list', { spec: { containers: [{ name: 'a' }] } }, { spec: { containers: { name: 'a' } } }, 'PATCH_NOT_APPLICABLE', /^spec\.containers: expected a list, but the patch has a map$/],
    ['a scalar where the object has a map', { metadata: { labels: { a: '1' } } }, { metadata: { labels: 'a=1' } }, 'PATCH_NOT_APPLICABLE', /metadata\.labels: expected a map/],
    ['scalars in a list merged by key', { spec: { containers: [] } }, { spec: { containers: ['web'] } }, 'PATCH_NOT_APPLICABLE', /spec\.containers: expected a list of maps with merge key name/],
    ['mixed element types', { metadata: { finalizers: ['a'] } }, { metadata: { finalizers: [1] } }, 'PATCH_NOT_APPLICABLE', /list element types are not identical/],
    ['a patch that is not an object', {}, [{ op: 'add' }], 'PATCH_MALFORMED', /must be a JSON object, got list/],
    ['$retainKeys that is not a list', { spec: {} }, { spec: { strategy: { $retainKeys: 'type' } } }, 'PATCH_MALFORMED', /^invalid patch format of retainKeys/],
    [
      'a patch key outside $retainKeys',
      { spec: {} },
      { spec: { strategy: { $retainKeys: ['type'], type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      'PATCH_MALFORMED',
      /^invalid patch format of retainKeys: rollingUpdate at spec\.strategy is in the patch but not in \$retainKeys \[type\]$/,
    ],
    ['$deleteFromPrimitiveList that is not a list', { metadata: { finalizers: ['a'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, 'PATCH_MALFORMED', /^invalid patch format of primitive list/],
    ['a directive prefix without a field', { metadata: {} }, { metadata: { $setElementOrder: [] } }, 'PATCH_MALFORMED', /^invalid patch format of setElementOrder list/],
    [
      'an order list that contradicts the patch list',
      { spec: { containers: [{ name: 'a' }, { name: 'b' }] } },
      { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [{ name: 'b' }, { name: 'a' }] } },
      'PATCH_MALFORMED',
      /^The order in patch list: \[map\[name:b\] map\[name:a\]\] doesn't match \$setElementOrder list/,
    ],
    ['an order entry without the merge key', { spec: { containers: [{ name: 'a' }] } }, { spec: { '$setElementOrder/containers': [{ image: 'x' }] } }, 'PATCH_NOT_APPLICABLE', /does not contain declared merge key: name/],
    ['a stored element without the merge key', { spec: { containers: [{ image: 'x' }] } }, { spec: { containers: [{ name: 'a' }] } }, 'PATCH_NOT_APPLICABLE', /map: map\[image:x\] does not contain declared merge key: name/],
    ['lists of lists', { spec: { containers: [] } }, { metadata: { finalizers: [['a']] } }, 'PATCH_NOT_APPLICABLE', /lists of lists are not supported/],
  ];
  for (const [title, document, patch, code, message] of errors) {
    it(`rejects ${title}`, () => {
      assert.throws(
        () => apply(document, patch, POD),
        (error: unknown) => error instanceof PatchError && error.code === code && message.test(error.message),
      );
    });
  }

  it('throws a TypeError when the document is not an object', () => {
    assert.throws(() => applyStrategicMergePatch([], {}, POD), TypeError);
  });

  it('returns a result that shares nothing with its inputs', () => {
    const document = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', env: [{ name: 'A' }] }] } };
    const patch = { spec: { containers: [{ name: 'd', env: [{ name: 'B' }] }], volumes: [{ name: 'v', emptyDir: {} }] } };
    const result = applyStrategicMergePatch(document, patch, POD) as Record<string, any>;
    result.metadata.labels.a = 'changed';
    result.spec.containers[0].env[0].name = 'changed';
    result.spec.containers[1].env[0].name = 'changed';
    result.spec.volumes[0].emptyDir.medium = 'Memory';
    assert.deepEqual(document, { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', env: [{ name: 'A' }] }] } });
    assert.deepEqual(patch, { spec: { containers: [{ name: 'd', env: [{ name: 'B' }] }], volumes: [{ name: 'v', emptyDir: {} }] } });
  });

  it('keeps a "__proto__" key as data', () => {
    const patch = JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}');
    const result = applyStrategicMergePatch({ metadata: {} }, patch, POD) as Record<string, any>;
    assert.equal(Object.getPrototypeOf(result.metadata.labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(result.metadata.labels, '__proto__')?.value, 'x');
  });
});
