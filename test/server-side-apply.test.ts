/**
 * Server-side apply with real kubectl (1.27, 1.30, 1.32 and 1.33): `apply --server-side` creates and
 * updates, `metadata.managedFields` records every manager in FieldsV1, a conflicting apply
 * fails with upstream's message, `--force-conflicts` takes the field, fields dropped from the
 * applied file go, ordinary writes record `Update` managers, and objects managed with
 * client-side apply move to server-side apply (and back) as kubectl expects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { apiClient, type ApiClient } from './helpers/http.ts';

const VERSIONS = ['1.27', '1.30', '1.32', '1.33'];

const deployment = (name: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
${extra}`;

const configMap = (name: string, data: Record<string, string>) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}
`;

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, any>;
  subresource?: string;
}

describe('server-side apply', () => {
  let server: TestServer;
  let api: ApiClient;

  before(async () => {
    server = await startServer();
    api = apiClient(server.kubeconfig);
  });
  after(async () => {
    api?.close();
    await cleanup(server);
  });

  for (const version of VERSIONS) {
    describe(`kubectl ${version}`, () => {
      const ns = `ssa-${version.replace('.', '-')}`;
      const k = (args: string[], input?: string) => kubectl(server, ['-n', ns, ...args], { version, ...(input !== undefined ? { input } : {}) });
      const ok = async (args: string[], input?: string) => {
        const r = await k(args, input);
        assert.equal(r.code, 0, `kubectl ${version} ${args.join(' ')}:\n${r.stderr}`);
        return r.stdout;
      };
      const object = async (kind: string, name: string) => JSON.parse(await ok(['get', kind, name, '-o', 'json', '--show-managed-fields']));
      const entries = async (kind: string, name: string): Promise<Entry[]> => (await object(kind, name)).metadata.managedFields ?? [];
      const entry = async (kind: string, name: string, manager: string) => (await entries(kind, name)).find((e) => e.manager === manager);

      before(async () => {
        await ok(['create', 'namespace', ns]);
      });

      it('apply --server-side creates the object, owned by "kubectl" in FieldsV1', async () => {
        assert.match(await ok(['apply', '--server-side', '-f', '-'], deployment('web', 2)), /deployment.apps\/web serverside-applied/);
        // The deployment controller records its own writes (status, revision annotation), as upstream's.
        const [applied, ...others] = (await entries('deployment', 'web')).filter((e) => e.manager !== 'kube-controller-manager');
        assert.deepEqual(others, []);
        assert.equal(applied!.manager, 'kubectl');
        assert.equal(applied!.operation, 'Apply');
        assert.equal(applied!.apiVersion, 'apps/v1');
        assert.equal(applied!.fieldsType, 'FieldsV1');
        assert.match(applied!.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        const spec = applied!.fieldsV1['f:spec'];
        assert.deepEqual(spec['f:replicas'], {});
        assert.deepEqual(spec['f:template']['f:spec']['f:containers']['k:{"name":"web"}'], {
          '.': {},
          'f:image': {},
          'f:name': {},
          'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
        });
        // Defaults the server filled in belong to nobody.
        assert.equal(spec['f:revisionHistoryLimit'], undefined);
      });

      it('kubectl get -o yaml hides managedFields unless asked, and shows FieldsV1 when asked', async () => {
        assert.doesNotMatch(await ok(['get', 'deployment', 'web', '-o', 'yaml']), /managedFields/);
        const shown = await ok(['get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields']);
        assert.match(shown, /managedFields:\n {2}- apiVersion: apps\/v1\n {4}fieldsType: FieldsV1\n {4}fieldsV1:\n/);
        assert.match(shown, /k:\{"name":"web"\}:\n\s+\.: \{\}\n\s+f:image: \{\}/);
        assert.match(shown, /manager: kubectl\n {4}operation: Apply\n/);
      });

      it('re-applying the same file changes nothing, not even the resourceVersion', async () => {
        const before = await object('deployment', 'web');
        await ok(['apply', '--server-side', '-f', '-'], deployment('web', 2));
        const after = await object('deployment', 'web');
        assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
        assert.deepEqual(after.metadata.managedFields, before.metadata.managedFields);
      });

      it('a second manager changing a field another manager owns conflicts, as upstream words it', async () => {
        await ok(['apply', '-f', '-'], deployment('csa', 2));
        const r = await k(['apply', '--server-side', '--field-manager=other', '-f', '-'], deployment('csa', 3));
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps\/v1: \.spec\.replicas\n/);
        assert.match(r.stderr, /--force-conflicts/);
        assert.equal((await object('deployment', 'csa')).spec.replicas, 2);
      });

      it('the conflict is a 409 with FieldManagerConflict causes', async () => {
        const body = JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'csa' }, spec: { replicas: 7 } });
        const r = await api.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/csa?fieldManager=raw`, body, 'application/apply-patch+yaml');
        assert.equal(r.status, 409);
        assert.equal(r.json.reason, 'Conflict');
        assert.deepEqual(r.json.details.causes, [
          { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
        ]);
      });

      it('--force-conflicts takes the field; managedFields show the new owner', async () => {
        await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], deployment('csa', 3));
        const live = await object('deployment', 'csa');
        assert.equal(live.spec.replicas, 3);
        const owners = (live.metadata.managedFields as Entry[]).filter((e) => e.fieldsV1['f:spec']?.['f:replicas']).map((e) => [e.manager, e.operation]);
        assert.deepEqual(owners, [['other', 'Apply']]);
      });

      it('a field removed from the applied file is removed from the object', async () => {
        await ok(['apply', '--server-side', '-f', '-'], configMap('settings', { a: '1', b: '2' }));
        await ok(['apply', '--server-side', '-f', '-'], configMap('settings', { a: '1' }));
        assert.deepEqual((await object('configmap', 'settings')).data, { a: '1' });
        // An env var dropped from a container goes too; the container stays.
        const env = '        env:\n        - name: MODE\n          value: fast\n';
        await ok(['apply', '--server-side', '-f', '-'], deployment('env', 1, env));
        assert.deepEqual((await object('deployment', 'env')).spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'fast' }]);
        await ok(['apply', '--server-side', '-f', '-'], deployment('env', 1));
        const container = (await object('deployment', 'env')).spec.template.spec.containers[0];
        assert.equal(container.env, undefined);
        assert.equal(container.image, 'nginx:1.25');
      });

      it('a field another applier also owns stays when one of them drops it', async () => {
        await ok(['apply', '--server-side', '--field-manager=one', '-f', '-'], configMap('shared', { a: '1', b: '2' }));
        await ok(['apply', '--server-side', '--field-manager=two', '-f', '-'], configMap('shared', { b: '2' }));
        await ok(['apply', '--server-side', '--field-manager=one', '-f', '-'], configMap('shared', { a: '1' }));
        assert.deepEqual((await object('configmap', 'shared')).data, { a: '1', b: '2' });
      });

      it('ordinary writes record Update managers named after the kubectl command', async () => {
        await ok(['create', 'configmap', 'plain', '--from-literal=a=1']);
        await ok(['label', 'configmap', 'plain', 'tier=be']);
        await ok(['patch', 'configmap', 'plain', '-p', '{"data":{"b":"2"}}']);
        const got = (await entries('configmap', 'plain')).map((e) => [e.manager, e.operation, e.fieldsV1]);
        assert.deepEqual(got, [
          ['kubectl-create', 'Update', { 'f:data': { '.': {}, 'f:a': {} } }],
          ['kubectl-label', 'Update', { 'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } } }],
          ['kubectl-patch', 'Update', { 'f:data': { 'f:b': {} } }],
        ]);
        // Applying a value another manager set is a conflict with that updater.
        const r = await k(['apply', '--server-side', '-f', '-'], configMap('plain', { a: '9' }));
        assert.match(r.stderr, /conflict with "kubectl-create" using v1: \.data\.a/);
      });

      it('moves an object from client-side apply to server-side apply and back', async () => {
        await ok(['apply', '-f', '-'], deployment('moved', 2));
        // The default manager "kubectl" is forgiven what the last-applied annotation explains.
        assert.match(await ok(['apply', '--server-side', '-f', '-'], deployment('moved', 4)), /serverside-applied/);
        const live = await object('deployment', 'moved');
        assert.equal(live.spec.replicas, 4);
        const managers = (live.metadata.managedFields as Entry[]).map((e) => `${e.manager}/${e.operation}`).sort();
        assert.ok(managers.includes('kubectl/Apply'), managers.join(', '));
        assert.ok(!managers.includes('kubectl-client-side-apply/Update'), managers.join(', '));
        // The annotation follows the server-side apply, so client-side apply works again.
        const lastApplied = JSON.parse(live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
        assert.equal(lastApplied.spec.replicas, 4);
        assert.match(await ok(['apply', '-f', '-'], deployment('moved', 2)), /configured/);
        assert.equal((await object('deployment', 'moved')).spec.replicas, 2);
      });

      it('kubectl scale takes the replicas: the next apply conflicts with the scale subresource', async () => {
        await ok(['scale', 'deployment', 'web', '--replicas=5']);
        const r = await k(['apply', '--server-side', '-f', '-'], deployment('web', 2));
        assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "[^"]+" with subresource "scale" using apps\/v1: \.spec\.replicas/);
        await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], deployment('web', 2));
        assert.equal((await object('deployment', 'web')).spec.replicas, 2);
      });

      it('--dry-run=server applies without storing', async () => {
        const before = await object('deployment', 'web');
        await ok(['apply', '--server-side', '--dry-run=server', '-f', '-'], deployment('web', 2, '        args: ["-g", "daemon off;"]\n'));
        assert.equal((await object('deployment', 'web')).metadata.resourceVersion, before.metadata.resourceVersion);
      });
    });
  }

  describe('the API', () => {
    it('requires a field manager for apply, as upstream', async () => {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
      const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/x', body, 'application/apply-patch+yaml');
      assert.equal(r.status, 422);
      assert.equal(r.json.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    });

    it('creates with 201 and refuses another kind in the body', async () => {
      const body = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n';
      const created = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=test', body, 'application/apply-patch+yaml');
      assert.equal(created.status, 201);
      assert.deepEqual(created.json.data, { k: 'v' });
      assert.equal(created.json.metadata.managedFields[0].manager, 'test');
      const again = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=test', body, 'application/apply-patch+yaml');
      assert.equal(again.status, 200);
      const wrong = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=test', body.replace('ConfigMap', 'Secret'), 'application/apply-patch+yaml');
      assert.equal(wrong.status, 400);
      assert.equal(wrong.json.message, 'invalid object type: /v1, Kind=Secret');
    });

    it('force is only for apply', async () => {
      const r = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/from-yaml?force=true', '{"data":{"a":"b"}}', 'application/merge-patch+json');
      assert.equal(r.status, 422);
      assert.equal(r.json.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    });

    it('applies to custom resources with their schema\'s list types', async () => {
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      properties: {
                        ports: {
                          type: 'array',
                          'x-kubernetes-list-type': 'map',
                          'x-kubernetes-list-map-keys': ['name'],
                          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                        },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      };
      const made = await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      assert.equal(made.status, 201, made.body);
      const path = '/apis/example.com/v1/namespaces/default/widgets/w';
      const apply = async (manager: string, ports: object[]) => {
        for (let i = 0; ; i++) {
          const r = await api.request('PATCH', `${path}?fieldManager=${manager}`, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { ports } }, 'application/apply-patch+yaml');
          // The CRD's kind is served once it is established.
          if (r.status !== 404 || i > 50) return r;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      assert.equal((await apply('a', [{ name: 'http', port: 80 }])).status, 201);
      const both = await apply('b', [{ name: 'grpc', port: 9000 }]);
      assert.equal(both.status, 200, both.body);
      assert.deepEqual(both.json.spec.ports, [
        { name: 'http', port: 80 },
        { name: 'grpc', port: 9000 },
      ]);
      const fields = both.json.metadata.managedFields.find((e: Entry) => e.manager === 'b').fieldsV1;
      assert.deepEqual(fields, { 'f:spec': { 'f:ports': { 'k:{"name":"grpc"}': { '.': {}, 'f:name': {}, 'f:port': {} } } } });
    });
  });
});
