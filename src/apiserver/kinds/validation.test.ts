import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { builtinKinds } from './index.ts';

function kind(group: string, plural: string): ResourceDef {
  const def = builtinKinds.find((d) => d.group === group && d.plural === plural);
  assert.ok(def, `${group}/${plural} is defined`);
  return def;
}

/** Runs the create path (defaults, prepareForCreate, validate) and returns the errors. */
function createErrors(def: ResourceDef, object: KubeObject): FieldError[] {
  def.defaults?.(object);
  def.prepareForCreate?.(object);
  return def.validate?.(object, undefined) ?? [];
}

/** Runs the update path against a stored object. */
function updateErrors(def: ResourceDef, next: KubeObject, old: KubeObject): FieldError[] {
  def.defaults?.(next);
  return def.validate?.(next, old) ?? [];
}

/** `type field: message` lines, as the 422 lists its causes. */
function summary(errors: FieldError[]): string[] {
  return errors.map((e) => `${e.type} ${e.field}: ${e.message}`);
}

function stored(def: ResourceDef, object: KubeObject): KubeObject {
  def.defaults?.(object);
  def.prepareForCreate?.(object);
  assert.deepEqual(summary(def.validate?.(object, undefined) ?? []), [], 'the stored object is valid');
  return structuredClone(object);
}

const pods = kind('', 'pods');

test('a pod needs at least one container', () => {
  assert.deepEqual(summary(createErrors(pods, { metadata: { name: 'p' }, spec: { containers: [] } })), [
    'FieldValueRequired spec.containers: Required value',
  ]);
});

test('bad containers are reported at their field paths with upstream wording', () => {
  const errors = createErrors(pods, {
    metadata: { name: 'p' },
    spec: {
      restartPolicy: 'Sometimes',
      dnsPolicy: 'Cluster',
      containers: [
        { name: 'web', image: 'nginx', imagePullPolicy: 'Sometimes', ports: [{ containerPort: 70000 }, { containerPort: 80, protocol: 'HTTP' }] },
        { name: 'web', image: '' },
        { name: 'Sidecar', image: 'x', env: [{ name: 'A=B', value: 'x' }] },
      ],
    },
  });
  const lines = summary(errors);
  const expect = [
    'FieldValueNotSupported spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    'FieldValueInvalid spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'FieldValueNotSupported spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    'FieldValueRequired spec.containers[1].image: Required value',
    'FieldValueDuplicate spec.containers[1].name: Duplicate value: "web"',
    'FieldValueInvalid spec.containers[2].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than \'=\'',
    'FieldValueNotSupported spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    'FieldValueNotSupported spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"',
  ];
  for (const line of expect) assert.ok(lines.includes(line), `missing: ${line}\ngot:\n${lines.join('\n')}`);
  assert.ok(lines.some((l) => l.startsWith('FieldValueInvalid spec.containers[2].name: Invalid value: "Sidecar": a lowercase RFC 1123 label')));
});

test('requests may not exceed limits, and quantities must parse', () => {
  const errors = createErrors(pods, {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '2', memory: 'lots' }, limits: { cpu: '1' } } }] },
  });
  const lines = summary(errors);
  assert.ok(lines.includes('FieldValueInvalid spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('FieldValueInvalid spec.containers[0].resources.requests[memory]: Invalid value: "lots": quantities must match')), lines.join('\n'));
});

test('volume names are unique and mounts must name a volume', () => {
  const errors = createErrors(pods, {
    metadata: { name: 'p' },
    spec: {
      volumes: [{ name: 'data' }, { name: 'data' }],
      containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'missing', mountPath: '/m' }] }],
    },
  });
  assert.deepEqual(summary(errors), [
    'FieldValueDuplicate spec.volumes[1].name: Duplicate value: "data"',
    'FieldValueNotFound spec.containers[0].volumeMounts[0].name: Not found: "missing"',
  ]);
});

