/**
 * Protobuf request bodies from the real kubectl. kubectl 1.32+ sends the objects its `create`
 * generators build as `application/vnd.kubernetes.protobuf`; a capture server records those
 * bytes, and the decoder must turn them into the object the same command prints with
 * `--dry-run=client -o json`.
 *
 * The capture server is a plain `node:http` server on loopback, not Skiff: it answers
 * discovery for the kinds the generators need, records every POST body, and answers it with the
 * decoded object, so kubectl sees a successful create.
 *
 * With SKIFF_WRITE_PROTOBUF_FIXTURES=1 the captures are also written to
 * `src/apiserver/protobuf/fixtures/`, which the unit tests decode without kubectl.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtobufBody, ProtobufError } from '../src/apiserver/protobuf/index.ts';
import { kubectl, kubectlBinary } from './helpers/cluster.ts';

const FIXTURES = resolve(import.meta.dirname, '..', 'src', 'apiserver', 'protobuf', 'fixtures');
const WRITE_FIXTURES = process.env.SKIFF_WRITE_PROTOBUF_FIXTURES === '1';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** Each generator: a fixture name and kubectl's arguments. (`kubectl run` sends JSON.) */
const GENERATORS: readonly (readonly [name: string, args: readonly string[]])[] = [
  ['deployment', ['create', 'deployment', 'd', '--image=nginx', '--replicas=3', '--port=80']],
  ['deployment-zero-replicas', ['create', 'deployment', 'z', '--image=nginx', '--image=busybox', '--replicas=0']],
  ['configmap', ['create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=empty=']],
  ['secret-generic', ['create', 'secret', 'generic', 's', '--from-literal=k=v', '--type=Opaque']],
  ['secret-docker-registry', ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p']],
  ['namespace', ['create', 'namespace', 'n']],
  ['job', ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi']],
  ['cronjob', ['create', 'cronjob', 'c', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date']],
  ['service-clusterip', ['create', 'service', 'clusterip', 's', '--tcp=80:8080']],
  ['service-clusterip-headless', ['create', 'service', 'clusterip', 'h', '--clusterip=None']],
  ['service-nodeport', ['create', 'service', 'nodeport', 'np', '--tcp=5678:http', '--node-port=30080']],
  ['serviceaccount', ['create', 'serviceaccount', 'sa']],
  ['role', ['create', 'role', 'r', '--verb=get', '--verb=list', '--resource=pods', '--resource=deployments.apps']],
  ['rolebinding', ['create', 'rolebinding', 'rb', '--role=r', '--user=u', '--serviceaccount=default:sa']],
  ['clusterrole', ['create', 'clusterrole', 'cr', '--verb=list', '--resource=nodes']],
  ['clusterrolebinding', ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--group=g']],
  ['quota', ['create', 'quota', 'q', '--hard=pods=10,requests.cpu=500m,limits.memory=1Gi', '--scopes=NotTerminating']],
  ['priorityclass', ['create', 'priorityclass', 'pc', '--value=1000', '--description=high']],
  ['priorityclass-zero', ['create', 'priorityclass', 'zero', '--value=0', '--preemption-policy=Never']],
  ['poddisruptionbudget', ['create', 'poddisruptionbudget', 'p', '--selector=app=x', '--min-available=1']],
  ['poddisruptionbudget-percent', ['create', 'poddisruptionbudget', 'pp', '--selector=app=x', '--max-unavailable=50%']],
  ['ingress', ['create', 'ingress', 'ing', '--rule=foo.example/bar*=svc:8080,tls=secret', '--class=nginx']],
];

/** Versions whose generators send protobuf; each is skipped (with its reason) if absent. */
const VERSIONS = ['1.32', '1.33'] as const;

/**
 * What `-o json` prints that a decoded body lacks: members whose value is `null`, removed from
 * kubectl's JSON only (the decoded object is compared as it is). Go prints nil slices, maps and
 * pointers of fields without `omitempty`, and the zero `metav1.Time`, as null
 * (`creationTimestamp: null`, `rules: null`); on the wire they are absent, and an absent member
 * is what a JSON client means by null. Nothing else is normalized: empty structs (`status: {}`,
 * `resources: {}`) are printed by Go and decoded alike, and array elements are never removed.
 */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== null) out[key] = normalize(member);
  }
  return out;
}

/** A POST the capture server received. */
interface Capture {
  path: string;
  contentType: string;
  body: Buffer;
}

/** Discovery documents for the kinds the generators create. */
const RESOURCES: Record<string, [plural: string, kind: string, namespaced: boolean][]> = {
  v1: [
    ['namespaces', 'Namespace', false],
    ['configmaps', 'ConfigMap', true],
    ['secrets', 'Secret', true],
    ['services', 'Service', true],
    ['serviceaccounts', 'ServiceAccount', true],
    ['resourcequotas', 'ResourceQuota', true],
    ['pods', 'Pod', true],
    ['nodes', 'Node', false],
  ],
  'apps/v1': [['deployments', 'Deployment', true]],
  'batch/v1': [['jobs', 'Job', true], ['cronjobs', 'CronJob', true]],
  'rbac.authorization.k8s.io/v1': [
    ['roles', 'Role', true],
    ['rolebindings', 'RoleBinding', true],
    ['clusterroles', 'ClusterRole', false],
    ['clusterrolebindings', 'ClusterRoleBinding', false],
  ],
  'scheduling.k8s.io/v1': [['priorityclasses', 'PriorityClass', false]],
  'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget', true]],
  'networking.k8s.io/v1': [['ingresses', 'Ingress', true]],
};

