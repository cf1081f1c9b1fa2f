/**
 * Endpoints, EndpointSlices and the default ServiceAccount, against a real server with the real
 * kubectl: Services' Endpoints and slices follow their pods becoming ready, not ready and
 * deleted; named target ports resolve per pod; publishNotReadyAddresses publishes everything;
 * a Service without a selector keeps the user's Endpoints; every namespace gets a `default`
 * ServiceAccount. Pods get their IPs and readiness from a stand-in kubelet
 * (test/helpers/stand-in-kubelet.ts) on plain Node objects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startStandInKubelet, type StandInKubelet } from './helpers/stand-in-kubelet.ts';

const pod = (name: string, node: string, labels: string, ports = '[{name: http, containerPort: 8080}]') => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ep, labels: {${labels}}}
spec: {nodeName: ${node}, containers: [{name: c, image: busybox, ports: ${ports}}]}
`;

const objects = [
  `apiVersion: v1
kind: Namespace
metadata: {name: ep}
`,
  `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ep, labels: {tier: front}}
spec: {selector: {app: web}, ports: [{name: h, port: 80, targetPort: http}, {name: admin, port: 9000, targetPort: 9000}]}
`,
  `apiVersion: v1
kind: Service
metadata: {name: web-all, namespace: ep}
spec: {selector: {app: web}, publishNotReadyAddresses: true, ports: [{port: 80, targetPort: http}]}
`,
  `apiVersion: v1
kind: Service
metadata: {name: external, namespace: ep}
spec: {ports: [{port: 80}]}
`,
  `apiVersion: v1
kind: Endpoints
metadata: {name: external, namespace: ep}
subsets: [{addresses: [{ip: 192.0.2.7}], ports: [{port: 80}]}]
`,
  pod('web-1', 'n1', 'app: web'),
  pod('web-2', 'n2', 'app: web'),
  // The same app with its named port elsewhere, and one without the named port at all.
  pod('web-3', 'n1', 'app: web', '[{name: http, containerPort: 8081}]'),
  pod('web-4', 'n2', 'app: web', '[]'),
].join('---\n');

describe('endpoints and endpointslices', () => {
  let server: TestServer;
  let kubelet: StandInKubelet;
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
  /** Retries `check` until it passes (10 s at most). */
  const eventually = async (check: () => Promise<void>) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const ipOf = async (name: string) => (await json(['-n', 'ep', 'get', 'pod', name])).status.podIP as string;
  const addresses = (endpoints: any, field: 'addresses' | 'notReadyAddresses') =>
    (endpoints.subsets ?? []).flatMap((s: any) => (s[field] ?? []).map((a: any) => `${a.targetRef.name}@${a.ip}:${s.ports.map((p: any) => `${p.name ?? ''}=${p.port}`).join(',')}`)).sort();
  const slices = async (service: string) => (await json(['-n', 'ep', 'get', 'endpointslices', '-l', `kubernetes.io/service-name=${service}`])).items;

  before(async () => {
    server = await startServer();
    kubelet = await startStandInKubelet(server, { nodes: { n1: 'zone-a', n2: 'zone-b' }, readyByDefault: false });
    await ok(['apply', '-f', '-'], objects);
  });
  after(async () => {
    kubelet?.stop();
    await cleanup(server);
  });

  it('lists not-ready pods under notReadyAddresses, with named ports resolved per pod', async () => {
    await eventually(async () => {
      const ep = await json(['-n', 'ep', 'get', 'endpoints', 'web']);
      const [ip1, ip2, ip3] = [await ipOf('web-1'), await ipOf('web-2'), await ipOf('web-3')];
      assert.deepEqual(addresses(ep, 'notReadyAddresses'), [
        `web-1@${ip1}:admin=9000,h=8080`,
        `web-2@${ip2}:admin=9000,h=8080`,
        `web-3@${ip3}:admin=9000,h=8081`,
        // web-4 has no port named http: only the numeric target port reaches it.
        `web-4@${await ipOf('web-4')}:admin=9000`,
      ].sort());
      assert.deepEqual(addresses(ep, 'addresses'), []);
      assert.equal(ep.metadata.labels.tier, 'front', "the Service's labels");
    });
    const ep = await json(['-n', 'ep', 'get', 'endpoints', 'web']);
    const web1 = ep.subsets.flatMap((s: any) => s.notReadyAddresses ?? []).find((a: any) => a.targetRef.name === 'web-1');
    assert.equal(web1.nodeName, 'n1');
    assert.equal(web1.targetRef.kind, 'Pod');
    assert.equal(web1.targetRef.namespace, 'ep');
    const table = await ok(['-n', 'ep', 'get', 'endpoints', 'web']);
    // As upstream's printer: only ready addresses are shown, so the column is empty.
    assert.doesNotMatch(table, /^web\s+\S*10\.42\./m, 'no ready endpoints');
  });

  it('publishes every pod of a Service with publishNotReadyAddresses', async () => {
    await eventually(async () => {
      const ep = await json(['-n', 'ep', 'get', 'endpoints', 'web-all']);
      assert.equal(addresses(ep, 'addresses').length, 3, 'web-4 has no port for it');
      assert.deepEqual(addresses(ep, 'notReadyAddresses'), []);
      const [slice] = await slices('web-all');
      assert.ok(slice.endpoints.every((e: any) => e.conditions.ready === true && e.conditions.serving === false));
    });
  });

  it('follows pods becoming ready and not ready, updating slices in place', async () => {
    const before = await slices('web');
    const names = before.map((s: any) => s.metadata.name).sort();
    // Three port sets (8080+9000, 8081+9000, 9000 alone): one slice each.
    assert.equal(before.length, 3);
    for (const s of before) {
      assert.equal(s.addressType, 'IPv4');
      assert.equal(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
      assert.equal(s.metadata.generateName, 'web-');
      assert.equal(s.metadata.ownerReferences[0].kind, 'Service');
      assert.equal(s.metadata.ownerReferences[0].name, 'web');
      assert.equal(s.metadata.labels.tier, 'front');
    }
    await kubelet.setReady('ep/web-1', true);
    await kubelet.setReady('ep/web-2', true);
    const [ip1, ip2] = [await ipOf('web-1'), await ipOf('web-2')];
    await eventually(async () => {
      // kubectl shows three addresses and counts the rest.
      assert.match(await ok(['-n', 'ep', 'get', 'endpoints', 'web']), /^web\s+\S*10\.42\.\S+ \+ 1 more\.\.\./m);
      const ep = await json(['-n', 'ep', 'get', 'endpoints', 'web']);
      assert.deepEqual(addresses(ep, 'addresses'), [`web-1@${ip1}:admin=9000,h=8080`, `web-2@${ip2}:admin=9000,h=8080`]);
      assert.ok(ep.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time']);
    });
    await eventually(async () => {
      const all = await slices('web');
      const main = all.find((s: any) => s.ports.some((p: any) => p.port === 8080));
      const byPod = Object.fromEntries(main.endpoints.map((e: any) => [e.targetRef.name, e]));
      assert.deepEqual(byPod['web-1'].conditions, { ready: true, serving: true, terminating: false });
      assert.equal(byPod['web-1'].zone, 'zone-a');
      assert.equal(byPod['web-2'].zone, 'zone-b');
      assert.equal(byPod['web-2'].nodeName, 'n2');
      assert.deepEqual(byPod['web-2'].addresses, [ip2]);
    });
    const table = await ok(['-n', 'ep', 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
    assert.match(table, /ADDRESSTYPE\s+PORTS\s+ENDPOINTS/);

    await kubelet.setReady('ep/web-1', false);
    await eventually(async () => {
      const ep = await json(['-n', 'ep', 'get', 'endpoints', 'web']);
      assert.deepEqual(addresses(ep, 'addresses'), [`web-2@${ip2}:admin=9000,h=8080`]);
      assert.ok(addresses(ep, 'notReadyAddresses').includes(`web-1@${ip1}:admin=9000,h=8080`));
      const main = (await slices('web')).find((s: any) => s.ports.some((p: any) => p.port === 8080));
      assert.equal(main.endpoints.find((e: any) => e.targetRef.name === 'web-1').conditions.ready, false);
    });
    assert.deepEqual((await slices('web')).map((s: any) => s.metadata.name).sort(), names, 'the same slices, updated in place');
  });

  it('drops deleted pods and pods whose labels stop matching', async () => {
    const names = (await slices('web')).map((s: any) => s.metadata.name).sort();
    await ok(['-n', 'ep', 'delete', 'pod', 'web-2', '--wait=true']);
    await ok(['-n', 'ep', 'label', 'pod', 'web-3', 'app=other', '--overwrite']);
    await eventually(async () => {
      const ep = await json(['-n', 'ep', 'get', 'endpoints', 'web']);
      const all = [...addresses(ep, 'addresses'), ...addresses(ep, 'notReadyAddresses')].map((a: string) => a.split('@')[0]).sort();
      assert.deepEqual(all, ['web-1', 'web-4']);
      const remaining = await slices('web');
      // web-3's port set is gone with it; the other two slices stay where they were.
      assert.equal(remaining.length, 2);
      assert.ok(remaining.every((s: any) => names.includes(s.metadata.name)));
      assert.deepEqual(remaining.flatMap((s: any) => s.endpoints.map((e: any) => e.targetRef.name)).sort(), ['web-1', 'web-4']);
    });
  });

  it('leaves the Endpoints of a Service without a selector alone', async () => {
    const ep = await json(['-n', 'ep', 'get', 'endpoints', 'external']);
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '192.0.2.7' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
    assert.deepEqual(await slices('external'), [], 'no slices for a Service without a selector');
  });

  it('removes the Endpoints of a deleted Service; its slices go with it', async () => {
    await ok(['-n', 'ep', 'delete', 'service', 'web-all']);
    await eventually(async () => {
      const r = await kubectl(server, ['-n', 'ep', 'get', 'endpoints', 'web-all']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /NotFound|not found/);
      assert.deepEqual(await slices('web-all'), []);
    });
  });

  it('keeps a placeholder slice for a Service with no pods', async () => {
    await ok(['-n', 'ep', 'create', 'service', 'clusterip', 'lonely', '--tcp=80:80']);
    await eventually(async () => {
      const all = await slices('lonely');
      assert.equal(all.length, 1);
      assert.deepEqual(all[0].endpoints ?? [], []);
      const ep = await json(['-n', 'ep', 'get', 'endpoints', 'lonely']);
      assert.deepEqual(ep.subsets ?? [], []);
    });
  });

  it('gives every namespace a default ServiceAccount, and makes it again when deleted', async () => {
    await ok(['create', 'namespace', 'fresh']);
    await eventually(async () => assert.match(await ok(['-n', 'fresh', 'get', 'sa']), /^default\s/m));
    await ok(['-n', 'fresh', 'delete', 'sa', 'default']);
    await eventually(async () => assert.match(await ok(['-n', 'fresh', 'get', 'sa']), /^default\s/m));
  });
});
