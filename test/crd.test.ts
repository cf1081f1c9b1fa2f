/**
 * CustomResourceDefinitions through kubectl: a CRD becomes Established and its resource is
 * served at once (discovery, printer columns, short names); custom resources are validated,
 * defaulted and pruned by the schema; they are patched and scaled; deleting the CRD deletes
 * them and stops serving the resource.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';

const CRD_FILE = join(import.meta.dirname, '..', 'src', 'apiserver', 'crd', 'testdata', 'crontab-crd.yaml');

const cronTab = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name, namespace: 'default' }, spec });

describe('custom resources', () => {
  let server: TestServer;
  const k = (args: string[], input?: string) => kubectl(server, args, input === undefined ? {} : { input });
  const ok = async (args: string[], input?: string) => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    server = await startServer();
  });
  after(async () => cleanup(server));

  it('serves a new CRD within a second, Established', async () => {
    const started = Date.now();
    await ok(['apply', '-f', '-'], await readFile(CRD_FILE, 'utf8'));
    await ok(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=10s']);
    const resources = await ok(['api-resources', '--api-group=stable.example.com']);
    assert.match(resources, /^crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab$/m);
    assert.ok(Date.now() - started < 5000);
    const names = JSON.parse(await ok(['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.acceptedNames}']));
    assert.equal(names.kind, 'CronTab');
  });

  it('validates, defaults and prunes custom resources', async () => {
    // kubectl validates strictly by default: an unknown field is refused…
    const unknown = await k(['apply', '-f', '-'], cronTab('nightly', { cronSpec: '* * * * */5', image: 'my-cron-image', unknownField: 'dropped' }));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /strict decoding error: unknown field "spec\.unknownField"/);
    // …warned about with --validate=warn, and silently pruned with --validate=false.
    const warned = await k(['apply', '--validate=warn', '--dry-run=server', '-f', '-'], cronTab('nightly', { cronSpec: '* * * * */5', unknownField: 'x' }));
    assert.match(warned.stderr, /Warning: unknown field "spec\.unknownField"/);
    await ok(['apply', '--validate=false', '-f', '-'], cronTab('nightly', { cronSpec: '* * * * */5', image: 'my-cron-image', unknownField: 'dropped' }));
    const stored = JSON.parse(await ok(['get', 'ct', 'nightly', '-o', 'json']));
    assert.equal(stored.spec.replicas, 1, 'defaulted');
    assert.equal(stored.spec.size, 'S', 'defaulted');
    assert.equal(stored.spec.unknownField, undefined, 'pruned');
    assert.equal(stored.metadata.generation, 1);
    const wrongType = await k(['apply', '-f', '-'], cronTab('bad', { cronSpec: '* * * * *', replicas: 'many' }));
    assert.notEqual(wrongType.code, 0);
    assert.match(wrongType.stderr, /spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer: "string"/);
    const badEnum = await k(['apply', '-f', '-'], cronTab('bad', { cronSpec: '* * * * *', size: 'XL' }));
    assert.match(badEnum.stderr, /spec\.size: Unsupported value: "XL": supported values: "S", "M"/);
    assert.notEqual((await k(['get', 'ct', 'bad'])).code, 0, 'nothing stored');
  });

  it('prints the CRD printer columns, patches and scales', async () => {
    const table = await ok(['get', 'crontabs']);
    assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE$/m);
    assert.match(table, /^nightly\s+\* \* \* \* \*\/5\s+1\s+\d+s$/m);
    await ok(['patch', 'ct', 'nightly', '--type', 'merge', '-p', '{"spec":{"image":"v2"}}']);
    assert.equal(await ok(['get', 'ct', 'nightly', '-o', 'jsonpath={.spec.image} {.metadata.generation}']), 'v2 2');
    const strategic = await k(['patch', 'ct', 'nightly', '-p', '{"spec":{"image":"v3"}}']);
    assert.notEqual(strategic.code, 0, 'strategic merge patch is refused for custom resources, as upstream');
    await ok(['scale', 'ct', 'nightly', '--replicas=3']);
    assert.equal(await ok(['get', 'ct', 'nightly', '-o', 'jsonpath={.spec.replicas}']), '3');
    await ok(['label', 'ct', 'nightly', 'team=ops']);
    assert.equal(await ok(['get', 'ct', '-l', 'team=ops', '-o', 'name']), 'crontab.stable.example.com/nightly\n');
  });

  it('serves several versions from one storage version', async () => {
    const version = (name: string, storage: boolean) => ({
      name,
      served: true,
      storage,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'string' } } } } } },
    });
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [version('v1beta1', false), version('v1', true)],
      },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(crd));
    await ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=10s']);
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'example.com/v1beta1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec: { size: 'L' } }));
    assert.equal(await ok(['get', 'widgets.v1.example.com', 'w', '-o', 'jsonpath={.apiVersion} {.spec.size}']), 'example.com/v1 L');
    assert.equal(await ok(['get', 'widgets.v1beta1.example.com', 'w', '-o', 'jsonpath={.apiVersion}']), 'example.com/v1beta1');
    // kubectl prefers the newest version (v1 sorts before v1beta1), as upstream orders them.
    assert.equal(await ok(['get', 'widget', 'w', '-o', 'jsonpath={.apiVersion}']), 'example.com/v1');
    const stored = JSON.parse(await ok(['get', 'crd', 'widgets.example.com', '-o', 'jsonpath={.status.storedVersions}']));
    assert.deepEqual(stored, ['v1']);
  });

  it('deletes the custom resources with their CRD and stops serving them', async () => {
    await ok(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
    const gone = await k(['get', 'crontabs']);
    assert.notEqual(gone.code, 0);
    // kubectl's cached discovery may still name the resource; either way the server refuses it.
    assert.match(gone.stderr, /the server doesn't have a resource type "crontabs"|the server could not find the requested resource/);
    // Re-created, the CRD starts empty: its old objects were deleted, not hidden.
    await ok(['apply', '-f', '-'], await readFile(CRD_FILE, 'utf8'));
    await ok(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=10s']);
    const empty = await k(['get', 'crontabs', '-A', '-o', 'name']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, '');
  });
});
