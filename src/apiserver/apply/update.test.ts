import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinSchema, managerOptions, managerOrUserAgent, recordUpdate, type UpdateOptions } from './index.ts';
import type { JsonObject } from './json.ts';

const schema = builtinSchema('', 'v1', 'ConfigMap')!;
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:05:00Z';

function opts(manager: string, now = T0, overrides: Partial<UpdateOptions> = {}): UpdateOptions {
  return { manager, apiVersion: 'v1', subresource: '', now, schema, ...overrides };
}

function configMap(data: Record<string, string>, extra: JsonObject = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', uid: 'u', ...extra }, data };
}

function entries(object: JsonObject): JsonObject[] {
  return ((object.metadata as JsonObject).managedFields ?? []) as JsonObject[];
}

/** An object as created by `manager`. */
function created(data: Record<string, string>, manager = 'kubectl-create'): JsonObject {
  const object = configMap(data);
  recordUpdate(undefined, object, opts(manager));
  return object;
}

describe('recordUpdate', () => {
  it('a create gives the writer every field it set, maps with their "." entry', () => {
    const object = created({ a: '1' });
    assert.deepEqual(entries(object), [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {}, '.': {} } },
      },
    ]);
  });

  it('creates of one shape get the same fields, and creates of another shape their own', () => {
    const pod = builtinSchema('', 'v1', 'Pod')!;
    const podOf = (name: string, containers: string[], labels: Record<string, string>): JsonObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', uid: name, labels },
      spec: { containers: containers.map((c) => ({ name: c, image: `${c}:1` })) },
    });
    const fieldsOf = (object: JsonObject, manager = 'rs') => {
      recordUpdate(undefined, object, opts(manager, T0, { schema: pod }));
      return entries(object).map((e) => [e.manager, e.fieldsV1]);
    };
    const first = fieldsOf(podOf('a', ['web'], { app: 'x' }));
    // Same shape: other names and label values, same keys and containers.
    assert.deepEqual(fieldsOf(podOf('b', ['web'], { app: 'y' })), first);
    assert.deepEqual(fieldsOf(podOf('c', ['web'], { app: 'y' }), 'other'), [['other', first[0]![1]]]);
    // Another label key, another container (whose name is in its path).
    assert.deepEqual(fieldsOf(podOf('d', ['web'], { tier: 'y' }))[0]![1], {
      'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
    });
    assert.deepEqual(fieldsOf(podOf('e', ['db'], { app: 'x' }))[0]![1], {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"db"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
    });
    // And the first shape's fields are still its own.
    assert.deepEqual(fieldsOf(podOf('f', ['web'], { app: 'z' })), first);
  });

  it('an update takes the fields it changed from their owners; the rest stay theirs', () => {
    const before = created({ a: '1', b: '2' });
    const after = configMap({ a: '9', b: '2', c: '3' });
    recordUpdate(before, after, opts('kubectl-edit', T1));
    assert.deepEqual(
      entries(after).map((e) => [e.manager, e.time, e.fieldsV1]),
      [
        ['kubectl-create', T0, { 'f:data': { 'f:b': {}, '.': {} } }],
        ['kubectl-edit', T1, { 'f:data': { 'f:a': {}, 'f:c': {} } }],
      ],
    );
  });

  it("the object's only manager writing the same shape keeps its fields; its time moves only on a change", () => {
    // As stored: with its resourceVersion and creationTimestamp, which the update does not send.
    const stored = () => {
      const object = configMap({ a: '1', b: '2' }, { labels: { app: 'x' } });
      recordUpdate(undefined, object, opts('writer'));
      Object.assign(object.metadata as JsonObject, { resourceVersion: '7', creationTimestamp: T0 });
      return object;
    };
    const fields = { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } };
    const changed = configMap({ a: '9', b: '2' }, { labels: { app: 'x' } });
    recordUpdate(stored(), changed, opts('writer', T1));
    assert.deepEqual(entries(changed).map((e) => [e.manager, e.time, e.fieldsV1]), [['writer', T1, fields]]);
    const relabelled = configMap({ a: '1', b: '2' }, { labels: { app: 'y' } });
    recordUpdate(stored(), relabelled, opts('writer', T1));
    assert.deepEqual(entries(relabelled).map((e) => [e.manager, e.time, e.fieldsV1]), [['writer', T1, fields]]);
    const same = configMap({ a: '1', b: '2' }, { labels: { app: 'x' } });
    recordUpdate(stored(), same, opts('writer', T1));
    assert.deepEqual(entries(same).map((e) => [e.manager, e.time, e.fieldsV1]), [['writer', T0, fields]]);
    // Another shape: the new key joins the writer's fields.
    const grown = configMap({ a: '1', b: '2', c: '3' }, { labels: { app: 'x' } });
    recordUpdate(stored(), grown, opts('writer', T1));
    assert.deepEqual(entries(grown).map((e) => [e.manager, e.time, (e.fieldsV1 as JsonObject)['f:data']]), [
      ['writer', T1, { '.': {}, 'f:a': {}, 'f:b': {}, 'f:c': {} }],
    ]);
    // The only manager, owning part of the object: what it changes becomes its own.
    const partly = stored();
    (partly.metadata as JsonObject).managedFields = [
      { manager: 'writer', operation: 'Update', apiVersion: 'v1', time: T0, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
    ];
    const takes = configMap({ a: '1', b: '5' }, { labels: { app: 'x' } });
    recordUpdate(partly, takes, opts('writer', T1));
    assert.deepEqual(entries(takes).map((e) => [e.manager, e.time, e.fieldsV1]), [['writer', T1, { 'f:data': { 'f:a': {}, 'f:b': {} } }]]);
    // Another writer of the same shape takes what it changed from the first.
    const other = configMap({ a: '9', b: '2' }, { labels: { app: 'x' } });
    recordUpdate(stored(), other, opts('editor', T1));
    assert.deepEqual(entries(other).map((e) => [e.manager, e.time, e.fieldsV1]), [
      ['writer', T0, { 'f:data': { '.': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } }],
      ['editor', T1, { 'f:data': { 'f:a': {} } }],
    ]);
  });

  it('a removed field is owned by nobody any more', () => {
    const before = created({ a: '1', b: '2' });
    const after = configMap({ b: '2' });
    recordUpdate(before, after, opts('kubectl-edit', T1));
    assert.deepEqual(entries(after).map((e) => [e.manager, e.fieldsV1]), [['kubectl-create', { 'f:data': { 'f:b': {}, '.': {} } }]]);
  });

  it('a write that changes nothing leaves the entries, times included, as they were', () => {
    const before = created({ a: '1' });
    const after = configMap({ a: '1' });
    recordUpdate(before, after, opts('kubectl-edit', T1));
    assert.deepEqual(entries(after), entries(before));
  });

  it('managedFields a client sends are taken as they are; [] resets them; absent keeps the stored ones', () => {
    const before = created({ a: '1' });
    const edited = configMap({ a: '1' });
    (edited.metadata as JsonObject).managedFields = [
      { manager: 'mine', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
    ];
    recordUpdate(before, edited, opts('kubectl-patch', T1));
    assert.deepEqual(entries(edited).map((e) => e.manager), ['mine']);

    const reset = configMap({ a: '2' });
    (reset.metadata as JsonObject).managedFields = [];
    recordUpdate(before, reset, opts('kubectl-patch', T1));
    // An existing object with no fields tracked stays untracked until it is applied.
    assert.equal((reset.metadata as JsonObject).managedFields, undefined);

    const broken = configMap({ a: '1' });
    (broken.metadata as JsonObject).managedFields = [{ manager: 'x', operation: 'Replace', apiVersion: 'v1', fieldsType: 'FieldsV1' }];
    recordUpdate(before, broken, opts('kubectl-patch', T1));
    assert.deepEqual(entries(broken), entries(before));
  });

  it('a subresource write starts from the stored entries and records its subresource', () => {
    const schemaPod = builtinSchema('', 'v1', 'Pod')!;
    const before: JsonObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }] } };
    recordUpdate(undefined, before, opts('kubectl-run', T0, { schema: schemaPod }));
    const after: JsonObject = { ...structuredClone(before), status: { phase: 'Running' } };
    (after.metadata as JsonObject).managedFields = [];
    recordUpdate(before, after, opts('kubelet', T1, { schema: schemaPod, subresource: 'status' }));
    assert.deepEqual(
      entries(after).map((e) => [e.manager, e.subresource, e.fieldsV1]),
      [
        ['kubectl-run', undefined, { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { 'f:image': {}, 'f:name': {}, '.': {} } } } }],
        ['kubelet', 'status', { 'f:status': { 'f:phase': {} } }],
      ],
    );
  });

  it('keeps at most ten update managers, merging the oldest into ancient-changes', () => {
    let object = created({ k0: 'v' }, 'm0');
    for (let i = 1; i <= 11; i++) {
      const next = structuredClone(object);
      (next.data as Record<string, string>)[`k${i}`] = 'v';
      recordUpdate(object, next, opts(`m${i}`, `2024-05-01T10:${String(i).padStart(2, '0')}:00Z`));
      object = next;
    }
    const names = entries(object).map((e) => e.manager);
    assert.equal(names.length, 10);
    assert.deepEqual(names.slice(0, 2), ['ancient-changes', 'm3']);
    const ancient = entries(object)[0]!;
    assert.deepEqual(ancient.fieldsV1, { 'f:data': { 'f:k0': {}, 'f:k1': {}, 'f:k2': {}, '.': {} } });
  });

  it('a write the list semantics cannot read keeps the stored entries', () => {
    const schemaPod = builtinSchema('', 'v1', 'Pod')!;
    const before: JsonObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } };
    recordUpdate(undefined, before, opts('x', T0, { schema: schemaPod }));
    const after: JsonObject = { ...structuredClone(before), spec: { containers: [{ image: 'no-name' }] } };
    recordUpdate(before, after, opts('y', T1, { schema: schemaPod }));
    assert.deepEqual(entries(after), entries(before));
  });
});

