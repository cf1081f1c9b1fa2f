import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { ResourceRegistry } from '../registry.ts';
import { builtinKinds } from './index.ts';

const now = new Date('2024-05-01T12:00:00Z');

function hpa(version: 'v1' | 'v2'): ResourceDef {
  const def = builtinKinds.find((d) => d.group === 'autoscaling' && d.plural === 'horizontalpodautoscalers' && d.version === version);
  assert.ok(def, `autoscaling/${version} is defined`);
  return def;
}

function errors(def: ResourceDef, object: KubeObject): string[] {
  def.defaults?.(object);
  def.prepareForCreate?.(object);
  return (def.validate?.(object, undefined) ?? []).map((e: FieldError) => `${e.type} ${e.field}: ${e.message}`);
}

function cells(object: KubeObject): Record<string, unknown> {
  return Object.fromEntries(hpa('v2').printerColumns.map((c) => [c.name, c.cell(object, now)]));
}

const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

test('both versions are served, v2 first so discovery prefers it', () => {
  const registry = new ResourceRegistry(builtinKinds);
  assert.deepEqual(registry.groups().find((g) => g.name === 'autoscaling'), { name: 'autoscaling', versions: ['v2', 'v1'] });
  for (const version of ['v1', 'v2'] as const) {
    const def = hpa(version);
    assert.deepEqual([def.shortNames, def.categories, def.namespaced, Boolean(def.subresources.status)], [['hpa'], ['all'], true, true]);
    assert.equal(def.printerColumns.map((c) => c.name).join(' '), 'Reference Targets MinPods MaxPods Replicas Age');
  }
});

test('a minimal v2 HPA scales on 80% CPU from one replica; status starts empty', () => {
  const object: KubeObject = { metadata: { name: 'web' }, spec: { scaleTargetRef: target, maxReplicas: 5 }, status: { currentReplicas: 3 } };
  assert.deepEqual(errors(hpa('v2'), object), []);
  assert.deepEqual(object.spec, {
    scaleTargetRef: target,
    maxReplicas: 5,
    minReplicas: 1,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
  });
  assert.deepEqual(object.status, { desiredReplicas: 0 });
});

test('a given v2 behavior is completed with upstream\'s scaling rules; scale-down stabilization stays unset', () => {
  const object: KubeObject = { metadata: { name: 'web' }, spec: { scaleTargetRef: target, maxReplicas: 5, behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } } };
  assert.deepEqual(errors(hpa('v2'), object), []);
  assert.deepEqual((object.spec as { behavior: unknown }).behavior, {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
    },
    scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
  });
});

test('v2 replicas, target, metrics and behavior are checked with upstream paths', () => {
  assert.deepEqual(
    errors(hpa('v2'), {
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: { kind: 'Deployment' },
        minReplicas: 0,
        maxReplicas: 0,
        metrics: [
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '0' } } },
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } }, pods: {} },
          { type: 'External' },
        ],
        behavior: { scaleUp: { policies: [], selectPolicy: 'Most' }, scaleDown: { stabilizationWindowSeconds: 4000, policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] } },
      },
    }),
    [
      'FieldValueInvalid spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'FieldValueInvalid spec.maxReplicas: Invalid value: 0: must be greater than 0',
      'FieldValueRequired spec.scaleTargetRef.name: Required value',
      'FieldValueInvalid spec.metrics[0].pods.target.averageValue: Invalid value: "0": must be positive',
      'FieldValueRequired spec.metrics[1].pods.metric.name: Required value: must specify a metric name',
      'FieldValueRequired spec.metrics[1].pods.target.type: Required value: must specify a metric target type',
      'FieldValueInvalid spec.metrics[1].pods.target.type: Invalid value: "": must be either Utilization, Value, or AverageValue',
      'FieldValueRequired spec.metrics[1].pods.target.averageValue: Required value: must specify a positive target averageValue',
      'FieldValueForbidden spec.metrics[1].pods: Forbidden: must populate the given metric source only',
      'FieldValueRequired spec.metrics[2].external: Required value: must populate information for the given metric source',
      'FieldValueNotSupported spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"',
      'FieldValueRequired spec.behavior.scaleUp.policies: Required value: must specify at least one Policy',
      'FieldValueInvalid spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
      'FieldValueInvalid spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero',
      'FieldValueInvalid spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
    ],
  );
});

test('a v1 HPA defaults only minReplicas and reports its CPU target where upstream does', () => {
  const object: KubeObject = { metadata: { name: 'web' }, spec: { scaleTargetRef: target, maxReplicas: 3 } };
  assert.deepEqual(errors(hpa('v1'), object), []);
  assert.deepEqual(object.spec, { scaleTargetRef: target, maxReplicas: 3, minReplicas: 1 });
  assert.deepEqual(object.status, { currentReplicas: 0, desiredReplicas: 0 });
  assert.deepEqual(errors(hpa('v1'), { metadata: { name: 'web' }, spec: { scaleTargetRef: target, minReplicas: 4, maxReplicas: 3, targetCPUUtilizationPercentage: 0 } }), [
    'FieldValueInvalid spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`',
    'FieldValueInvalid spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
  ]);
});

test('TARGETS shows current/target per metric, two at most, for either version\'s shape', () => {
  const v2 = {
    metadata: { name: 'web', creationTimestamp: '2024-05-01T11:00:00Z' },
    spec: {
      scaleTargetRef: target,
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
      ],
    },
    status: {
      currentReplicas: 3,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '150m' } } },
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } },
      ],
    },
  };
  assert.deepEqual(cells(v2), {
    Reference: 'Deployment/web', Targets: 'cpu: 45%/60%, memory: 300Mi/512Mi + 1 more...', MinPods: '2', MaxPods: 10, Replicas: 3, Age: '60m',
  });
  const external = { spec: { metrics: [{ type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } }, { type: 'Object', object: { metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } }] } };
  assert.equal(cells(external).Targets, '<unknown>/30 (avg), <unknown>/2k');
  const v1 = { spec: { scaleTargetRef: target, maxReplicas: 3, targetCPUUtilizationPercentage: 70 }, status: { currentReplicas: 1, currentCPUUtilizationPercentage: 12 } };
  assert.equal(cells(v1).Targets, 'cpu: 12%/70%');
  assert.equal(cells({ spec: { scaleTargetRef: target } }).Targets, '<none>');
  assert.equal(cells({ spec: { scaleTargetRef: target } }).MinPods, '<unset>');
});
