import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplyConflictError, builtinSchema, customResourceSchema, recordUpdate, serverSideApply, type ApplyOptions } from './index.ts';
import { keepTimesOfNoop, LAST_APPLIED_ANNOTATION } from './apply.ts';
import { goJson, type JsonObject } from './json.ts';
import { compare, merge, toFieldSet } from './typed.ts';
import { StatusError } from '../errors.ts';

const schema = builtinSchema('apps', 'v1', 'Deployment')!;
const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:05:00Z';

function options(overrides: Partial<ApplyOptions> = {}): ApplyOptions {
  return {
    manager: 'kubectl',
    force: false,
    now: T0,
    schema,
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    subresource: '',
    statusSubresource: true,
    ...overrides,
  };
}

function deployment(spec: JsonObject, labels: Record<string, string> = { app: 'web' }): JsonObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels }, spec };
}

const container = (image: string, extra: JsonObject = {}) => ({ name: 'web', image, ...extra });

function template(...containers: JsonObject[]): JsonObject {
  return { metadata: { labels: { app: 'web' } }, spec: { containers } };
}

/** What the store adds around an apply: identity, resourceVersion. */
function stored(object: JsonObject): JsonObject {
  const metadata = { ...(object.metadata as JsonObject), uid: 'u-1', resourceVersion: '7', creationTimestamp: T0 };
  return { ...object, metadata };
}

function managers(object: JsonObject): { manager: string; operation: string; fields: unknown }[] {
  const entries = ((object.metadata as JsonObject).managedFields ?? []) as JsonObject[];
  return entries.map((e) => ({ manager: e.manager as string, operation: e.operation as string, fields: e.fieldsV1 }));
}

