/**
 * Images in pods and bad input on the node, end to end as root: a `skiff server` with its
 * embedded agent on real runc, images from real registries on 127.0.0.1 (Debian's
 * `docker-registry`, one of them behind htpasswd basic auth), the real kubectl. Pulls by tag and
 * by digest, the three pull policies, pull secrets (the pod's and its ServiceAccount's),
 * ErrImagePull → ImagePullBackOff and recovery once the image is pushed, and each kind of bad
 * input — missing image, wrong digest, unreachable registry, bad command, missing ConfigMap, a
 * memory limit too small — with the reasons and events upstream gives, while a healthy pod keeps
 * running. At the end every pod is deleted and nothing of them remains on the machine.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { RegistryClient, writeTar } from '../src/kubelet/index.ts';
import { buildImage, busyboxLayer, pushImage, type BuiltImage } from '../scripts/build-images.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { freePort, registryBlobPath, startProxy, startRegistry, type TestRegistry } from './helpers/registry.ts';
import { settled, until } from './helpers/until.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? undefined : 'needs root: runs real containers';

/** Image pull back-off of the agent under test: 1 s doubling to 4 s (upstream: 10 s to 5 min). */
const PULL_BACKOFF_S = 1;
const PULL_BACKOFF_MAX_S = 4;

function podManifest(name: string, spec: Record<string, unknown>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, ...spec } as Pod['spec'] };
}

/** busybox plus a layer of its own: an image no other test has pulled (its own blobs). */
function uniqueImage(): BuiltImage {
  const marker = writeTar([{ name: 'marker', type: 'file', data: Buffer.from(`skiff-test ${randomBytes(16).toString('hex')}\n`) }]);
  return buildImage({ layers: [busyboxLayer(), marker], config: { Cmd: ['sh'] } });
}

/** The digests of an image's layers, top first (the unique marker layer first). */
function layerDigests(image: BuiltImage): string[] {
  return (JSON.parse(image.top.bytes.toString()) as { layers: { digest: string }[] }).layers.map((l) => l.digest).reverse();
}