test('a pod update may change images but nothing else in the spec', () => {
  const old = stored(pods, { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'a', image: 'nginx:1', ports: [{ containerPort: 80 }] }] } });
  const newImage = structuredClone(old);
  (newImage.spec as any).containers[0].image = 'nginx:2';
  assert.deepEqual(updateErrors(pods, newImage, old), []);

  const newPort = structuredClone(old);
  (newPort.spec as any).containers[0].ports[0].containerPort = 81;
  const errors = updateErrors(pods, newPort, old);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.type, 'FieldValueForbidden');
  assert.equal(errors[0]!.field, 'spec');
  assert.ok(errors[0]!.message.startsWith(
    'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  ));
  assert.ok(errors[0]!.message.includes('spec.containers[0].ports[0].containerPort'));

  const moreTolerations = structuredClone(old);
  (moreTolerations.spec as any).tolerations.push({ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' });
  assert.deepEqual(updateErrors(pods, moreTolerations, old), []);
});

const deployments = kind('apps', 'deployments');

function deployment(spec: Record<string, unknown>): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      ...spec,
    },
  };
}

test('a deployment needs a selector that matches its template', () => {
  assert.deepEqual(summary(createErrors(deployments, deployment({ selector: undefined }))), ['FieldValueRequired spec.selector: Required value']);
  assert.deepEqual(summary(createErrors(deployments, deployment({ selector: {} }))), [
    'FieldValueInvalid spec.selector: Invalid value: {}: empty selector is invalid for deployment',
  ]);
  assert.deepEqual(summary(createErrors(deployments, deployment({ selector: { matchLabels: { app: 'api' } } }))), [
    'FieldValueInvalid spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
  ]);
  assert.deepEqual(summary(createErrors(deployments, deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'Like', values: ['x'] }] } }))), [
    'FieldValueInvalid spec.selector.matchExpressions[0].operator: Invalid value: "Like": not a valid selector operator',
  ]);
});

test('a deployment checks replicas, its pods\' restart policy and strategy', () => {
  const errors = createErrors(deployments, deployment({
    replicas: -1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } },
    template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'OnFailure', containers: [{ name: 'web', image: 'nginx' }] } },
  }));
  assert.deepEqual(summary(errors), [
    'FieldValueInvalid spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'FieldValueNotSupported spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    'FieldValueInvalid spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
  ]);
});

test('a deployment\'s template pods are validated like pods', () => {
  const errors = createErrors(deployments, deployment({
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web_1', image: 'nginx' }] } },
  }));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.field, 'spec.template.spec.containers[0].name');
});

test('a deployment\'s selector cannot change, its template can', () => {
  const old = stored(deployments, deployment({}));
  const retemplated = structuredClone(old);
  (retemplated.spec as any).template.spec.containers[0].image = 'nginx:2';
  assert.deepEqual(updateErrors(deployments, retemplated, old), []);
  const reselected = structuredClone(old);
  (reselected.spec as any).selector = { matchLabels: { app: 'web', tier: 'front' } };
  (reselected.spec as any).template.metadata.labels.tier = 'front';
  assert.deepEqual(summary(updateErrors(deployments, reselected, old)), [
    'FieldValueInvalid spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable',
  ]);
});

test('a statefulset may only change replicas, template, update strategy and a few more', () => {
  const sts = kind('apps', 'statefulsets');
  const old = stored(sts, { metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'pg' }] } } } });
  const scaled = structuredClone(old);
  (scaled.spec as any).replicas = 3;
  assert.deepEqual(updateErrors(sts, scaled, old), []);
  const renamed = structuredClone(old);
  (renamed.spec as any).serviceName = 'other';
  assert.deepEqual(summary(updateErrors(sts, renamed, old)), [
    "FieldValueForbidden spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
});

const services = kind('', 'services');

test('a service needs ports, unless headless or ExternalName', () => {
  assert.deepEqual(summary(createErrors(services, { metadata: { name: 's' }, spec: { selector: { app: 'x' } } })), ['FieldValueRequired spec.ports: Required value']);
  assert.deepEqual(createErrors(services, { metadata: { name: 's' }, spec: { clusterIP: 'None', selector: { app: 'x' } } }), []);
  assert.deepEqual(createErrors(services, { metadata: { name: 's' }, spec: { type: 'ExternalName', externalName: 'example.com.' } }), []);
  assert.deepEqual(summary(createErrors(services, { metadata: { name: 's' }, spec: { type: 'ExternalName' } })), ['FieldValueRequired spec.externalName: Required value']);
});