describe('field managers', () => {
  it('without fieldManager, the User-Agent up to its first slash names the writer', () => {
    assert.equal(managerOrUserAgent('', 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl');
    assert.equal(managerOrUserAgent('', 'kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc/system:serviceaccount:x'), 'kube-controller-manager');
    assert.equal(managerOrUserAgent('mine', 'kubectl/v1.32.0'), 'mine');
    assert.equal(managerOrUserAgent('', 'a\u0001b'), 'ab');
    assert.equal(managerOrUserAgent('', 'x'.repeat(200)).length, 128);
    assert.equal(managerOrUserAgent('', undefined), '');
  });

  it('apply requires a manager; force belongs to apply alone', () => {
    const q = (s: string) => new URLSearchParams(s);
    assert.deepEqual(managerOptions(q('fieldManager=kubectl&force=true'), 'PatchOptions', true), { fieldManager: 'kubectl', force: true });
    assert.throws(() => managerOptions(q(''), 'PatchOptions', true), {
      code: 422,
      message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    });
    assert.throws(() => managerOptions(q('force=false'), 'PatchOptions', false), {
      message: 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    });
    assert.throws(() => managerOptions(q(`fieldManager=${'x'.repeat(129)}`), 'CreateOptions', false), {
      message: 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    });
    assert.throws(() => managerOptions(q('fieldManager=a%01'), 'UpdateOptions', false), {
      message: 'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\u0001": invalid character U+0001 (at position 1)',
    });
    assert.throws(() => managerOptions(q('fieldManager=k&force=yes'), 'PatchOptions', true), { code: 400 });
  });
});
