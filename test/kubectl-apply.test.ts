/**
 * Everyday declarative kubectl against Skiff with kubectl 1.27, 1.30, 1.32 and 1.33:
 * `apply` (create, unchanged, change, field removal), `set image`, `edit`, `diff`, `patch` with
 * its default strategic merge patch, and `delete --cascade`.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';

const VERSIONS = ['1.27', '1.30', '1.32', '1.33'];

const deployment = (ns: string, image: string, env: Record<string, string>) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: web
        image: ${image}
        env:
${Object.entries(env).map(([k, v]) => `        - name: ${k}\n          value: "${v}"`).join('\n')}
      - name: sidecar
        image: busybox:1.36
`;

describe('declarative kubectl', () => {
  let server: TestServer;
  let tmp: string;

  before(async () => {
    server = await startServer();
    tmp = await mkdtemp(join(tmpdir(), 'skiff-apply-'));
  });
  after(async () => {
    await cleanup(server);
    await rm(tmp, { recursive: true, force: true });
  });

  for (const version of VERSIONS) {
    describe(`kubectl ${version}`, () => {
      const ns = `apply-${version.replace('.', '-')}`;
      const k = (args: string[], input?: string, env?: Record<string, string>) =>
        kubectl(server, ['-n', ns, ...args], { version, ...(input !== undefined ? { input } : {}), ...(env ? { env } : {}) });
      const ok = async (args: string[], input?: string, env?: Record<string, string>) => {
        const r = await k(args, input, env);
        assert.equal(r.code, 0, `kubectl ${version} ${args.join(' ')}:\n${r.stderr}`);
        return r.stdout;
      };
      const jsonpath = (what: string, path: string) => ok(['get', what, '-o', `jsonpath=${path}`]);

      before(async () => {
        await ok(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`);
      });

      it('creates with every generator (protobuf bodies on 1.32+)', async () => {
        const generators: [string[], RegExp][] = [
          [['create', 'deployment', 'gen-d', '--image=nginx', '--replicas=3', '--port=80'], /deployment.apps\/gen-d created/],
          [['create', 'configmap', 'gen-c', '--from-literal=a=b'], /configmap\/gen-c created/],
          [['create', 'secret', 'generic', 'gen-s', '--from-literal=k=v'], /secret\/gen-s created/],
          [['create', 'job', 'gen-j', '--image=busybox', '--', 'echo', 'hi'], /job.batch\/gen-j created/],
          [['create', 'cronjob', 'gen-cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'], /cronjob.batch\/gen-cj created/],
          [['create', 'service', 'clusterip', 'gen-svc', '--tcp=80:8080'], /service\/gen-svc created/],
          [['create', 'serviceaccount', 'gen-sa'], /serviceaccount\/gen-sa created/],
          [['create', 'role', 'gen-r', '--verb=get', '--resource=pods'], /role.rbac.authorization.k8s.io\/gen-r created/],
          [['create', 'rolebinding', 'gen-rb', '--role=gen-r', '--user=u'], /rolebinding.rbac.authorization.k8s.io\/gen-rb created/],
          [['create', 'quota', 'gen-q', '--hard=pods=10'], /resourcequota\/gen-q created/],
          [['create', 'poddisruptionbudget', 'gen-p', '--selector=app=x', '--min-available=1'], /poddisruptionbudget.policy\/gen-p created/],
          // Cluster-scoped: one name per kubectl version.
          [['create', 'namespace', `${ns}-gen`], new RegExp(`namespace/${ns}-gen created`)],
          [['create', 'clusterrole', `${ns}-cr`, '--verb=list', '--resource=nodes'], new RegExp(`clusterrole.rbac.authorization.k8s.io/${ns}-cr created`)],
          [['create', 'clusterrolebinding', `${ns}-crb`, `--clusterrole=${ns}-cr`, '--group=g'], new RegExp(`clusterrolebinding.rbac.authorization.k8s.io/${ns}-crb created`)],
          [['create', 'priorityclass', `${ns}-pc`, '--value=1000'], new RegExp(`priorityclass.scheduling.k8s.io/${ns}-pc created`)],
        ];
        for (const [args, expected] of generators) assert.match(await ok(args), expected);
        assert.equal(await jsonpath('deploy/gen-d', '{.spec.replicas} {.spec.template.spec.containers[0].ports[0].containerPort}'), '3 80');
        assert.equal(await jsonpath('secret/gen-s', '{.data.k}'), Buffer.from('v').toString('base64'));
        assert.equal(await jsonpath('svc/gen-svc', '{.spec.ports[0].targetPort}'), '8080');
        assert.match(await ok(['auth', 'can-i', 'create', 'pods']), /^yes$/m);
      });

      it('applies: create, unchanged, change, field removal', async () => {
        assert.match(await ok(['apply', '-f', '-'], deployment(ns, 'nginx:1.27', { A: '1', B: '2' })), /deployment.apps\/web created/);
        assert.match(await ok(['apply', '-f', '-'], deployment(ns, 'nginx:1.27', { A: '1', B: '2' })), /deployment.apps\/web unchanged/);
        assert.match(await ok(['apply', '-f', '-'], deployment(ns, 'nginx:1.28', { A: '1' })), /deployment.apps\/web configured/);
        assert.equal(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].image}'), 'nginx:1.28');
        assert.equal(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].env}'), '[{"name":"A","value":"1"}]');
        assert.equal(await jsonpath('deploy/web', '{.spec.template.spec.containers[1].name}'), 'sidecar');
        assert.equal(await jsonpath('deploy/web', '{.metadata.generation}'), '2');
      });

      it('refuses unknown fields by default, warns with --validate=warn, and never stores them', async () => {
        const typo = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typo' }, data: { a: 'b' }, dataa: { c: 'd' } });
        const strict = await k(['apply', '-f', '-'], typo);
        assert.notEqual(strict.code, 0);
        assert.match(strict.stderr, /strict decoding error: unknown field "dataa"/);
        const warned = await k(['apply', '--validate=warn', '-f', '-'], typo);
        assert.equal(warned.code, 0, warned.stderr);
        assert.match(warned.stderr, /Warning: unknown field "dataa"/);
        const stored = JSON.parse(await ok(['get', 'cm', 'typo', '-o', 'json']));
        assert.equal(stored.dataa, undefined);
        assert.deepEqual(stored.data, { a: 'b' });
      });

      it('diffs the live object against a file', async () => {
        const same = await k(['diff', '-f', '-'], deployment(ns, 'nginx:1.28', { A: '1' }));
        assert.equal(same.code, 0, same.stderr);
        const changed = await k(['diff', '-f', '-'], deployment(ns, 'nginx:1.29', { A: '1' }));
        assert.equal(changed.code, 1, changed.stderr);
        assert.match(changed.stdout, /^-\s+image: nginx:1\.28$/m);
        assert.match(changed.stdout, /^\+\s+image: nginx:1\.29$/m);
      });

      it('sets an image and patches with a strategic merge patch', async () => {
        assert.match(await ok(['set', 'image', 'deployment/web', 'sidecar=busybox:1.37']), /image updated/);
        assert.equal(await jsonpath('deploy/web', '{.spec.template.spec.containers[*].image}'), 'nginx:1.28 busybox:1.37');
        await ok(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"C","value":"3"}]}]}}}}']);
        assert.equal(await jsonpath('deploy/web', '{.spec.template.spec.containers[0].env[*].name}'), 'C A');
        const bad = await k(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"image":"no-name"}]}}}}']);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /does not contain declared merge key: name/);
      });

      it('edits with $EDITOR', async () => {
        const editor = join(tmp, `editor-${version}.sh`);
        await writeFile(editor, '#!/bin/sh\nsed -i "s/replicas: 2/replicas: 4/" "$1"\n');
        await chmod(editor, 0o755);
        assert.match(await ok(['edit', 'deployment', 'web'], undefined, { EDITOR: editor, KUBE_EDITOR: editor }), /deployment.apps\/web edited/);
        assert.equal(await jsonpath('deploy/web', '{.spec.replicas}'), '4');
      });

      it('waits for conditions, JSONPath values and deletion', async () => {
        // The deployment controller reports progress even with no node to run the pods on.
        assert.match(await ok(['wait', '--for=condition=Progressing', 'deployment/web', '--timeout=10s']), /condition met/);
        assert.match(await ok(['wait', '--for=jsonpath={.spec.replicas}=4', 'deployment/web', '--timeout=10s']), /condition met/);
        await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'short-lived' } }));
        await ok(['delete', 'cm', 'short-lived', '--wait=false']);
        const waited = await k(['wait', '--for=delete', 'cm/short-lived', '--timeout=10s']);
        assert.equal(waited.code, 0, waited.stderr);
      });

      it('runs a custom resource through its life', async () => {
        const group = `v${version.replace('.', '')}.example.com`;
        const crd = {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: `backups.${group}` },
          spec: {
            group,
            scope: 'Namespaced',
            names: { plural: 'backups', singular: 'backup', kind: 'Backup' },
            versions: [{
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { schedule: { type: 'string' }, keep: { type: 'integer', default: 7 } } } } } },
              additionalPrinterColumns: [{ name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' }, { name: 'Keep', type: 'integer', jsonPath: '.spec.keep' }],
            }],
          },
        };
        await ok(['apply', '-f', '-'], JSON.stringify(crd));
        await ok(['wait', '--for=condition=Established', `crd/backups.${group}`, '--timeout=10s']);
        await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Backup', metadata: { name: 'nightly' }, spec: { schedule: '@daily' } }));
        assert.match(await ok(['get', `backups.${group}`]), /^nightly\s+@daily\s+7\s*$/m);
        await ok(['patch', `backups.${group}`, 'nightly', '--type=merge', '-p', '{"spec":{"keep":30}}']);
        assert.equal(await jsonpath(`backups.${group}/nightly`, '{.spec.keep}'), '30');
        await ok(['delete', `backups.${group}`, 'nightly']);
        await ok(['delete', 'crd', `backups.${group}`]);
      });

      it('lists everything with get all', async () => {
        const all = await ok(['get', 'all']);
        assert.match(all, /^deployment\.apps\/web\s+/m);
        assert.match(all, /^service\/gen-svc\s+ClusterIP\s+/m);
        assert.match(all, /^cronjob\.batch\/gen-cj\s+/m);
        assert.match(all, /^job\.batch\/gen-j\s+/m);
      });

      it('deletes with --cascade', async () => {
        await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } }));
        const uid = await jsonpath('cm/owner', '{.metadata.uid}');
        const ref = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }];
        await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'child', ownerReferences: ref } }));
        await ok(['delete', 'cm', 'owner', '--cascade=orphan']);
        assert.equal(await jsonpath('cm/child', '{.metadata.ownerReferences}'), '');
        await ok(['delete', 'deployment', 'web', '--cascade=foreground']);
        assert.notEqual((await k(['get', 'deployment', 'web'])).code, 0);
      });
    });
  }
});