test('service ports: names required when several, numbers in range, types known', () => {
  const errors = createErrors(services, {
    metadata: { name: 's' },
    spec: { type: 'Balanced', ports: [{ port: 80 }, { port: 0, name: 'b' }, { name: 'b', port: 443, nodePort: 30443 }] },
  });
  assert.deepEqual(summary(errors), [
    'FieldValueNotSupported spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    'FieldValueRequired spec.ports[0].name: Required value',
    'FieldValueInvalid spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    'FieldValueInvalid spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    'FieldValueDuplicate spec.ports[2].name: Duplicate value: "b"',
  ]);
  const nodePortOnClusterIP = createErrors(services, { metadata: { name: 's' }, spec: { ports: [{ port: 80, nodePort: 30080 }] } });
  assert.deepEqual(summary(nodePortOnClusterIP), ["FieldValueForbidden spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
});

test('a service\'s cluster IP cannot change once allocated', () => {
  const old = stored(services, { metadata: { name: 's' }, spec: { clusterIP: '10.43.0.10', ports: [{ port: 53 }] } });
  const moved = structuredClone(old);
  (moved.spec as any).clusterIP = '10.43.0.11';
  (moved.spec as any).clusterIPs = ['10.43.0.11'];
  assert.deepEqual(summary(updateErrors(services, moved, old)), ['FieldValueInvalid spec.clusterIP: Invalid value: "10.43.0.11": field is immutable']);
});

test('config maps: keys, and data frozen by immutable', () => {
  const cms = kind('', 'configmaps');
  const errors = createErrors(cms, { metadata: { name: 'c' }, data: { 'ok.key': 'v', 'bad key': 'v' } });
  assert.deepEqual(summary(errors), [
    "FieldValueInvalid data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  const big = createErrors(cms, { metadata: { name: 'c' }, data: { k: 'x'.repeat(1024 * 1024) } });
  assert.deepEqual(summary(big), ['FieldValueTooLong : Too long: may not be more than 1048576 bytes']);
  const old = stored(cms, { metadata: { name: 'c' }, data: { a: '1' }, immutable: true });
  const changed = { ...structuredClone(old), data: { a: '2' } };
  assert.deepEqual(summary(updateErrors(cms, changed, old)), ['FieldValueForbidden data: Forbidden: field is immutable when `immutable` is set']);
});

test('jobs: pods must not restart forever; the template is fixed once created', () => {
  const jobs = kind('batch', 'jobs');
  const errors = createErrors(jobs, { metadata: { name: 'j', uid: 'u' }, spec: { parallelism: -1, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } });
  assert.deepEqual(summary(errors), [
    'FieldValueInvalid spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
    'FieldValueRequired spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
  ]);
  const old = stored(jobs, { metadata: { name: 'j', uid: 'u' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }] } } } });
  const changed = structuredClone(old);
  (changed.spec as any).template.spec.containers[0].image = 'y';
  const lines = summary(updateErrors(jobs, changed, old));
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.startsWith('FieldValueInvalid spec.template: Invalid value: {') && lines[0]!.endsWith('}: field is immutable'), lines[0]);

  const suspended = stored(jobs, { metadata: { name: 'j', uid: 'u' }, spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }] } } } });
  const placed = structuredClone(suspended);
  (placed.spec as any).template.spec.nodeSelector = { zone: 'a' };
  assert.deepEqual(updateErrors(jobs, placed, suspended), []);
});

test('a user-chosen job selector is refused unless manualSelector is set', () => {
  const jobs = kind('batch', 'jobs');
  const errors = createErrors(jobs, {
    metadata: { name: 'j', uid: 'u' },
    spec: { selector: { matchLabels: { app: 'j' } }, template: { metadata: { labels: { app: 'j' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }] } } },
  });
  assert.ok(summary(errors).some((l) => l.startsWith('FieldValueInvalid spec.selector: Invalid value:') && l.endsWith('`selector` not auto-generated')));
});

