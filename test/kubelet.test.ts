/**
 * The node agent end to end, as root, with real runc containers and the real kubectl: a
 * `skiff server` with its embedded agent (a node name, pod subnet, bridge and cgroup root unique
 * to the run), images from a real registry on 127.0.0.1. Independent scenarios run at once on
 * one server; the agent restart scenario runs a separate `skiff agent --kubeconfig` against a
 * `--disable-agent` server. At the end nothing of the nodes remains on the machine.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { hostNames } from '../src/kubelet/index.ts';
import { cleanupNode, imageRegistry, nodeLeftovers, nodeLeftoversSettled, uniqueNode } from './helpers/agent.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { settled, until } from './helpers/until.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? undefined : 'needs root: runs real containers';
const skiff = resolve(import.meta.dirname, '..', 'bin', 'skiff');

type Registry = Awaited<ReturnType<typeof imageRegistry>>;

function podManifest(name: string, spec: Record<string, unknown>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, ...spec } as Pod['spec'] };
}

describe('kubelet: pods in real containers', { skip, concurrency: true, timeout: 170_000 }, () => {
  let registry: Registry;
  let server: TestServer;
  let client: Client;
  let transport: HttpTransport;
  const node = uniqueNode();
  const bb = () => registry.busybox;

  const get = (name: string) => client.resource(kinds.pods).get('default', name);
  const create = (pod: Pod) => client.resource(kinds.pods).create(pod);
  const events = async (name: string) => (await client.resource(kinds.events).list({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;
  const volumeDir = (uid: string, plugin: string, name: string) => join(server.dataDir, 'agent', 'pods', uid, 'volumes', plugin, name);
  const deleteAndWait = async (name: string, gracePeriodSeconds?: number) => {
    await client.resource(kinds.pods).delete('default', name, gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }).catch(() => {});
    await until(`pod ${name} gone`, async () => (await get(name).then(() => false, () => true)) || undefined, 30_000);
  };

  before(async () => {
    registry = await imageRegistry();
    server = await startServer({ agent: true, extraArgs: ['--node-name', node.nodeName, '--cluster-cidr', node.podCidr] });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
  });

  after(async () => {
    try {
      if (server) {
        if (process.env.SKIFF_TEST_LOG) console.error(server.log());
        // Every pod goes; then nothing of the node may remain.
        const pods = await client.resource(kinds.pods).list({ namespace: 'default' });
        await Promise.all(pods.items.map((p) => deleteAndWait(p.metadata!.name!)));
        const left = await nodeLeftoversSettled(node.nodeName, server.dataDir, node.octet);
        await server.stop();
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
        assert.deepEqual(left, [], 'nothing of the pods remains after they are deleted');
        assert.deepEqual(nodeLeftovers(node.nodeName, server.dataDir, node.octet, { all: true }), []);
      }
    } finally {
      await cleanup(server);
      await registry?.stop();
    }
  });

  test('kubectl run: Running with an IP, node registered with capacity and Lease', async () => {
    const run = await kubectl(server, ['run', 'web', '--image', bb(), '--', 'sleep', '3600']);
    assert.equal(run.code, 0, run.stderr);
    const pod = await until('web Running', async () => { const p = await get('web'); return p.status?.phase === 'Running' && p; });
    assert.match(pod.status!.podIP!, new RegExp(`^10\\.88\\.${node.octet}\\.`));
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(cs.ready, true);
    assert.match(cs.containerID!, /^runc:\/\/[0-9a-f]+$/);
    assert.match(cs.imageID, /@sha256:[0-9a-f]{64}$/);
    assert.equal(pod.status!.qosClass, 'BestEffort');
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready', 'PodReadyToStartContainers']) {
      assert.equal(pod.status!.conditions!.find((c) => c.type === type)?.status, 'True', type);
    }
    // The kubelet writes its events a moment after it records them (a pause in recording).
    const starting = ['Pulling', 'Pulled', 'Created', 'Started'];
    const reasons = (await settled(() => events('web'), (evs) => starting.every((r) => evs.some((e) => e.reason === r)))).map((e) => e.reason);
    for (const r of starting) assert.ok(reasons.includes(r), `event ${r} in ${reasons}`);
    const n = await client.resource(kinds.nodes).get(undefined, node.nodeName);
    assert.equal(n.status!.capacity!.pods, '110');
    assert.ok(Number(n.status!.capacity!.cpu) >= 1);
    assert.equal(n.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'True');
    assert.match(n.status!.nodeInfo!.containerRuntimeVersion, /^runc:\/\//);
    const lease = await client.resource(kinds.leases).get('kube-node-lease', node.nodeName);
    assert.equal(lease.spec?.holderIdentity, node.nodeName);
    const log = await readFile(join(server.dataDir, 'agent', 'logs', `default_web_${pod.metadata!.uid}`, 'web', '0.log'), 'utf8').catch(() => '');
    assert.equal(log, '');
    await deleteAndWait('web', 1);
  });

  test('one-shot pods: Succeeded with Completed, Failed with the exit code and termination message', async () => {
    await create(podManifest('once-ok', { restartPolicy: 'Never', containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'echo done > /dev/termination-log'] }] }));
    await create(podManifest('once-bad', { restartPolicy: 'Never', containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'echo oops; exit 3'], terminationMessagePolicy: 'FallbackToLogsOnError' }] }));
    const ok = await until('once-ok Succeeded', async () => { const p = await get('once-ok'); return p.status?.phase === 'Succeeded' && p; });
    const t = ok.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.exitCode, 0);
    assert.equal(t.reason, 'Completed');
    assert.equal(t.message, 'done\n');
    const bad = await until('once-bad Failed', async () => { const p = await get('once-bad'); return p.status?.phase === 'Failed' && p; });
    const tb = bad.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(tb.exitCode, 3);
    assert.equal(tb.reason, 'Error');
    assert.equal(tb.message, 'oops\n');
    await Promise.all([deleteAndWait('once-ok'), deleteAndWait('once-bad')]);
  });

  test('liveness failure restarts the container (Unhealthy, Killing)', async () => {
    await create(podManifest('live', {
      containers: [{
        name: 'c', image: bb(), command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600'],
        livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
      }],
    }));
    const pod = await until('live restarted', async () => { const p = await get('live'); return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && p; }, 40_000);
    assert.ok(pod.status!.containerStatuses![0]!.lastState?.terminated, 'lastState terminated');
    const evs = await settled(() => events('live'), (all) => all.some((e) => e.reason === 'Unhealthy') && all.some((e) => e.reason === 'Killing'));
    assert.ok(evs.some((e) => e.reason === 'Unhealthy' && /^Liveness probe failed: /.test(e.message ?? '')), JSON.stringify(evs.map((e) => [e.reason, e.message])));
    assert.ok(evs.some((e) => e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message ?? '')));
    await deleteAndWait('live');
  });

  test('readiness toggles Ready', async () => {
    await create(podManifest('ready', {
      containers: [{
        name: 'c', image: bb(), command: ['sh', '-c', 'sleep 2; touch /tmp/ready; sleep 3; rm /tmp/ready; sleep 3600'],
        readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
      }],
    }));
    const readyOf = async () => (await get('ready')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await until('Running but not ready', async () => { const p = await get('ready'); return p.status?.phase === 'Running' && (await readyOf()) === 'False'; });
    await until('Ready', async () => (await readyOf()) === 'True');
    await until('unready again', async () => (await readyOf()) === 'False', 15_000);
    assert.equal((await get('ready')).status!.containerStatuses![0]!.restartCount, 0);
    await deleteAndWait('ready');
  });

  test('OOMKilled with exit code 137; limits give Guaranteed QoS', async () => {
    await create(podManifest('oom', {
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'sleep 1; tail /dev/zero'], resources: { limits: { memory: '64Mi', cpu: '500m' } } }],
    }));
    const pod = await until('oom Failed', async () => { const p = await get('oom'); return p.status?.phase === 'Failed' && p; }, 40_000);
    const t = pod.status!.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.reason, 'OOMKilled', JSON.stringify(t));
    assert.equal(t.exitCode, 137);
    assert.equal(pod.status!.qosClass, 'Guaranteed');
    await deleteAndWait('oom');
  });

  test('CrashLoopBackOff: the second restart waits 10 s, the third 20 s', async () => {
    const created = Date.now();
    await create(podManifest('crash', { containers: [{ name: 'c', image: bb(), command: ['sh', '-c', 'exit 1'] }] }));
    // Each terminated instance shows as lastState while the next one waits: collect them.
    const instances = new Map<string, { started: number; finished: number }>();
    let seenBackoff = '';
    let firstRestartAt = 0;
    await until('three restarts', async () => {
      const s = (await get('crash')).status?.containerStatuses?.[0];
      if (s?.state?.waiting?.reason === 'CrashLoopBackOff') seenBackoff = s.state.waiting.message ?? '';
      if ((s?.restartCount ?? 0) >= 1 && !firstRestartAt) firstRestartAt = Date.now();
      const t = s?.lastState?.terminated;
      if (t) instances.set(t.containerID!, { started: Date.parse(t.startedAt!), finished: Date.parse(t.finishedAt!) });
      return (s?.restartCount ?? 0) >= 3 && instances.size >= 3;
    }, 60_000);
    const list = [...instances.values()].sort((a, b) => a.started - b.started).slice(-3);
    const gaps = [list[1]!.started - list[0]!.finished, list[2]!.started - list[1]!.finished].map((ms) => ms / 1000);
    assert.ok(firstRestartAt - created < 8000, 'the first restart comes at once');
    assert.ok(gaps[0]! >= 9 && gaps[0]! <= 13, `second restart after ~10 s (${gaps})`);
    assert.ok(gaps[1]! >= 19 && gaps[1]! <= 23, `third restart after ~20 s (${gaps})`);
    assert.match(seenBackoff, /^back-off \d+s restarting failed container=c pod=crash_default\(/);
    assert.ok((await settled(() => events('crash'), (evs) => evs.some((e) => e.reason === 'BackOff'))).some((e) => e.reason === 'BackOff'));
    // Only the latest two instances are kept (lastState, logs --previous); an older one goes with its log file.
    const logsRoot = join(server.dataDir, 'agent', 'logs');
    const logDir = join(logsRoot, (await readdir(logsRoot)).find((d) => d.startsWith('default_crash_'))!, 'c');
    const files = await until('the oldest instance\'s log removed with it', async () => { const f = await readdir(logDir); return !f.includes('0.log') && f; });
    assert.ok(files.length <= 2 && files.every((f) => /^\d+\.log$/.test(f)), `log files: ${files.join(' ')}`);
    await deleteAndWait('crash');
  });

  test('ConfigMap and Secret as env and volumes, with a live update', async () => {
    await client.resource(kinds.configMaps).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { key: 'one', other: 'x' } });
    await client.resource(kinds.secrets).create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'default' }, data: { pass: Buffer.from('s3cret').toString('base64') } });
    const pod = await create(podManifest('cfgpod', {
      containers: [{
        name: 'c', image: bb(),
        command: ['sh', '-c', 'echo "$KEY $PASS $ME $(echo $EXPANDED)" > /out/env; while true; do cat /cm/key /sec/pass > /out/vol.tmp; mv /out/vol.tmp /out/vol; sleep 0.3; done'],
        env: [
          { name: 'KEY', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'key' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'pass' } } },
          { name: 'ME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'EXPANDED', value: 'k=$(KEY)' },
        ],
        envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cfg' } }],
        volumeMounts: [{ name: 'cm', mountPath: '/cm' }, { name: 'sec', mountPath: '/sec' }, { name: 'out', mountPath: '/out' }],
      }],
      volumes: [{ name: 'cm', configMap: { name: 'cfg' } }, { name: 'sec', secret: { secretName: 'sec' } }, { name: 'out', emptyDir: {} }],
    }));
    const out = volumeDir(pod.metadata!.uid!, 'kubernetes.io~empty-dir', 'out');
    const env = await until('env written', () => readFile(join(out, 'env'), 'utf8'));
    assert.equal(env, 'one s3cret cfgpod k=one\n');
    assert.equal(await until('volume read', () => readFile(join(out, 'vol'), 'utf8')), 'ones3cret');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(mounts.includes(volumeDir(pod.metadata!.uid!, 'kubernetes.io~secret', 'sec')), 'secret volume on tmpfs');
    await client.resource(kinds.configMaps).patch('default', 'cfg', { data: { key: 'two' } });
    await until('update reaches the running container', async () => (await readFile(join(out, 'vol'), 'utf8')) === 'twos3cret', 20_000);
    assert.equal((await get('cfgpod')).status!.containerStatuses![0]!.restartCount, 0);
    await deleteAndWait('cfgpod');
  });

  test('missing ConfigMap key: CreateContainerConfigError; runAsNonRoot with a root image refused', async () => {
    await create(podManifest('nocfg', { containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k' } } }] }] }));
    await create(podManifest('nonroot', { securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image: bb(), command: ['sleep', '3600'] }] }));
    const w1 = await until('nocfg waiting', async () => { const w = (await get('nocfg')).status?.containerStatuses?.[0]?.state?.waiting; return w?.reason === 'CreateContainerConfigError' && w; });
    assert.equal(w1.message, 'configmap "absent" not found');
    const w2 = await until('nonroot waiting', async () => { const w = (await get('nonroot')).status?.containerStatuses?.[0]?.state?.waiting; return w?.reason === 'CreateContainerConfigError' && w; });
    assert.match(w2.message!, /^container has runAsNonRoot and image will run as root \(pod: "nonroot_default\(.*\)", container: c\)$/);
    await Promise.all([deleteAndWait('nocfg'), deleteAndWait('nonroot')]);
  });

  test('emptyDir shared by two containers; init containers in order', async () => {
    await create(podManifest('shared', {
      restartPolicy: 'Never',
      initContainers: [
        { name: 'i1', image: bb(), command: ['sh', '-c', 'echo one >> /work/log'], volumeMounts: [{ name: 'w', mountPath: '/work' }] },
        { name: 'i2', image: bb(), command: ['sh', '-c', 'echo two >> /work/log'], volumeMounts: [{ name: 'w', mountPath: '/work' }] },
      ],
      containers: [
        { name: 'writer', image: bb(), command: ['sh', '-c', 'echo hello > /shared/x'], volumeMounts: [{ name: 'w', mountPath: '/shared' }] },
        { name: 'reader', image: bb(), command: ['sh', '-c', 'while [ ! -f /shared/x ]; do sleep 0.1; done; cat /shared/log /shared/x > /dev/termination-log'], volumeMounts: [{ name: 'w', mountPath: '/shared' }] },
      ],
      volumes: [{ name: 'w', emptyDir: {} }],
    }));
    const pod = await until('shared Succeeded', async () => { const p = await get('shared'); return p.status?.phase === 'Succeeded' && p; });
    const reader = pod.status!.containerStatuses!.find((c) => c.name === 'reader')!;
    assert.equal(reader.state!.terminated!.message, 'one\ntwo\nhello\n');
    assert.deepEqual(pod.status!.initContainerStatuses!.map((c) => c.state?.terminated?.reason), ['Completed', 'Completed']);
    const [a, b] = pod.status!.initContainerStatuses!.map((c) => c.state!.terminated!);
    assert.ok(Date.parse(a!.finishedAt!) <= Date.parse(b!.startedAt!), 'i2 starts after i1 finished');
    await deleteAndWait('shared');
  });

  test('securityContext enforced inside the container', async () => {
    await create(podManifest('sec', {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'c', image: bb(),
        command: ['sh', '-c', 'id > /dev/termination-log; touch /x 2>> /dev/termination-log; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status >> /dev/termination-log'],
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
      }],
    }));
    const pod = await until('sec finished', async () => { const p = await get('sec'); return (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') && p; });
    const msg = pod.status!.containerStatuses![0]!.state!.terminated!.message!;
    assert.match(msg, /^uid=1000 gid=3000 groups=(3000,)?4000\n/m);
    assert.match(msg, /Read-only file system/);
    assert.match(msg, /^CapBnd:\s+0000000000000400$/m);
    assert.match(msg, /^NoNewPrivs:\s+1$/m);
    assert.match(msg, /^Seccomp:\s+2$/m);
    await deleteAndWait('sec');
  });

  test('graceful termination: preStop runs, then SIGTERM; the object goes when the containers are gone', async () => {
    await create(podManifest('grace', {
      terminationGracePeriodSeconds: 10,
      containers: [{
        name: 'c', image: bb(), command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'],
        lifecycle: { preStop: { exec: { command: ['sleep', '2'] } } },
      }],
    }));
    const pod = await until('grace Running', async () => { const p = await get('grace'); return p.status?.phase === 'Running' && p; });
    const id = pod.status!.containerStatuses![0]!.containerID!.slice('runc://'.length);
    const started = Date.now();
    await deleteAndWait('grace');
    const took = (Date.now() - started) / 1000;
    assert.ok(took >= 2 && took < 8, `deletion took ${took}s: preStop 2 s, then a prompt exit on SIGTERM`);
    const root = join(hostNames(node.nodeName, server.dataDir).runtimeRoot, 'runc');
    assert.ok(!execFileSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' }).includes(id), 'container gone');
  });
});

describe('kubelet: agent kill -9 and restart', { skip, timeout: 120_000 }, () => {
  let registry: Registry;
  let server: TestServer;
  let agent: ChildProcess | undefined;
  let client: Client;
  let transport: HttpTransport;
  const node = uniqueNode();
  let agentLog = '';

  const startAgentProcess = async () => {
    const child = spawn(skiff, ['agent', '--kubeconfig', server.kubeconfig, '--node-name', node.nodeName, '--pod-cidr', node.podCidr, '--data-dir', server.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
    await until('agent running', async () => agentLog.includes(`node ${node.nodeName} running`) || (child.exitCode !== null ? Promise.reject(new Error(agentLog)) : false));
    return child;
  };
  const kill = async (child: ChildProcess | undefined, signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  const get = (name: string) => client.resource(kinds.pods).get('default', name);
  const runcPid = (id: string) => JSON.parse(execFileSync('runc', ['--root', join(hostNames(node.nodeName, server.dataDir).runtimeRoot, 'runc'), 'state', id], { encoding: 'utf8' })).pid as number;

  before(async () => {
    registry = await imageRegistry();
    server = await startServer();
    transport = HttpTransport.fromKubeconfig(server.kubeconfig);
    client = new Client(transport);
    agent = await startAgentProcess();
  });

  after(async () => {
    try {
      if (server) {
        const pods = await client.resource(kinds.pods).list({ namespace: 'default' }).catch(() => ({ items: [] as Pod[] }));
        for (const p of pods.items) await client.resource(kinds.pods).delete('default', p.metadata!.name!).catch(() => {});
        await until('pods gone', async () => (await client.resource(kinds.pods).list({ namespace: 'default' })).items.length === 0, 30_000).catch(() => {});
        const left = await nodeLeftoversSettled(node.nodeName, server.dataDir, node.octet);
        await kill(agent, 'SIGTERM');
        await server.stop();
        transport.close();
        await cleanupNode(node.nodeName, server.dataDir);
        assert.deepEqual(left, [], `nothing of the pods remains (agent log: ${agentLog.slice(-2000)})`);
      }
    } finally {
      await kill(agent, 'SIGKILL');
      await cleanup(server);
      await registry?.stop();
    }
  });

  test('running containers keep their PIDs and restart counts; pods deleted meanwhile are cleaned up', async () => {
    const spec = (name: string, cmd: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node.nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: registry.busybox, command: ['sh', '-c', cmd] }] } });
    await client.resource(kinds.pods).create(spec('keep', 'sleep 3600'));
    await client.resource(kinds.pods).create(spec('gone', 'sleep 3600'));
    const before1 = await until('keep Running', async () => { const p = await get('keep'); return p.status?.phase === 'Running' && p; });
    const gone = await until('gone Running', async () => { const p = await get('gone'); return p.status?.phase === 'Running' && p; });
    const id = before1.status!.containerStatuses![0]!.containerID!.slice(7);
    const goneId = gone.status!.containerStatuses![0]!.containerID!.slice(7);
    const pid = runcPid(id);
    await kill(agent, 'SIGKILL');
    // While the agent is down: one pod is force-deleted (its object vanishes at once).
    await client.resource(kinds.pods).delete('default', 'gone', { gracePeriodSeconds: 0 });
    agent = await startAgentProcess();
    const after1 = await until('keep still Running', async () => { const p = await get('keep'); return p.status?.phase === 'Running' && p; });
    assert.equal(after1.status!.containerStatuses![0]!.containerID, before1.status!.containerStatuses![0]!.containerID);
    assert.equal(after1.status!.containerStatuses![0]!.restartCount, 0);
    assert.equal(runcPid(id), pid, 'same PID after the agent restart');
    await until('the force-deleted pod\'s container is removed', async () => !execFileSync('runc', ['--root', join(hostNames(node.nodeName, server.dataDir).runtimeRoot, 'runc'), 'list', '-q'], { encoding: 'utf8' }).includes(goneId));
  });
});