/** Every file name under a directory (recursively). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('kubelet: images in pods and bad input', { skip, concurrency: true, timeout: 150_000 }, () => {
  let registry: TestRegistry & { busybox: string };
  let secured: TestRegistry;
  let server: TestServer;
  let client: Client;
  let transport: HttpTransport;
  let stopWatch: (() => void) | undefined;
  let steadyId = '';
  const node = uniqueNode();
  const auth = { username: 'skiff', password: randomBytes(8).toString('hex') };
  const bb = () => registry.busybox;
  /** Every waiting/terminated reason each pod's first container went through, as a watch saw them. */
  const reasons = new Map<string, string[]>();

  const get = (name: string) => client.resource(kinds.pods).get('default', name);
  const create = (pod: Pod) => client.resource(kinds.pods).create(pod);
  const events = async (name: string): Promise<Event[]> => (await client.resource(kinds.events).list({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;
  /** A pod's events as lines, once `ready` holds for them (the kubelet writes events a moment after recording them). */
  const eventLines = (name: string, ready: (lines: string[]) => boolean) => settled(async () => (await events(name)).map((e) => `${e.type} ${e.reason}: ${e.message}`), ready);
  const running = (name: string, timeoutMs = 30_000) => until(`${name} Running`, async () => { const p = await get(name); return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running && p; }, timeoutMs);
  const waitingWith = (name: string, reason: string, timeoutMs = 30_000) =>
    until(`${name} waiting with ${reason}`, async () => { const p = await get(name); const w = p.status?.containerStatuses?.[0]?.state?.waiting; return w?.reason === reason && w; }, timeoutMs);
  /** The first `n` reasons (ContainerCreating aside) a watch saw for a pod's first container. */
  const firstReasons = (name: string, n: number) =>
    until(`${n} states of ${name} seen by the watch`, async () => { const r = (reasons.get(name) ?? []).filter((x) => x !== 'ContainerCreating'); return r.length >= n && r.slice(0, n); }, 10_000);
  const deleteAndWait = async (name: string) => {
    await client.resource(kinds.pods).delete('default', name, { gracePeriodSeconds: 1 }).catch(() => {});
    await until(`pod ${name} gone`, async () => (await get(name).then(() => false, () => true)) || undefined, 30_000);
  };
  const kc = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    [registry, secured] = await Promise.all([imageRegistry(), startRegistry({ basicAuth: auth })]);
    await pushImage(new RegistryClient(), secured.host, 'private/busybox', 'latest', uniqueImage(), auth);
    server = await startServer({
      agent: true,
      extraArgs: ['--node-name', node.nodeName, '--cluster-cidr', node.podCidr, '--kubelet-arg', `image-pull-backoff=${PULL_BACKOFF_S}s`, '--kubelet-arg', `image-pull-backoff-max=${PULL_BACKOFF_MAX_S}s`],
    });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
    stopWatch = await client.resource(kinds.pods).watch({ namespace: 'default' }, (e) => {
      const name = e.object.metadata?.name ?? '';
      const state = e.object.status?.containerStatuses?.[0]?.state;
      const reason = state?.waiting?.reason ?? state?.terminated?.reason ?? (state?.running ? 'Running' : undefined);
      if (!reason) return;
      const seen = reasons.get(name) ?? [];
      if (seen.at(-1) !== reason) seen.push(reason);
      reasons.set(name, seen);
    }, () => {});
    // The healthy pod: Running before the bad input arrives, and all along (checked at the end).
    await create(podManifest('steady', { containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'] }] }));
    steadyId = (await running('steady')).status!.containerStatuses![0]!.containerID!;
  });

  after(async () => {
    // Every check runs and everything is cleaned up whatever fails; the first failure is reported.
    const problems: unknown[] = [];
    const check = async (fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (error) {
        problems.push(error);
      }
    };
    try {
      if (server) {
        // The agent kept serving: the healthy pod never restarted, and a new pod still starts.
        await check(async () => {
          const steady = await get('steady');
          assert.equal(steady.status?.phase, 'Running');
          assert.equal(steady.status!.containerStatuses![0]!.containerID, steadyId, 'the healthy pod kept its container');
          assert.equal(steady.status!.containerStatuses![0]!.restartCount, 0);
          const steadyStates = reasons.get('steady') ?? [];
          assert.equal(steadyStates.at(-1), 'Running');
          assert.deepEqual(steadyStates.filter((r) => r !== 'ContainerCreating' && r !== 'Running'), [], `the healthy pod went through ${steadyStates}`);
        });
        await check(async () => {
          await create(podManifest('fresh', { containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'] }] }));
          await running('fresh');
        });
        if (process.env.SKIFF_TEST_LOG) console.error('reasons seen', JSON.stringify([...reasons]));
        // Every pod goes; then nothing of them may remain.
        await check(async () => {
          const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
          await Promise.all(pods.items.map((p) => deleteAndWait(p.metadata!.name!)));
          assert.deepEqual(nodeLeftovers(node.nodeName, server.dataDir, node.octet), [], 'nothing of the pods remains after they are deleted');
        });
      }
    } finally {
      stopWatch?.();
      if (server) {
        if (process.env.SKIFF_TEST_LOG) console.error(server.log());
        await server.stop().catch((error: unknown) => problems.push(error));
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
        await check(() => assert.deepEqual(nodeLeftovers(node.nodeName, server.dataDir, node.octet, { all: true }), []));
      }
      await cleanup(server).catch((error: unknown) => problems.push(error));
      await Promise.all([registry?.stop(), secured?.stop()]);
    }
    if (problems.length > 0) throw problems[0];
  });

  test('pull by tag and by digest: imageID carries the digest, image is as given', async () => {
    const head = await fetch(`http://${registry.host}/v2/busybox/manifests/latest`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    const digest = head.headers.get('docker-content-digest')!;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const byDigest = `${registry.host}/busybox@${digest}`;
    await create(podManifest('by-tag', { containers: [{ name: 'c', image: bb(), imagePullPolicy: 'Always', command: ['sleep', '3600'] }] }));
    await create(podManifest('by-digest', { containers: [{ name: 'c', image: byDigest, command: ['sleep', '3600'] }] }));
    const [tag, dig] = await Promise.all([running('by-tag'), running('by-digest')]);
    assert.equal(tag.status!.containerStatuses![0]!.image, bb());
    assert.equal(tag.status!.containerStatuses![0]!.imageID, byDigest);
    assert.equal(dig.status!.containerStatuses![0]!.image, byDigest);
    assert.equal(dig.status!.containerStatuses![0]!.imageID, byDigest);
    // Always pulls although the image is present: Pulling, then Pulled with upstream's wording.
    const lines = await eventLines('by-tag', (all) => all.some((l) => l.startsWith('Normal Pulled: ')));
    assert.ok(lines.includes(`Normal Pulling: Pulling image "${bb()}"`), lines.join('\n'));
    const pulled = lines.find((l) => l.startsWith('Normal Pulled: '));
    assert.match(pulled ?? '', new RegExp(`^Normal Pulled: Successfully pulled image "${bb().replace(/[.]/g, '\\.')}" in \\d+(\\.\\d+)?m?s \\(\\d+(\\.\\d+)?m?s including waiting\\)\\. Image size: \\d+ bytes\\.$`), lines.join('\n'));
    // kubectl shows the digest too.
    assert.equal(await kc(['get', 'pod', 'by-digest', '-o', 'jsonpath={.status.containerStatuses[0].imageID}']), byDigest);
  });

  test('imagePullPolicy: IfNotPresent uses the present image; Never without the image is ErrImageNeverPull', async () => {
    const absent = `${registry.host}/busybox:never-pulled`;
    await create(podManifest('present', { containers: [{ name: 'c', image: bb(), imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] }));
    await create(podManifest('never-present', { containers: [{ name: 'c', image: bb(), imagePullPolicy: 'Never', command: ['sleep', '3600'] }] }));
    await create(podManifest('never-absent', { containers: [{ name: 'c', image: absent, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] }));
    await Promise.all([running('present'), running('never-present')]);
    for (const name of ['present', 'never-present']) {
      const lines = await eventLines(name, (all) => all.some((l) => l.startsWith('Normal Started: ')));
      assert.ok(lines.includes(`Normal Pulled: Container image "${bb()}" already present on machine`), lines.join('\n'));
      assert.ok(!lines.some((l) => l.includes('Pulling')), lines.join('\n'));
    }
    const w = await waitingWith('never-absent', 'ErrImageNeverPull');
    assert.equal(w.message, `Container image "${absent}" is not present with pull policy of Never`);
    const lines = await eventLines('never-absent', (all) => all.includes('Warning Failed: Error: ErrImageNeverPull'));
    assert.ok(lines.includes(`Warning ErrImageNeverPull: Container image "${absent}" is not present with pull policy of Never`), lines.join('\n'));
    assert.ok(lines.includes('Warning Failed: Error: ErrImageNeverPull'), lines.join('\n'));
    assert.equal((await get('never-absent')).status?.phase, 'Pending');
  });

  test('imagePullSecrets: without the secret ErrImagePull → ImagePullBackOff; with it (or its ServiceAccount\'s) the pod runs', async () => {
    const image = `${secured.host}/private/busybox:latest`;
    await kc(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${secured.host}`, `--docker-username=${auth.username}`, `--docker-password=${auth.password}`]);
    await kc(['create', 'serviceaccount', 'puller']);
    await kc(['patch', 'serviceaccount', 'puller', '-p', '{"imagePullSecrets":[{"name":"regcred"}]}']);
    // Always: each pod's own credentials decide, not an earlier pod's pull.
    const container = { name: 'c', image, imagePullPolicy: 'Always', command: ['sleep', '3600'] };
    await create(podManifest('no-secret', { containers: [container] }));
    const w = await waitingWith('no-secret', 'ImagePullBackOff');
    assert.match(w.message!, new RegExp(`^Back-off pulling image "${image.replace(/[.]/g, '\\.')}": ErrImagePull: registry ${secured.host.replace(/[.]/g, '\\.')} refused access to private/busybox without credentials: HTTP 401 Unauthorized \\(UNAUTHORIZED: authentication required\\)$`));
    assert.deepEqual(await firstReasons('no-secret', 2), ['ErrImagePull', 'ImagePullBackOff']);
    const lines = await eventLines('no-secret', (all) => all.includes('Warning Failed: Error: ImagePullBackOff'));
    assert.ok(lines.some((l) => l.startsWith(`Warning Failed: Failed to pull image "${image}": `) && l.includes('401 Unauthorized')), lines.join('\n'));
    assert.ok(lines.includes(`Normal BackOff: Back-off pulling image "${image}"`), lines.join('\n'));
    assert.ok(lines.includes('Warning Failed: Error: ImagePullBackOff'), lines.join('\n'));

    await create(podManifest('with-secret', { imagePullSecrets: [{ name: 'regcred' }], containers: [container] }));
    await create(podManifest('via-sa', { serviceAccountName: 'puller', containers: [container] }));
    await Promise.all([running('with-secret'), running('via-sa')]);
    // The ServiceAccount admission copied the secret into the pod, as upstream's does.
    assert.deepEqual((await get('via-sa')).spec?.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal((await get('no-secret')).status?.containerStatuses?.[0]?.state?.running, undefined);
  });

  test('ErrImagePull → ImagePullBackOff with back-off doubling; recovered once the image is pushed', async () => {
    // Pulls go through a proxy that tells when each attempt reached the registry.
    const proxy = await startProxy(registry.host);
    const attempts: number[] = [];
    let manifestRequests = 0;
    const sampler = setInterval(() => {
      const n = proxy.requests.filter((r) => r.includes('/manifests/')).length;
      if (n === manifestRequests) return;
      manifestRequests = n;
      // Requests within half a second of the last belong to the same attempt.
      if (attempts.length === 0 || Date.now() - attempts.at(-1)! > 500) attempts.push(Date.now());
    }, 20);
    try {
      const image = `${proxy.host}/late/busybox:1.0`;
      await create(podManifest('late', { containers: [{ name: 'c', image, command: ['sleep', '3600'] }] }));
      const w = await waitingWith('late', 'ImagePullBackOff');
      assert.equal(w.message, `Back-off pulling image "${image}": ErrImagePull: manifest for ${image} not found in the registry`);
      // Attempts spaced by the back-off: 1 s, 2 s, 4 s, then 4 s (the maximum).
      await until('five pull attempts', async () => attempts.length >= 5, 20_000);
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
      const expected = [1, 2, 4, 4].map((s) => Math.min(s, PULL_BACKOFF_MAX_S) * PULL_BACKOFF_S * 1000);
      gaps.slice(0, 4).forEach((gap, i) => assert.ok(gap >= expected[i]! - 100 && gap < expected[i]! + 1000, `gap ${i + 1}: ${gap} ms, back-off ${expected[i]} ms (gaps ${gaps.join(', ')})`));
      assert.deepEqual(await firstReasons('late', 2), ['ErrImagePull', 'ImagePullBackOff']);
      // The image appears: the next attempt (at most the longest back-off later) pulls it.
      const pushed = Date.now();
      await pushImage(new RegistryClient(), registry.host, 'late/busybox', '1.0', uniqueImage());
      await running('late', (PULL_BACKOFF_MAX_S + 10) * 1000);
      const recoveredMs = Date.now() - pushed;
      assert.ok(recoveredMs < (PULL_BACKOFF_MAX_S + 3) * 1000, `recovered ${recoveredMs} ms after the push`);
      if (process.env.SKIFF_TEST_LOG) console.error(`pull attempts ${gaps.map((g) => `${g} ms`).join(', ')} apart; Running ${recoveredMs} ms after the push`);
      assert.match((await get('late')).status!.containerStatuses![0]!.imageID, new RegExp(`^${proxy.host.replace(/[.]/g, '\\.')}/late/busybox@sha256:`));
    } finally {
      clearInterval(sampler);
      await proxy.stop();
    }
  });

  test('bad images: missing, wrong digest (refused, nothing stored), unreachable registry', async () => {
    const missing = `${registry.host}/busybox:no-such-tag`;
    const closed = `127.0.0.1:${await freePort()}/busybox:latest`;
    // A registry serving a layer whose bytes do not match its digest.
    const corrupt = uniqueImage();
    await pushImage(new RegistryClient(), registry.host, 'corrupt', '1.0', corrupt);
    const [bad] = layerDigests(corrupt);
    const blob = registryBlobPath(registry, bad!);
    writeFileSync(blob, randomBytes(corrupt.blobs.get(bad!)!.length));
    const tampered = `${registry.host}/corrupt:1.0`;
    for (const [name, image] of [['missing', missing], ['tampered', tampered], ['unreachable', closed]] as const) {
      await create(podManifest(name, { containers: [{ name: 'c', image, command: ['sleep', '3600'] }] }));
    }
    const check = async (name: string, image: string, message: RegExp) => {
      const w = await waitingWith(name, 'ImagePullBackOff');
      assert.match(w.message!, new RegExp(`^Back-off pulling image "${image.replace(/[.]/g, '\\.')}": ErrImagePull: ${message.source}`));
      const lines = await eventLines(name, (all) => all.includes('Warning Failed: Error: ErrImagePull'));
      assert.ok(lines.some((l) => l.startsWith(`Warning Failed: Failed to pull image "${image}": `) && message.test(l)), lines.join('\n'));
      assert.ok(lines.includes('Warning Failed: Error: ErrImagePull'), lines.join('\n'));
      assert.equal((await get(name)).status?.phase, 'Pending');
    };
    await Promise.all([
      check('missing', missing, new RegExp(`manifest for ${missing.replace(/[.]/g, '\\.')} not found in the registry`)),
      check('tampered', tampered, /.*content has digest sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}; refused and not stored/),
      check('unreachable', closed, new RegExp(`cannot reach registry ${closed.split('/')[0]!.replace(/[.]/g, '\\.')} .*connection refused`)),
    ]);
    // Nothing of the tampered layer is in the agent's image store, and no partial download is
    // left: the pull is retried every few seconds (back-off), so a retry's download may be under
    // way at any moment, but between attempts nothing remains.
    const images = join(server.dataDir, 'agent', 'images');
    assert.deepEqual(filesUnder(images).filter((f) => f.includes(bad!.slice(7))), []);
    await until('no download in progress', async () => filesUnder(images).every((f) => !f.includes('/ingest/')), 15_000);
    assert.equal((await kc(['get', 'pod', 'tampered', '-o', 'jsonpath={.status.containerStatuses[0].imageID}'])), '');
  });

  test('bad command: StartError (exit 128) with runc\'s error; RunContainerError, then CrashLoopBackOff', async () => {
    await create(podManifest('badcmd-once', { restartPolicy: 'Never', containers: [{ name: 'c', image: bb(), command: ['/nope'] }] }));
    await create(podManifest('badcmd', { containers: [{ name: 'c', image: bb(), command: ['/nope'] }] }));
    const once = await until('badcmd-once Failed', async () => { const p = await get('badcmd-once'); return p.status?.phase === 'Failed' && p; });
    const t = once.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, 'StartError');
    assert.equal(t.exitCode, 128);
    // runc's own words (its quotes come escaped from runc's log today).
    assert.match(t.message!, /unable to start container process: exec: \\?"\/nope\\?": stat \/nope: no such file or directory/);
    const lines = await eventLines('badcmd-once', (all) => all.some((l) => l.startsWith('Warning Failed: Error: ')));
    assert.ok(lines.some((l) => l.startsWith('Warning Failed: Error: ') && /exec: \\?"\/nope\\?": stat \/nope: no such file or directory/.test(l)), lines.join('\n'));
    // restartPolicy Always: waits to be restarted, the failed attempt in lastState.
    const w = await waitingWith('badcmd', 'CrashLoopBackOff');
    assert.match(w.message!, /^back-off 10s restarting failed container=c pod=badcmd_default\(/);
    const cs = (await get('badcmd')).status!.containerStatuses![0]!;
    assert.equal(cs.lastState?.terminated?.reason, 'StartError');
    assert.equal(cs.lastState?.terminated?.exitCode, 128);
    assert.match(cs.lastState!.terminated!.message!, /no such file or directory/);
    assert.deepEqual(await firstReasons('badcmd', 2), ['RunContainerError', 'CrashLoopBackOff']);
  });

  test('volume of a missing ConfigMap: FailedMount, ContainerCreating until the ConfigMap exists', async () => {
    await create(podManifest('needs-cm', {
      containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'cat /cfg/greeting; echo; sleep 3600'], volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }],
      volumes: [{ name: 'cfg', configMap: { name: 'late-cm' } }],
    }));
    const failed = await until('FailedMount event', async () => (await events('needs-cm')).find((e) => e.reason === 'FailedMount'));
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.message, 'MountVolume.SetUp failed for volume "cfg" : configmap "late-cm" not found');
    const pod = await get('needs-cm');
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating', 'ContainerCreating');
    assert.match(await kc(['get', 'pod', 'needs-cm', '--no-headers']), /\bContainerCreating\b/);
    const createdAt = Date.now();
    await kc(['create', 'configmap', 'late-cm', '--from-literal=greeting=hello']);
    await running('needs-cm', 20_000);
    const startedMs = Date.now() - createdAt;
    assert.ok(startedMs < 8000, `Running ${startedMs} ms after the ConfigMap was created`);
    assert.equal(await until('needs-cm log', async () => (await kc(['logs', 'needs-cm'])) || undefined, 10_000), 'hello\n');
  });

  test('memory limit below what the process needs: OOMKilled, exit 137', async () => {
    await create(podManifest('oom', {
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'tail /dev/zero'], resources: { limits: { memory: '32Mi' } } }],
    }));
    const pod = await until('oom Failed', async () => { const p = await get('oom'); return p.status?.phase === 'Failed' && p; }, 40_000);
    const t = pod.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, 'OOMKilled', JSON.stringify(t));
    assert.equal(t.exitCode, 137);
  });
});