test('cron job schedules are parsed', () => {
  const cronJobs = kind('batch', 'cronjobs');
  const cj = (schedule: string, extra: object = {}) => ({
    metadata: { name: 'c' },
    spec: { schedule, ...extra, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }] } } } } },
  });
  for (const ok of ['*/5 * * * *', '0 0 1 jan,jul *', '0 9-17 * * MON-FRI', '@hourly', '@every 1h30m', '0 0 ? * 0']) {
    assert.deepEqual(createErrors(cronJobs, cj(ok)), [], ok);
  }
  assert.deepEqual(summary(createErrors(cronJobs, cj(''))), ['FieldValueRequired spec.schedule: Required value']);
  assert.deepEqual(summary(createErrors(cronJobs, cj('* * *'))), [
    'FieldValueInvalid spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]',
  ]);
  assert.deepEqual(summary(createErrors(cronJobs, cj('61 * * * *'))), [
    'FieldValueInvalid spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
  ]);
  assert.deepEqual(summary(createErrors(cronJobs, cj('@sometimes'))), [
    'FieldValueInvalid spec.schedule: Invalid value: "@sometimes": unrecognized descriptor: @sometimes',
  ]);
  assert.deepEqual(summary(createErrors(cronJobs, cj('0 * * * *', { timeZone: 'Mars/Olympus' }))), [
    'FieldValueInvalid spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
  ]);
  assert.deepEqual(createErrors(cronJobs, cj('0 * * * *', { timeZone: 'Europe/Berlin' })), []);
});

test('leases need a positive duration', () => {
  const leases = kind('coordination.k8s.io', 'leases');
  assert.deepEqual(summary(createErrors(leases, { metadata: { name: 'l' }, spec: { leaseDurationSeconds: 0 } })), [
    'FieldValueInvalid spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
  ]);
  assert.deepEqual(createErrors(leases, { metadata: { name: 'l' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40 } }), []);
});

test('no kind throws on values of the wrong type', () => {
  const junk: unknown[] = [undefined, null, 'x', 5, [], {}, [1, 'a', null]];
  const failures: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  };
  for (const def of builtinKinds) {
    const id = `${def.group}/${def.plural}`;
    for (const raw of junk) {
      const value = () => structuredClone(raw);
      const object: KubeObject = {
        metadata: { name: 'n', namespace: 'default', uid: 'u' },
        spec: value(),
        status: value(),
        data: value(),
        subsets: value(),
        endpoints: value(),
        ports: value(),
      };
      const v = JSON.stringify(raw);
      attempt(`${id} defaults ${v}`, () => def.defaults?.(object));
      attempt(`${id} prepareForCreate ${v}`, () => def.prepareForCreate?.(object));
      attempt(`${id} validate ${v}`, () => def.validate?.(object, undefined));
      attempt(`${id} validate update ${v}`, () => def.validate?.(object, structuredClone(object)));
      for (const column of def.printerColumns) attempt(`${id} column ${column.name} ${v}`, () => column.cell(object, new Date()));
      for (const [field, get] of Object.entries(def.fieldSelectors ?? {})) attempt(`${id} field ${field} ${v}`, () => get(object));
      const nested: KubeObject = {
        metadata: { name: 'n' },
        spec: {
          containers: value(),
          template: { metadata: { labels: value() }, spec: { containers: [value(), { name: 'a', ports: value(), env: value(), resources: value() }] } },
          selector: value(),
          ports: value(),
        },
        status: { conditions: value(), containerStatuses: [value()], initContainerStatuses: value() },
      };
      attempt(`${id} nested defaults ${v}`, () => def.defaults?.(nested));
      attempt(`${id} nested validate ${v}`, () => def.validate?.(nested, undefined));
      for (const column of def.printerColumns) attempt(`${id} nested column ${column.name} ${v}`, () => column.cell(nested, new Date()));
    }
  }
  assert.deepEqual(failures, []);
});
