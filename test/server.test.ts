/**
 * `skiff server` as an operator sees it: files it writes, health and metrics, a clean SIGTERM,
 * a restart that resumes the cluster, acknowledged writes surviving `kill -9`, Events that
 * expire, the controllers it is told to run, and the same server on a real etcd.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, kubectl, portOf, startServer, type TestServer } from './helpers/cluster.ts';
import { apiClient } from './helpers/http.ts';
import { etcdUnavailableReason, startEtcd } from '../src/storage/etcd/test-etcd.ts';

const cm = (name: string, ns = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { k: name } });

describe('skiff server', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await cleanup(s);
  });

  it('writes its token and kubeconfig, answers health and metrics, and stops cleanly on SIGTERM', async () => {
    const server = await startServer();
    servers.push(server);
    const tokenFile = join(server.dataDir, 'server', 'token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
    assert.equal(statSync(server.kubeconfig).mode & 0o777, 0o600);

    const api = apiClient(server.kubeconfig);
    for (const path of ['/livez', '/readyz', '/healthz']) {
      const res = await api.request('GET', path);
      assert.equal(res.status, 200, path);
      assert.equal(res.body, 'ok');
    }
    const version = await api.request('GET', '/version');
    assert.equal(version.json.major, '1');
    await api.request('POST', '/api/v1/namespaces/default/configmaps', cm('counted'));
    const metrics = (await api.request('GET', '/metrics')).body;
    assert.match(metrics, /apiserver_request_total\{verb="POST",group="",version="v1",resource="configmaps",subresource="",code="201"\} 1/);
    assert.match(metrics, /apiserver_request_duration_seconds_bucket\{verb="POST",group="",version="v1",resource="configmaps",subresource="",le="\+Inf"\} 1/);
    // The embedded store's own figures: its log syncs (as etcd's WAL fsync histogram), commits
    // and the writes they carried — the ConfigMap and what the server wrote at start.
    const samples = new Map(metrics.split('\n').map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
    const value = (name: string) => samples.get(name) ?? NaN;
    const syncs = value('skiff_storage_wal_fsync_duration_seconds_count');
    assert.ok(syncs >= 1, `log syncs: ${syncs}`);
    assert.equal(value('skiff_storage_commits_total'), syncs);
    assert.ok(value('skiff_storage_writes_total') >= syncs);
    assert.equal(value('skiff_storage_wal_fsync_duration_seconds_bucket{le="+Inf"}'), syncs);
    assert.ok(value('skiff_storage_wal_fsync_duration_seconds_bucket{le="8.192"}') <= syncs);
    assert.ok(value('skiff_storage_wal_fsync_duration_seconds_sum') > 0);
    assert.match(metrics, /^# TYPE skiff_storage_wal_fsync_duration_seconds histogram$/m);
    assert.match(metrics, /^skiff_storage_wal_fsync_duration_seconds_bucket\{le="0\.008"\} \d+$/m);
    assert.match(metrics, /^# TYPE nodejs_gc_duration_seconds histogram$/m, "the API thread's collections");
    api.close();

    const started = Date.now();
    assert.equal(await server.stop(), 0);
    assert.ok(Date.now() - started < 5000, 'SIGTERM stops the server within 5 s');
    assert.match(server.log(), /SIGTERM received, shutting down/);

    // A restart on the same data dir resumes the cluster with the same token.
    const again = await startServer({ dataDir: server.dataDir });
    servers.push(again);
    assert.equal((await readFile(tokenFile, 'utf8')).trim(), token);
    const got = await kubectl(again, ['get', 'configmap', 'counted', '-o', 'jsonpath={.data.k}']);
    assert.equal(got.stdout, 'counted', got.stderr);
    // A watch from a revision before the restart is older than the new server's history: the
    // stream carries one ERROR event with a 410 Expired Status, and ends.
    const api2 = apiClient(again.kubeconfig);
    const old = await api2.request('GET', '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1');
    api2.close();
    assert.equal(old.status, 200);
    const event = JSON.parse(old.body.trim());
    assert.equal(event.type, 'ERROR');
    assert.equal(event.object.code, 410);
    assert.equal(event.object.reason, 'Expired');
  });

  it('keeps every acknowledged write across kill -9, and revisions never go backwards', async () => {
    const server = await startServer();
    servers.push(server);
    const api = apiClient(server.kubeconfig);
    const acknowledged = new Map<string, number>();
    let next = 0;
    let killed = false;
    const writer = async () => {
      while (!killed) {
        const name = `burst-${next++}`;
        try {
          const res = await api.request('POST', '/api/v1/namespaces/default/configmaps', cm(name));
          if (res.status === 201) acknowledged.set(name, Number(res.json.metadata.resourceVersion));
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const writers = Array.from({ length: 20 }, writer);
    // Kill once a good number of writes are acknowledged, while the rest are in flight.
    while (acknowledged.size < 300) await new Promise((r) => setTimeout(r, 5));
    await server.kill();
    killed = true;
    await Promise.all(writers);
    api.close();
    const highest = Math.max(...acknowledged.values());

    const again = await startServer({ dataDir: server.dataDir, port: portOf(server) });
    servers.push(again);
    const api2 = apiClient(again.kubeconfig);
    const list = await api2.request('GET', '/api/v1/namespaces/default/configmaps');
    const present = new Set<string>(list.json.items.map((i: any) => i.metadata.name));
    const lost = [...acknowledged.keys()].filter((name) => !present.has(name));
    assert.deepEqual(lost, [], `${lost.length} acknowledged writes were lost`);
    assert.ok(Number(list.json.metadata.resourceVersion) >= highest);
    const fresh = await api2.request('POST', '/api/v1/namespaces/default/configmaps', cm('after-crash'));
    assert.ok(Number(fresh.json.metadata.resourceVersion) > highest, 'the revision went on from where it was');
    api2.close();
  });

  it('runs the controllers --controllers names, as kube-controller-manager does', async () => {
    const server = await startServer({ extraArgs: ['--kube-controller-manager-arg', 'controllers=*,-deployment-controller'] });
    servers.push(server);
    assert.equal((await kubectl(server, ['create', 'deployment', 'left-alone', '--image=busybox'])).code, 0);
    assert.equal((await kubectl(server, ['create', 'job', 'runs', '--image=busybox'])).code, 0);
    // The Job controller runs (its pod appears); the Deployment controller does not.
    const deadline = Date.now() + 10_000;
    let pods = '';
    while (!/runs-/.test(pods) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      pods = (await kubectl(server, ['get', 'pods', '-o', 'name'])).stdout;
    }
    assert.match(pods, /pod\/runs-/);
    assert.equal((await kubectl(server, ['get', 'replicasets', '-o', 'name'])).stdout, '');
  });

  it('expires Events after the event TTL', async () => {
    const server = await startServer({ extraArgs: ['--kube-apiserver-arg', 'event-ttl=2s'] });
    servers.push(server);
    const api = apiClient(server.kubeconfig);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'short-lived', namespace: 'default' },
      involvedObject: { kind: 'ConfigMap', name: 'x', namespace: 'default' },
      reason: 'Testing',
      message: 'expires soon',
      type: 'Normal',
    };
    assert.equal((await api.request('POST', '/api/v1/namespaces/default/events', event)).status, 201);
    assert.equal((await api.request('GET', '/api/v1/namespaces/default/events/short-lived')).status, 200);
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await api.request('GET', '/api/v1/namespaces/default/events/short-lived')).status;
    }
    assert.equal(status, 404, 'the Event expired');
    api.close();
  });

  it('runs on a real etcd', { skip: etcdUnavailableReason() ?? false }, async () => {
    const etcd = await startEtcd();
    try {
      const server = await startServer({ datastoreEndpoint: etcd.endpoint });
      servers.push(server);
      const created = await kubectl(server, ['create', '-f', '-'], { input: JSON.stringify(cm('on-etcd')) });
      assert.equal(created.code, 0, created.stderr);
      const port = portOf(server);
      await server.stop();
      const again = await startServer({ dataDir: server.dataDir, datastoreEndpoint: etcd.endpoint, port });
      servers.push(again);
      const got = await kubectl(again, ['get', 'cm', 'on-etcd', '-o', 'jsonpath={.data.k}']);
      assert.equal(got.stdout, 'on-etcd', got.stderr);
      await again.stop();
    } finally {
      await etcd.stop();
    }
  });
});
