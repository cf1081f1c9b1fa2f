/**
 * Bad input gets a clear Status and loses nothing: each kind of bad request gets the right code
 * and reason, thousands of mutated requests never get a 500 or bring the server down, and
 * afterwards the store is consistent (what the cache lists is what the store holds, and every
 * stored object is valid).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, startServer, type TestServer } from './helpers/cluster.ts';
import { apiClient, type ApiClient } from './helpers/http.ts';

const NS = '/api/v1/namespaces/fuzz';
const configMap = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { app: 'fuzz' } },
  data: { key: 'value' },
  ...extra,
});
const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  },
});

describe('bad input', () => {
  let server: TestServer;
  let api: ApiClient;

  before(async () => {
    server = await startServer();
    api = apiClient(server.kubeconfig);
    const ns = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz' } });
    assert.equal(ns.status, 201, ns.body);
  });
  after(async () => {
    api?.close();
    await cleanup(server);
  });

  const expectStatus = (res: { status: number; json: any; body: string }, code: number, reason: string) => {
    assert.equal(res.status, code, res.body);
    assert.equal(res.json?.kind, 'Status', res.body);
    assert.equal(res.json.status, 'Failure');
    assert.equal(res.json.code, code);
    assert.equal(res.json.reason, reason, res.body);
    assert.ok(typeof res.json.message === 'string' && res.json.message.length > 0);
  };

  it('answers each kind of bad request with the right Status', async () => {
    expectStatus(await api.request('POST', `${NS}/configmaps`, '{"apiVersion":"v1",'), 400, 'BadRequest');
    expectStatus(await api.request('POST', `${NS}/configmaps`, 'kind: [unclosed', 'application/yaml'), 400, 'BadRequest');
    expectStatus(await api.request('POST', `${NS}/configmaps`, '[1,2,3]'), 400, 'BadRequest');
    expectStatus(await api.request('POST', `${NS}/configmaps`, { ...configMap('wrong-kind'), kind: 'Secret' }), 400, 'BadRequest');
    expectStatus(await api.request('POST', `${NS}/configmaps`, { ...configMap('wrong-version'), apiVersion: 'v2' }), 400, 'BadRequest');
    expectStatus(await api.request('POST', `${NS}/configmaps`, 'not json at all', 'text/plain'), 415, 'UnsupportedMediaType');
    const big = JSON.stringify(configMap('too-big', { data: { key: 'x'.repeat(3 * 1024 * 1024 + 10) } }));
    expectStatus(await api.request('POST', `${NS}/configmaps`, big), 413, 'RequestEntityTooLarge');
    const deep = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}';
    expectStatus(await api.request('POST', `${NS}/configmaps`, deep), 400, 'BadRequest');
    const invalidName = await api.request('POST', `${NS}/configmaps`, configMap('Not_A_Valid_Name'));
    expectStatus(invalidName, 422, 'Invalid');
    assert.equal(invalidName.json.details.causes[0].field, 'metadata.name');
    expectStatus(await api.request('POST', `${NS}/configmaps`, configMap('x', { metadata: { name: 'bad-label', labels: { 'a b': 'c' } } })), 422, 'Invalid');
    expectStatus(await api.request('GET', `${NS}/configmaps/missing`), 404, 'NotFound');
    expectStatus(await api.request('GET', '/api/v1/namespaces/nowhere/configmaps/x'), 404, 'NotFound');
    expectStatus(await api.request('POST', '/api/v1/namespaces/nowhere/configmaps', configMap('x')), 404, 'NotFound');
    expectStatus(await api.request('GET', `${NS}/configmaps?labelSelector=a%20in%20(`), 400, 'BadRequest');
    expectStatus(await api.request('GET', `${NS}/configmaps?fieldSelector=spec.nope%3Dx`), 400, 'BadRequest');
    expectStatus(await api.request('GET', `${NS}/configmaps?limit=2&continue=garbage`), 400, 'BadRequest');
    expectStatus(await api.request('GET', `${NS}/configmaps?resourceVersion=abc&limit=1`), 400, 'BadRequest');
    expectStatus(await api.request('PUT', `${NS}/configmaps`, configMap('x')), 405, 'MethodNotAllowed');

    // A key given twice: refused under fieldValidation=Strict, warned about by default.
    const twice = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"twice"},"data":{"a":"1","a":"2"}}';
    const strict = await api.request('POST', `${NS}/configmaps?fieldValidation=Strict`, twice);
    expectStatus(strict, 400, 'BadRequest');
    assert.match(strict.json.message, /strict decoding error: duplicate field "data\.a"/);
    const warned = await api.request('POST', `${NS}/configmaps`, twice);
    assert.equal(warned.status, 201);
    assert.match(warned.headers.warning ?? '', /duplicate field \\"data\.a\\"/);
    assert.deepEqual(warned.json.data, { a: '2' });

    const created = await api.request('POST', `${NS}/configmaps`, configMap('target'));
    assert.equal(created.status, 201, created.body);
    expectStatus(await api.request('POST', `${NS}/configmaps`, configMap('target')), 409, 'AlreadyExists');
    const stale = { ...created.json, data: { key: 'changed' } };
    assert.equal((await api.request('PUT', `${NS}/configmaps/target`, stale)).status, 200);
    expectStatus(await api.request('PUT', `${NS}/configmaps/target`, stale), 409, 'Conflict');
    expectStatus(await api.request('PUT', `${NS}/configmaps/target`, { ...stale, metadata: { ...stale.metadata, resourceVersion: 'xyz' } }), 400, 'BadRequest');
    expectStatus(await api.request('PATCH', `${NS}/configmaps/target`, '[{"op":"replace","path":"/nope/deeper","value":1}]', 'application/json-patch+json'), 422, 'Invalid');
    expectStatus(await api.request('PATCH', `${NS}/configmaps/target`, '[{"op":"explode"}]', 'application/json-patch+json'), 400, 'BadRequest');
    expectStatus(await api.request('PATCH', `${NS}/configmaps/target`, '{bad', 'application/merge-patch+json'), 400, 'BadRequest');
    expectStatus(await api.request('PATCH', `${NS}/configmaps/target`, '{"metadata":{"name":"renamed"}}', 'application/merge-patch+json'), 400, 'BadRequest');
    // Strategic merge patch with a directive that does not exist: 400, nothing changed.
    expectStatus(await api.request('PATCH', `${NS}/configmaps/target`, '{"data":{"$patch":"explode"}}', 'application/strategic-merge-patch+json'), 400, 'BadRequest');
    // Protobuf bytes that do not decode: 400; a server-side apply with a field of the wrong type: 422 naming it.
    expectStatus(await api.request('POST', `${NS}/configmaps`, Buffer.from('k8s\u0000\u000a\u00ff\u00ff', 'latin1'), 'application/vnd.kubernetes.protobuf'), 400, 'BadRequest');
    const wrongType = await api.request('PATCH', `${NS}/configmaps/target?fieldManager=test&force=true`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: target\ndata: [1, 2]\n', 'application/apply-patch+yaml');
    assert.ok(wrongType.status === 400 || wrongType.status === 422, wrongType.body);
    assert.equal(wrongType.json.kind, 'Status');
    // A CRD whose schema is not structural: 422 naming the field.
    const crd = await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'things', kind: 'Thing' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } } }],
      },
    });
    expectStatus(crd, 422, 'Invalid');
    assert.ok(crd.json.details.causes.some((c: any) => /openAPIV3Schema\.properties\[spec\]\.type/.test(c.field)), crd.body);
    expectStatus(await api.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.example.com'), 404, 'NotFound');

    const after = await api.request('GET', `${NS}/configmaps/target`);
    assert.deepEqual(after.json.data, { key: 'changed' }, 'failed patches left the object as it was');
  });

  it('survives thousands of mutated requests and stays consistent', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const bases = [() => configMap(`cm-${Math.floor(random() * 50)}`), () => deployment(`d-${Math.floor(random() * 20)}`)];
    const junkValues = [null, 0, -1, 1e308, '', 'x'.repeat(300), [], {}, [1, 'a'], { a: { b: [] } }, true, 'UPPER_case', '../..', '%00'];

    const mutate = (value: any, depth = 0): any => {
      if (value === null || typeof value !== 'object' || depth > 6) return random() < 0.3 ? pick(junkValues) : value;
      const copy: any = Array.isArray(value) ? [...value] : { ...value };
      const keys = Object.keys(copy);
      if (keys.length > 0 && random() < 0.5) {
        const k = pick(keys);
        copy[k] = random() < 0.5 ? pick(junkValues) : mutate(copy[k], depth + 1);
      }
      if (!Array.isArray(copy) && random() < 0.1) copy[pick(['unknownField', 'status', 'spec', 'data'])] = pick(junkValues);
      if (keys.length > 0 && random() < 0.1) delete copy[pick(keys)];
      return copy;
    };
    const corruptText = (text: string): string => {
      const at = Math.floor(random() * text.length);
      switch (Math.floor(random() * 4)) {
        case 0:
          return text.slice(0, at);
        case 1:
          return text.slice(0, at) + pick(['{', '}', '"', '\\', '\u0000', '\ud800', ',', ':']) + text.slice(at);
        case 2:
          return text.slice(0, at) + text.slice(at + 1);
        default:
          return text;
      }
    };
    const queries = ['', '?resourceVersion=0', '?resourceVersion=-5', '?limit=3', '?limit=abc', '?labelSelector=app%3Dfuzz', '?labelSelector=%21%21', '?fieldSelector=metadata.name%3Dcm-1', '?fieldSelector=%3D%3D', '?continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiIn0', '?dryRun=All', '?gracePeriodSeconds=x'];

    const total = 3000;
    let done = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (done < total) {
        done++;
        const base = pick(bases)();
        const isDeployment = base.kind === 'Deployment';
        const collection = isDeployment ? '/apis/apps/v1/namespaces/fuzz/deployments' : `${NS}/configmaps`;
        const item = `${collection}/${base.metadata.name}`;
        const body = random() < 0.8 ? mutate(base) : base;
        let text = JSON.stringify(body);
        if (random() < 0.3) text = corruptText(text);
        const query = pick(queries);
        const choice = Math.floor(random() * 7);
        let res;
        if (choice === 0) res = await api.request('POST', collection + query, text);
        else if (choice === 1) res = await api.request('PUT', item + query, text);
        else if (choice === 2) res = await api.request('PATCH', item + query, text, 'application/merge-patch+json');
        else if (choice === 3) res = await api.request('PATCH', item + query, `[{"op":"${pick(['add', 'replace', 'remove', 'test', 'move'])}","path":"/${pick(['data', 'metadata/labels', 'spec/replicas', 'x'])}","value":${JSON.stringify(pick(junkValues))}}]`, 'application/json-patch+json');
        else if (choice === 4) res = await api.request('DELETE', item + query);
        else if (choice === 5) res = await api.request('GET', collection + query);
        else res = await api.request('POST', collection, text, pick(['application/yaml', 'application/json', 'text/html', 'application/vnd.kubernetes.protobuf']));
        if (res.status >= 500) failures.push(`${res.status} for ${choice} ${query} ${text.slice(0, 200)}: ${res.body.slice(0, 300)}`);
        else if (res.status >= 400 && res.json?.kind !== 'Status') failures.push(`non-Status ${res.status}: ${res.body.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(failures, [], `server errors:\n${failures.slice(0, 10).join('\n')}`);

    // Still serving.
    assert.equal((await api.request('GET', '/readyz')).status, 200);
    // Consistent: the cache's list equals a paginated read of the store, object by object.
    for (const collection of [`${NS}/configmaps`, '/apis/apps/v1/namespaces/fuzz/deployments']) {
      const cached = await api.request('GET', collection);
      assert.equal(cached.status, 200);
      const fromStore: any[] = [];
      let token = '';
      do {
        const page = await api.request('GET', `${collection}?limit=7${token ? `&continue=${token}` : ''}`);
        assert.equal(page.status, 200, page.body);
        fromStore.push(...page.json.items);
        token = page.json.metadata.continue ?? '';
      } while (token);
      const summary = (items: any[]) => items.map((i) => `${i.metadata.name}@${i.metadata.resourceVersion}`).sort();
      assert.deepEqual(summary(cached.json.items), summary(fromStore));
      // Every stored object is whole and valid: it can be written back unchanged.
      for (const object of cached.json.items) {
        assert.match(object.metadata.name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        assert.ok(object.metadata.uid && object.metadata.creationTimestamp);
        const again = await api.request('PUT', `${collection}/${object.metadata.name}`, object);
        assert.equal(again.status, 200, `${object.metadata.name}: ${again.body}`);
      }
    }
  });
});