function discovery(path: string): unknown {
  if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (path === '/apis') {
    const groups = Object.keys(RESOURCES).filter((gv) => gv.includes('/')).map((gv) => {
      const [group, version] = gv.split('/') as [string, string];
      const preferred = { groupVersion: gv, version };
      return { name: group, versions: [preferred], preferredVersion: preferred };
    });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  const groupVersion = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : '';
  const resources = RESOURCES[groupVersion];
  if (!resources) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources.map(([name, kind, namespaced]) => ({
      name,
      singularName: kind.toLowerCase(),
      namespaced,
      kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    })),
  };
}

function respond(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, body: Buffer, res: ServerResponse, captures: Capture[]): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method === 'POST') {
    const contentType = req.headers['content-type'] ?? '';
    captures.push({ path, contentType, body });
    try {
      const object = contentType === PROTOBUF ? decodeProtobufBody(body).object : JSON.parse(body.toString());
      respond(res, 201, object);
    } catch (error) {
      const message = error instanceof ProtobufError ? error.message : String(error);
      respond(res, 400, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message });
    }
    return;
  }
  const document = req.method === 'GET' ? discovery(path) : undefined;
  if (document) respond(res, 200, document);
  else respond(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
}

function installed(version: string): boolean {
  try {
    return existsSync(kubectlBinary(version));
  } catch {
    return false; // no kubectl on PATH at all
  }
}

describe('protobuf bodies from the real kubectl', () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;
  const captures: Capture[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-protobuf-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => handle(req, Buffer.concat(chunks), res, captures));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(dir, 'kubeconfig.yaml');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: capture, cluster: {server: "http://127.0.0.1:' + port + '"}}]',
        'users: [{name: nobody, user: {}}]',
        'contexts: [{name: capture, context: {cluster: capture, user: nobody, namespace: default}}]',
        'current-context: capture',
      ].join('\n'),
    );
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  for (const version of VERSIONS) {
    const missing = installed(version) ? false : `kubectl ${version} is not installed`;
    describe(`kubectl ${version}`, { skip: missing }, () => {
      for (const [name, args] of GENERATORS) {
        it(`kubectl ${args.slice(0, args[1] === 'secret' || args[1] === 'service' ? 3 : 2).join(' ')} (${name})`, async () => {
          // Flags go before `--`, after which come the container's command and arguments.
          const split = args.includes('--') ? args.indexOf('--') : args.length;
          const dryRun = [...args.slice(0, split), '--dry-run=client', '-o', 'json', ...args.slice(split)];
          const printed = await kubectl({ kubeconfig }, dryRun, { version });
          assert.equal(printed.code, 0, printed.stderr);

          captures.length = 0;
          const created = await kubectl({ kubeconfig }, [...args], { version });
          assert.equal(created.code, 0, created.stderr);
          assert.equal(captures.length, 1, `expected one POST, got ${captures.map((c) => c.path).join(', ')}`);
          const [capture] = captures as [Capture];
          assert.equal(capture.contentType, PROTOBUF);

          const expected = normalize(JSON.parse(printed.stdout));
          assert.deepStrictEqual(decodeProtobufBody(capture.body).object, expected);

          if (WRITE_FIXTURES) {
            const fixture = { kubectl: version, command: ['kubectl', ...args], protobuf: capture.body.toString('base64'), json: expected };
            await writeFile(join(FIXTURES, `kubectl-${version}-${name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
          }
        });
      }

      it('kubectl create token (TokenRequest, which has no --dry-run)', async () => {
        captures.length = 0;
        // The capture server echoes the request, whose status has no token: kubectl fails after
        // sending it, which does not matter here.
        await kubectl({ kubeconfig }, ['create', 'token', 'sa', '--duration=1h', '--audience=a', '--audience=b'], { version });
        assert.equal(captures.length, 1);
        const [capture] = captures as [Capture];
        assert.equal(capture.path, '/api/v1/namespaces/default/serviceaccounts/sa/token');
        assert.equal(capture.contentType, PROTOBUF);
        assert.deepStrictEqual(decodeProtobufBody(capture.body).object, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          metadata: {},
          // expirationSeconds is a pointer; status.token has no omitempty, so "" stays.
          spec: { audiences: ['a', 'b'], expirationSeconds: 3600 },
          status: { token: '' },
        });
      });
    });
  }
});