describe('serverSideApply', () => {
  it('creates: the applier owns exactly the fields it applied, in FieldsV1', () => {
    const config = deployment({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template(container('nginx', { ports: [{ containerPort: 80 }] })) });
    const object = serverSideApply(undefined, config, options());
    assert.equal((object.spec as JsonObject).replicas, 2);
    const [entry] = (object.metadata as JsonObject).managedFields as JsonObject[];
    assert.deepEqual(entry, {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: T0,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          // A label selector is an atomic struct.
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"web"}': {
                  'f:image': {},
                  'f:name': {},
                  // Container ports are keyed by port and protocol, which defaults to TCP.
                  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { 'f:containerPort': {}, '.': {} } },
                  '.': {},
                },
              },
            },
          },
        },
      },
    });
  });

  it('re-applying the same configuration changes nothing but the time, which the no-op check restores', () => {
    const config = deployment({ replicas: 2, template: template(container('nginx')) });
    const first = stored(serverSideApply(undefined, config, options()));
    const again = serverSideApply(first, config, options({ now: T1 }));
    assert.deepEqual(managers(again), managers(first));
    keepTimesOfNoop(first, again);
    assert.deepEqual(again, first);
  });

  it('a second applier changing a field conflicts, with upstream\'s message and causes', () => {
    const live = stored(serverSideApply(undefined, deployment({ replicas: 2 }), options()));
    assert.throws(
      () => serverSideApply(live, deployment({ replicas: 3 }, {}), options({ manager: 'other' })),
      (error: unknown) => {
        assert.ok(error instanceof ApplyConflictError);
        assert.ok(error instanceof StatusError);
        assert.equal(error.code, 409);
        assert.equal(error.reason, 'Conflict');
        assert.equal(error.message, 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
        assert.deepEqual(error.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }] });
        return true;
      },
    );
  });

  it('names an updater with its API version and lists several conflicts by manager', () => {
    const created = deployment({ replicas: 2, paused: false });
    const live = stored(created);
    recordUpdate(undefined, live, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', subresource: '', now: T0, schema });
    assert.throws(
      () => serverSideApply(live, deployment({ replicas: 3, paused: true }, {}), options({ manager: 'other' })),
      (error: unknown) => {
        assert.ok(error instanceof ApplyConflictError);
        assert.equal(
          error.message,
          'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.paused\n- .spec.replicas',
        );
        return true;
      },
    );
  });

  it('applying the value another manager already has is shared ownership, not a conflict', () => {
    const live = stored(serverSideApply(undefined, deployment({ replicas: 2 }), options()));
    const shared = serverSideApply(live, deployment({ replicas: 2 }, {}), options({ manager: 'other' }));
    assert.deepEqual(
      managers(shared).map((m) => [m.manager, m.fields]),
      [
        ['kubectl', { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:replicas': {} } }],
        ['other', { 'f:spec': { 'f:replicas': {} } }],
      ],
    );
  });

  it('force takes the field: the previous owner loses it', () => {
    const live = stored(serverSideApply(undefined, deployment({ replicas: 2 }), options()));
    const forced = serverSideApply(live, deployment({ replicas: 5 }, {}), options({ manager: 'other', force: true, now: T1 }));
    assert.equal((forced.spec as JsonObject).replicas, 5);
    assert.deepEqual(
      managers(forced).map((m) => [m.manager, m.fields]),
      [
        ['kubectl', { 'f:metadata': { 'f:labels': { 'f:app': {} } } }],
        ['other', { 'f:spec': { 'f:replicas': {} } }],
      ],
    );
  });

  it('a field the applier stops applying is removed, unless another applier owns it', () => {
    const live = stored(serverSideApply(undefined, deployment({ replicas: 2, paused: true, minReadySeconds: 5 }, { app: 'web', tier: 'fe' }), options()));
    const shared = stored(serverSideApply(live, deployment({ minReadySeconds: 5 }, {}), options({ manager: 'other' })));
    const next = serverSideApply(shared, deployment({ replicas: 2 }, { app: 'web' }), options());
    assert.deepEqual(next.spec, { replicas: 2, minReadySeconds: 5 });
    assert.deepEqual((next.metadata as JsonObject).labels, { app: 'web' });
  });

  it('fields set by updaters and defaults stay when the applier drops its own', () => {
    const live = stored(serverSideApply(undefined, deployment({ replicas: 2, template: template(container('nginx', { env: [{ name: 'A', value: '1' }] })) }), options()));
    // A default nobody applied, and a field an updater set.
    const spec = live.spec as JsonObject;
    const defaulted = { ...live, spec: { ...spec, revisionHistoryLimit: 10 } };
    const updated = { ...defaulted, spec: { ...(defaulted.spec as JsonObject), paused: true } };
    recordUpdate(defaulted, updated, { manager: 'kubectl-edit', apiVersion: 'apps/v1', subresource: '', now: T0, schema });
    const next = serverSideApply(stored(updated), deployment({ replicas: 2, template: template(container('nginx')) }), options());
    const nextSpec = next.spec as JsonObject;
    assert.equal(nextSpec.revisionHistoryLimit, 10);
    assert.equal(nextSpec.paused, true);
    // The env list the applier dropped is gone.
    assert.deepEqual(((nextSpec.template as JsonObject).spec as JsonObject).containers, [{ name: 'web', image: 'nginx' }]);
  });

  it('associative lists merge by key; the applier\'s order wins for the elements both hold', () => {
    const live = stored(serverSideApply(undefined, deployment({ template: template({ name: 'a', image: '1' }, { name: 'b', image: '1' }) }), options()));
    const other = serverSideApply(live, deployment({ template: template({ name: 'c', image: '1' }) }, {}), options({ manager: 'sidecars' }));
    const names = (o: JsonObject) => ((((o.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]).map((c) => c.name);
    assert.deepEqual(names(other), ['a', 'b', 'c']);
    const reordered = serverSideApply(stored(other), deployment({ template: template({ name: 'b', image: '2' }, { name: 'a', image: '1' }) }), options());
    // As structured-merge-diff orders them: `c` (not applied) stays behind `b`, which it followed.
    assert.deepEqual(names(reordered), ['b', 'c', 'a']);
  });

  it('status is not applied through the object, and only status through /status', () => {
    const config = { ...deployment({ replicas: 1 }), status: { replicas: 4 } };
    const object = serverSideApply(undefined, config, options());
    assert.deepEqual(managers(object)[0]!.fields, { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:replicas': {} } });
    const status = serverSideApply(stored(object), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 9 }, status: { replicas: 4 } }, options({ manager: 'controller', subresource: 'status' }));
    const entry = ((status.metadata as JsonObject).managedFields as JsonObject[]).find((e) => e.manager === 'controller')!;
    assert.equal(entry.subresource, 'status');
    assert.deepEqual(entry.fieldsV1, { 'f:status': { 'f:replicas': {} } });
  });

  it('refuses a configuration of another kind or version, or one carrying managedFields', () => {
    assert.throws(() => serverSideApply(undefined, { ...deployment({}), apiVersion: 'apps/v1beta1' }, options()), { code: 400, message: 'invalid object type: apps/v1beta1, Kind=Deployment' });
    assert.throws(() => serverSideApply(undefined, { ...deployment({}), kind: 'StatefulSet' }, options()), { message: 'invalid object type: apps/v1, Kind=StatefulSet' });
    const withFields = deployment({});
    (withFields.metadata as JsonObject).managedFields = [];
    assert.throws(() => serverSideApply(undefined, withFields, options()), { code: 400, message: 'metadata.managedFields must be nil' });
  });

  it('refuses list elements without their key as upstream words it, as the client\'s fault (422)', () => {
    const config = deployment({ template: template({ image: 'nginx' }) });
    assert.throws(() => serverSideApply(undefined, config, options()), {
      code: 422,
      reason: 'Invalid',
      message:
        'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    });
    const dup = deployment({ template: template(container('a'), container('b')) });
    assert.throws(() => serverSideApply(undefined, dup, options()), {
      message: 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="web"]',
    });
  });

  it('an object without managedFields gives its fields to before-first-apply first', () => {
    const live = stored(deployment({ replicas: 1 }));
    assert.throws(() => serverSideApply(live, deployment({ replicas: 2 }), options({ manager: 'ci' })), {
      message: 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    });
  });

  describe('migration from client-side apply (manager "kubectl")', () => {
    function clientSideApplied(spec: JsonObject): JsonObject {
      const config = deployment(spec);
      const annotation = `${goJson(config)}\n`;
      const object = stored({ ...config, metadata: { ...(config.metadata as JsonObject), annotations: { [LAST_APPLIED_ANNOTATION]: annotation } } });
      recordUpdate(undefined, object, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', subresource: '', now: T0, schema });
      return object;
    }

    it('conflicts the last-applied annotation explains are forgiven, and the annotation follows the apply', () => {
      const live = clientSideApplied({ replicas: 2 });
      const next = serverSideApply(live, deployment({ replicas: 3 }), options());
      assert.equal((next.spec as JsonObject).replicas, 3);
      const annotations = (next.metadata as JsonObject).annotations as Record<string, string>;
      assert.equal(annotations[LAST_APPLIED_ANNOTATION], `${goJson(deployment({ replicas: 3 }))}\n`);
      // The same apply by another manager is a conflict.
      assert.throws(() => serverSideApply(live, deployment({ replicas: 3 }), options({ manager: 'other' })), ApplyConflictError);
    });

    it('a field changed since the client-side apply still conflicts', () => {
      const live = clientSideApplied({ replicas: 2 });
      const spec = live.spec as JsonObject;
      const scaled = { ...live, spec: { ...spec, replicas: 4 } };
      recordUpdate(live, scaled, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', subresource: '', now: T0, schema });
      assert.throws(() => serverSideApply(scaled, deployment({ replicas: 3 }), options()), ApplyConflictError);
    });
  });
});

describe('typed values', () => {
  it('a set of scalars is owned element by element', () => {
    const set = toFieldSet({ metadata: { finalizers: ['a', 'b'] } }, schema);
    assert.deepEqual(set.toJSON(), { 'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } } });
  });

  it('lists without metadata are atomic; empty objects own nothing', () => {
    const set = toFieldSet({ spec: { template: { spec: { containers: [{ name: 'a', args: ['x'], resources: {} }] } } } }, schema);
    assert.deepEqual(set.toJSON(), {
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { 'f:args': {}, 'f:name': {}, '.': {} } } } } },
    });
  });

  it('comparing a creation records new maps and elements themselves, not the zero value\'s structs', () => {
    const c = compare({}, { spec: { strategy: { rollingUpdate: { maxSurge: 1 } }, template: { metadata: { labels: { a: 'b' } } } } }, schema);
    assert.deepEqual(c.added.toJSON(), {
      'f:spec': {
        'f:strategy': { 'f:rollingUpdate': { 'f:maxSurge': {}, '.': {} } },
        'f:template': { 'f:metadata': { 'f:labels': { 'f:a': {}, '.': {} } } },
      },
    });
  });

  it('a custom resource\'s schema gives its list types; unknown fields are map entries', () => {
    const crSchema = customResourceSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], items: { type: 'object', properties: { id: { type: 'integer' } } } },
            tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
            args: { type: 'array', items: { type: 'string' } },
            extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
    });
    const set = toFieldSet({ spec: { items: [{ id: 1 }], tags: ['x'], args: ['y'], extra: { a: { b: 1 } } } }, crSchema);
    assert.deepEqual(set.toJSON(), {
      'f:spec': {
        'f:args': {},
        'f:extra': { 'f:a': { 'f:b': {}, '.': {} } },
        'f:items': { 'k:{"id":1}': { 'f:id': {}, '.': {} } },
        'f:tags': { 'v:"x"': {} },
      },
    });
  });

  it('merging: a null in the configuration removes a scalar and leaves an object alone', () => {
    assert.deepEqual(merge({ a: 1, b: { c: 1 } }, { a: null, b: null }, schema), { b: { c: 1 } });
  });
});
