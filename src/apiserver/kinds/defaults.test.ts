import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

function kind(group: string, plural: string): ResourceDef {
  const def = builtinKinds.find((d) => d.group === group && d.plural === plural);
  assert.ok(def, `${group}/${plural} is defined`);
  return def;
}

/** What the server does on create: defaults, then prepareForCreate. */
function created(def: ResourceDef, object: KubeObject): KubeObject {
  def.defaults?.(object);
  def.prepareForCreate?.(object);
  return object;
}

const defaultedContainer = {
  imagePullPolicy: 'IfNotPresent',
  resources: {},
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};

const defaultedTemplateSpec = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

test('a minimal Pod gets upstream defaults, admission defaults and a Pending status', () => {
  const pod = created(kind('', 'pods'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
  });
  assert.deepEqual(pod.spec, {
    containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], ...defaultedContainer }],
    ...defaultedTemplateSpec,
    enableServiceLinks: true,
    serviceAccountName: 'default',
    serviceAccount: 'default',
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
  });
  assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('image pull policy is Always for :latest and untagged images, IfNotPresent otherwise', () => {
  const pod = created(kind('', 'pods'), {
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'a', image: 'nginx' },
        { name: 'b', image: 'nginx:latest' },
        { name: 'c', image: 'registry:5000/team/nginx' },
        { name: 'd', image: 'nginx@sha256:abcd' },
        { name: 'e', image: 'registry:5000/nginx:1.2' },
        { name: 'f', image: 'nginx', imagePullPolicy: 'Never' },
      ],
    },
  });
  const policies = (pod.spec as { containers: { imagePullPolicy: string }[] }).containers.map((c) => c.imagePullPolicy);
  assert.deepEqual(policies, ['Always', 'Always', 'Always', 'IfNotPresent', 'IfNotPresent', 'Never']);
});

test('probes, volumes and env references get their defaults', () => {
  const pod = created(kind('', 'pods'), {
    metadata: { name: 'p' },
    spec: {
      volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }],
      containers: [{
        name: 'a',
        image: 'x:1',
        livenessProbe: { httpGet: { port: 8080 } },
        env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      }],
    },
  });
  const spec = pod.spec as Record<string, any>;
  assert.deepEqual(spec.volumes, [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }]);
  assert.deepEqual(spec.containers[0].livenessProbe, {
    httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.equal(spec.containers[0].env[0].valueFrom.fieldRef.apiVersion, 'v1');
});

test('QoS class follows requests and limits; requests default to limits', () => {
  const pods = kind('', 'pods');
  const qos = (resources: object) =>
    (created(pods, { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x', resources }] } }).status as { qosClass: string }).qosClass;
  assert.equal(qos({}), 'BestEffort');
  assert.equal(qos({ requests: { cpu: '100m' } }), 'Burstable');
  assert.equal(qos({ limits: { cpu: '1', memory: '1Gi' } }), 'Guaranteed');
  assert.equal(qos({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }), 'Burstable');
});

test('a minimal Deployment gets upstream defaults, its template those of a pod spec only', () => {
  const deployment = created(kind('apps', 'deployments'), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
    status: { replicas: 3 },
  });
  assert.deepEqual(deployment.spec, {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', ...defaultedContainer }], ...defaultedTemplateSpec },
    },
  });
  assert.deepEqual(deployment.status, {}, 'status is cleared on create');
});

test('StatefulSet, DaemonSet and ReplicaSet defaults', () => {
  const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'x:1' }] } };
  const sts = created(kind('apps', 'statefulsets'), { metadata: { name: 'db' }, spec: { selector: { matchLabels: { app: 'x' } }, template: structuredClone(template) } });
  const s = sts.spec as Record<string, unknown>;
  assert.equal(s.replicas, 1);
  assert.equal(s.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.revisionHistoryLimit, 10);

  const ds = created(kind('apps', 'daemonsets'), { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'x' } }, template: structuredClone(template) } });
  const d = ds.spec as Record<string, unknown>;
  assert.deepEqual(d.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(d.revisionHistoryLimit, 10);

  const rs = created(kind('apps', 'replicasets'), { metadata: { name: 'rs' }, spec: { selector: { matchLabels: { app: 'x' } }, template: structuredClone(template) } });
  assert.equal((rs.spec as Record<string, unknown>).replicas, 1);
});

test('a Job gets its defaults and a selector generated from its uid', () => {
  const job = created(kind('batch', 'jobs'), {
    metadata: { name: 'pi', namespace: 'default', uid: '1234-abcd' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5' }] } } },
  });
  const spec = job.spec as Record<string, any>;
  assert.equal(spec.completions, 1);
  assert.equal(spec.parallelism, 1);
  assert.equal(spec.backoffLimit, 6);
  assert.equal(spec.completionMode, 'NonIndexed');
  assert.equal(spec.suspend, false);
  assert.deepEqual(spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': '1234-abcd' } });
  assert.deepEqual(spec.template.metadata.labels, {
    'controller-uid': '1234-abcd',
    'batch.kubernetes.io/controller-uid': '1234-abcd',
    'job-name': 'pi',
    'batch.kubernetes.io/job-name': 'pi',
  });
  assert.deepEqual(kind('batch', 'jobs').validate!(job, undefined), []);
});

test('a CronJob gets its defaults', () => {
  const cj = created(kind('batch', 'cronjobs'), {
    metadata: { name: 'nightly' },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'x', image: 'x:1' }] } } } } },
  });
  const spec = cj.spec as Record<string, unknown>;
  assert.equal(spec.concurrencyPolicy, 'Allow');
  assert.equal(spec.suspend, false);
  assert.equal(spec.successfulJobsHistoryLimit, 3);
  assert.equal(spec.failedJobsHistoryLimit, 1);
  assert.deepEqual(kind('batch', 'cronjobs').validate!(cj, undefined), []);
});

test('a Service gets type, affinity, target ports and single-stack IPv4 families', () => {
  const svc = created(kind('', 'services'), {
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { name: 'named', port: 8080, targetPort: 'http' }] },
  });
  assert.deepEqual(svc.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'named', port: 8080, targetPort: 'http', protocol: 'TCP' }],
    type: 'ClusterIP',
    sessionAffinity: 'None',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
});

test('a Namespace is labelled with its name, Active, and holds the kubernetes finalizer', () => {
  const ns = created(kind('', 'namespaces'), { metadata: { name: 'team-a' } });
  assert.deepEqual(ns.metadata?.labels, { 'kubernetes.io/metadata.name': 'team-a' });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
});

test('a Secret defaults to Opaque and folds stringData into data', () => {
  const secret = created(kind('', 'secrets'), { metadata: { name: 's' }, data: { a: 'eA==' }, stringData: { b: 'hello', a: 'y' } });
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(secret.data, { a: 'eQ==', b: 'aGVsbG8=' });
  assert.equal(secret.stringData, undefined);
});
