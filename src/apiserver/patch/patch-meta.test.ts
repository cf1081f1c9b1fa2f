import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch, patchMetaFor } from './index.ts';

/** Builds `{a: {b: {c: leaf}}}` from `['a', 'b', 'c']`. */
function at(path: string[], leaf: unknown): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), leaf as Record<string, unknown>);
}

function dig(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((inner, key) => (inner as Record<string, unknown>)[key], value);
}

const POD_SPEC_PATHS: [group: string, kind: string, podSpec: string[]][] = [
  ['', 'Pod', ['spec']],
  ['apps', 'Deployment', ['spec', 'template', 'spec']],
  ['apps', 'ReplicaSet', ['spec', 'template', 'spec']],
  ['apps', 'StatefulSet', ['spec', 'template', 'spec']],
  ['apps', 'DaemonSet', ['spec', 'template', 'spec']],
  ['batch', 'Job', ['spec', 'template', 'spec']],
  ['batch', 'CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
];

const ALL_KINDS: [group: string, kind: string][] = [
  ...POD_SPEC_PATHS.map(([group, kind]): [string, string] => [group, kind]),
  ...['Service', 'ConfigMap', 'Secret', 'Namespace', 'Node', 'ServiceAccount', 'Endpoints', 'Event'].map((kind): [string, string] => ['', kind]),
  ...['PersistentVolume', 'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota'].map((kind): [string, string] => ['', kind]),
  ['coordination.k8s.io', 'Lease'],
  ['discovery.k8s.io', 'EndpointSlice'],
  ['events.k8s.io', 'Event'],
  ['autoscaling', 'Scale'],
  ['autoscaling', 'HorizontalPodAutoscaler'],
  ['policy', 'PodDisruptionBudget'],
  ['networking.k8s.io', 'Ingress'],
  ['networking.k8s.io', 'IngressClass'],
  ['networking.k8s.io', 'NetworkPolicy'],
  ['rbac.authorization.k8s.io', 'Role'],
  ['rbac.authorization.k8s.io', 'ClusterRole'],
  ['rbac.authorization.k8s.io', 'RoleBinding'],
  ['rbac.authorization.k8s.io', 'ClusterRoleBinding'],
  ['node.k8s.io', 'RuntimeClass'],
  ['scheduling.k8s.io', 'PriorityClass'],
  ['storage.k8s.io', 'StorageClass'],
];

describe('patchMetaFor', () => {
  it('knows nothing of custom resources, other versions or inherited names', () => {
    assert.equal(patchMetaFor('example.com', 'v1', 'Widget'), undefined);
    assert.equal(patchMetaFor('apps', 'v1beta1', 'Deployment'), undefined);
    assert.equal(patchMetaFor('', 'v1', 'constructor'), undefined);
  });

  for (const [group, kind] of ALL_KINDS) {
    it(`${group || 'core'}/v1 ${kind}: finalizers are a set, ownerReferences merge by uid`, () => {
      const meta = patchMetaFor(group, 'v1', kind);
      assert.ok(meta);
      const document = { metadata: { finalizers: ['a'], ownerReferences: [{ uid: 'u1', name: 'one' }] } };
      const patch = { metadata: { finalizers: ['b'], ownerReferences: [{ uid: 'u2', name: 'two' }] } };
      // New elements go before the live ones the patch does not name, as upstream orders them.
      assert.deepEqual(applyStrategicMergePatch(document, patch, meta), {
        metadata: { finalizers: ['b', 'a'], ownerReferences: [{ uid: 'u2', name: 'two' }, { uid: 'u1', name: 'one' }] },
      });
    });
  }

  for (const [group, kind, podSpec] of POD_SPEC_PATHS) {
    it(`${kind}: the pod spec at ${podSpec.join('.')} merges by upstream's keys`, () => {
      const meta = patchMetaFor(group, 'v1', kind);
      assert.ok(meta);
      const document = at(podSpec, {
        containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }],
        initContainers: [{ name: 'init', image: 'busybox' }],
        volumes: [{ name: 'data', emptyDir: {} }],
        imagePullSecrets: [{ name: 'registry' }],
        tolerations: [{ key: 'a', operator: 'Exists' }],
      });
      const patch = at(podSpec, {
        containers: [{ name: 'web', image: 'nginx:2', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '2' }] }],
        initContainers: [{ name: 'init', command: ['true'] }],
        volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
        imagePullSecrets: [{ name: 'other' }],
        tolerations: [{ key: 'b', operator: 'Exists' }],
      });
      assert.deepEqual(dig(applyStrategicMergePatch(document, patch, meta), podSpec), {
        containers: [{ name: 'web', image: 'nginx:2', ports: [{ containerPort: 80, name: 'http' }], env: [{ name: 'A', value: '2' }] }],
        initContainers: [{ name: 'init', image: 'busybox', command: ['true'] }],
        volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
        imagePullSecrets: [{ name: 'other' }, { name: 'registry' }],
        // Atomic upstream: replaced, not merged.
        tolerations: [{ key: 'b', operator: 'Exists' }],
      });
    });
  }

  it('the pod template metadata is an ObjectMeta', () => {
    const meta = patchMetaFor('apps', 'v1', 'Deployment');
    assert.ok(meta);
    const result = applyStrategicMergePatch(
      { spec: { template: { metadata: { finalizers: ['a'] } } } },
      { spec: { template: { metadata: { finalizers: ['b'] } } } },
      meta,
    );
    assert.deepEqual(result, { spec: { template: { metadata: { finalizers: ['b', 'a'] } } } });
  });

  it('autoscaling/v2 HorizontalPodAutoscaler status conditions merge by type', () => {
    const meta = patchMetaFor('autoscaling', 'v2', 'HorizontalPodAutoscaler');
    assert.ok(meta);
    const result = applyStrategicMergePatch(
      { status: { conditions: [{ type: 'AbleToScale', status: 'True' }] } },
      { status: { conditions: [{ type: 'ScalingActive', status: 'True' }] } },
      meta,
    );
    assert.deepEqual(result, { status: { conditions: [{ type: 'ScalingActive', status: 'True' }, { type: 'AbleToScale', status: 'True' }] } });
  });

  it('declares retainKeys where upstream does', () => {
    const deployment = patchMetaFor('apps', 'v1', 'Deployment');
    const pod = patchMetaFor('', 'v1', 'Pod');
    assert.equal(deployment?.fields.spec.meta?.fields.strategy.retainKeys, true);
    assert.equal(pod?.fields.spec.meta?.fields.volumes.retainKeys, true);
    assert.equal(patchMetaFor('apps', 'v1', 'DaemonSet')?.fields.spec.meta?.fields.updateStrategy, undefined);
  });

  const OTHER_LISTS: [title: string, group: string, kind: string, document: unknown, patch: unknown, expected: unknown][] = [
    [
      'Service ports by port',
      '',
      'Service',
      { spec: { ports: [{ port: 80, name: 'http' }] } },
      { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
      { spec: { ports: [{ port: 80, name: 'http', targetPort: 8080 }] } },
    ],
    [
      'Node addresses by type, podCIDRs as a set, taints atomic',
      '',
      'Node',
      { spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] }, status: { addresses: [{ type: 'InternalIP', address: '10.1.1.1' }, { type: 'Hostname', address: 'n1' }] } },
      { spec: { podCIDRs: ['fd00::/64'], taints: [{ key: 'b', effect: 'NoSchedule' }] }, status: { addresses: [{ type: 'InternalIP', address: '10.1.1.2' }] } },
      {
        spec: { podCIDRs: ['fd00::/64', '10.0.0.0/24'], taints: [{ key: 'b', effect: 'NoSchedule' }] },
        status: { addresses: [{ type: 'InternalIP', address: '10.1.1.2' }, { type: 'Hostname', address: 'n1' }] },
      },
    ],
    [
      'ServiceAccount secrets by name, imagePullSecrets atomic',
      '',
      'ServiceAccount',
      { secrets: [{ name: 'a' }], imagePullSecrets: [{ name: 'x' }] },
      { secrets: [{ name: 'a', namespace: 'ns' }], imagePullSecrets: [{ name: 'y' }] },
      { secrets: [{ name: 'a', namespace: 'ns' }], imagePullSecrets: [{ name: 'y' }] },
    ],
    [
      'Job status conditions by type',
      'batch',
      'Job',
      { status: { conditions: [{ type: 'Complete', status: 'False' }] } },
      { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
      { status: { conditions: [{ type: 'Complete', status: 'True' }] } },
    ],
    [
      'PersistentVolumeClaim status conditions by type',
      '',
      'PersistentVolumeClaim',
      { status: { conditions: [{ type: 'Resizing', status: 'True' }] } },
      { status: { conditions: [{ type: 'FileSystemResizePending', status: 'True' }] } },
      { status: { conditions: [{ type: 'FileSystemResizePending', status: 'True' }, { type: 'Resizing', status: 'True' }] } },
    ],
    [
      'Pod status podIPs by ip',
      '',
      'Pod',
      { status: { podIPs: [{ ip: '10.0.0.1' }] } },
      { status: { podIPs: [{ ip: 'fd00::1' }] } },
      { status: { podIPs: [{ ip: 'fd00::1' }, { ip: '10.0.0.1' }] } },
    ],
    [
      'PodDisruptionBudget status conditions by type',
      'policy',
      'PodDisruptionBudget',
      { status: { conditions: [{ type: 'DisruptionAllowed', status: 'False' }] } },
      { status: { conditions: [{ type: 'DisruptionAllowed', status: 'True' }] } },
      { status: { conditions: [{ type: 'DisruptionAllowed', status: 'True' }] } },
    ],
    [
      'ClusterRole rules are atomic',
      'rbac.authorization.k8s.io',
      'ClusterRole',
      { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
      { rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }] },
      { rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }] },
    ],
    [
      'EndpointSlice endpoints are atomic',
      'discovery.k8s.io',
      'EndpointSlice',
      { endpoints: [{ addresses: ['10.0.0.1'] }] },
      { endpoints: [{ addresses: ['10.0.0.2'] }] },
      { endpoints: [{ addresses: ['10.0.0.2'] }] },
    ],
  ];
  for (const [title, group, kind, document, patch, expected] of OTHER_LISTS) {
    it(title, () => {
      const meta = patchMetaFor(group, 'v1', kind);
      assert.ok(meta);
      assert.deepEqual(applyStrategicMergePatch(document, patch, meta), expected);
    });
  }
});
