/**
 * The shared behaviour suite of `ContainerRuntime`, run against every implementation that can
 * run real containers (`runRuntimeSuite({ name, setup })`). The implementation's test file
 * provides the environment: a runtime factory over one state directory, a busybox layer, the
 * pod network's gateway and a leak check.
 */
import assert from 'node:assert/strict';
import { readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { Readable } from 'node:stream';
import type { ContainerConfig, ContainerExitEvent, ContainerRuntime, SandboxConfig } from './container-runtime.ts';
import { ExecTimeoutError } from './errors.ts';

/** What an implementation's test file provides. */
export interface RuntimeSuiteEnv {
  /** A runtime instance over the suite's state directory; a second call = the agent restarted. */
  newRuntime(): ContainerRuntime;
  /** Layer directories (bottom first) of a busybox image: /bin/busybox plus applet links. */
  layers: string[];
  /** Directory for container log files. */
  logDir: string;
  /** Host address that portmap's hostPorts answer on (the bridge gateway). */
  hostAddress: string;
  /** A free hostPort for the hostPort test. */
  hostPort: number;
  /** (Optional.) A runtime like `newRuntime`'s whose pod network always fails (a missing CNI plugin), over a state directory of its own. */
  newRuntimeWithFailingNetwork?(): ContainerRuntime;
  /** What the runtime left behind (runtime containers, mounts, veths, cgroups); empty when clean. */
  leftovers(): Promise<string[]>;
  /** Removes whatever the test created outside the runtime (bridge, dirs, cgroup root). */
  teardown(): Promise<void>;
}

/** Options of `runRuntimeSuite`. */
export interface RuntimeSuiteOptions {
  name: string;
  /** A written reason to skip the whole suite (e.g. not root). */
  skip?: string;
  setup(): Promise<RuntimeSuiteEnv>;
}

async function readAll(stream: Readable | null): Promise<string> {
  if (!stream) return '';
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Registers the suite's tests. */
export function runRuntimeSuite(options: RuntimeSuiteOptions): void {
  describe(`ContainerRuntime: ${options.name}`, { skip: options.skip }, () => {
    let env: RuntimeSuiteEnv;
    let rt: ContainerRuntime;
    let n = 0;
    const exits: ContainerExitEvent[] = [];

    const pod = (extra: Partial<SandboxConfig> = {}): SandboxConfig => {
      n++;
      return { name: `pod-${n}`, namespace: 'default', uid: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, qosClass: 'Burstable', dns: { servers: ['10.43.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] }, ...extra };
    };
    const ctr = (name: string, argv: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
      name, argv, layers: env.layers, logPath: `${env.logDir}/${name}-${n}-${Math.random().toString(36).slice(2)}.log`, ...extra,
    });
    const runIn = async (sandboxId: string, config: ContainerConfig) => {
      const id = await rt.createContainer(sandboxId, config);
      await rt.startContainer(id);
      return id;
    };
    const exited = (id: string, ms = 10_000) => until(`container ${id} to exit`, async () => {
      const s = await rt.containerStatus(id);
      return s.state === 'exited' ? s : undefined;
    }, ms);

    before(async () => {
      env = await options.setup();
      rt = env.newRuntime();
      rt.onContainerExit((e) => exits.push(e));
    });

    after(async () => {
      if (!env) return;
      try {
        for (const s of await rt.listPodSandboxes()) await rt.removePodSandbox(s.id);
        await rt.close();
      } finally {
        await env.teardown();
      }
    });

    test('createPodSandbox: a container is created while the network comes up, and starts once it is up with the pod IP in /etc/hosts', async (t) => {
      if (!rt.createPodSandbox || !rt.podSandboxReady) return t.skip('the runtime has no two-step sandbox');
      const sb = await rt.createPodSandbox(pod());
      const early = await rt.podSandboxStatus(sb);
      assert.equal(early.state, 'ready', 'takes containers at once');
      assert.deepEqual(early.ips, [], 'no IP before the network is up');
      const id = await rt.createContainer(sb, ctr('early', ['sleep', '1000']));
      await rt.startContainer(id);
      await rt.podSandboxReady(sb);
      const status = await rt.podSandboxStatus(sb);
      assert.equal(status.ips.length, 1);
      const hosts = await rt.execSync(id, ['cat', '/etc/hosts'], 5000);
      assert.match(hosts.stdout.toString(), new RegExp(`${status.ips[0]!.replace(/\./g, '\\.')}\\s+pod-${n}`));
      await rt.removePodSandbox(sb);
    });

    test('a created container has not run its program until it is started; one never started is stopped and removed like the rest', async () => {
      const sb = await rt.runPodSandbox(pod());
      const waits = ctr('waits', ['sh', '-c', 'echo ran; exec sleep 1000']);
      const id = await rt.createContainer(sb, waits);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await rt.containerStatus(id)).state, 'created');
      assert.equal(await readFile(waits.logPath, 'utf8').catch(() => ''), '', 'nothing logged before the start');
      await rt.startContainer(id);
      assert.equal((await rt.containerStatus(id)).state, 'running');
      await until('the program ran', async () => (await readFile(waits.logPath, 'utf8')).includes(' stdout F ran\n'));
      await assert.rejects(rt.startContainer(id), { name: 'InvalidStateError' });
      // Never started: removed at once, or stopped with its sandbox.
      const removed = await rt.createContainer(sb, ctr('removed', ['sleep', '1000']));
      await rt.removeContainer(removed);
      await assert.rejects(rt.containerStatus(removed), { name: 'NotFoundError' });
      const stopped = await rt.createContainer(sb, ctr('stopped', ['sleep', '1000']));
      await rt.stopPodSandbox(sb);
      assert.equal((await rt.containerStatus(stopped)).state, 'exited');
      assert.equal((await rt.containerStatus(id)).state, 'exited');
      await rt.removePodSandbox(sb);
    });

    test('a pod network that fails: the sandbox turns not ready, its container never starts, and removal leaves nothing', async (t) => {
      if (!env.newRuntimeWithFailingNetwork) return t.skip('the environment has no failing network');
      const broken = env.newRuntimeWithFailingNetwork();
      try {
        const sb = await broken.createPodSandbox!(pod());
        const id = await broken.createContainer(sb, ctr('never', ['sleep', '1000']));
        await assert.rejects(broken.podSandboxReady!(sb), /skiff-no-such-plugin/);
        assert.equal((await broken.podSandboxStatus(sb)).state, 'notready');
        await assert.rejects(broken.startContainer(id), /skiff-no-such-plugin/);
        assert.equal((await broken.containerStatus(id)).state, 'created');
        await assert.rejects(broken.createContainer(sb, ctr('later', ['true'])), { name: 'InvalidStateError' });
        await broken.removePodSandbox(sb);
        await assert.rejects(broken.podSandboxStatus(sb), { name: 'NotFoundError' });
        // In one step the runtime undoes everything before it throws.
        await assert.rejects(broken.runPodSandbox(pod()), /skiff-no-such-plugin/);
        assert.deepEqual(await broken.listPodSandboxes(), []);
      } finally {
        await broken.close();
      }
    });

    test('version names the runtime', async () => {
      const v = await rt.version();
      assert.match(v.runtimeVersion, /\d+\.\d+/);
    });

    test('a sandbox gets an IP; its container answers on it; a second container shares network, IPC and UTS', async () => {
      const sb = await rt.runPodSandbox(pod());
      const status = await rt.podSandboxStatus(sb);
      assert.equal(status.state, 'ready');
      assert.equal(status.ips.length, 1);
      const web = await runIn(sb, ctr('web', ['sh', '-c', 'mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www']));
      const url = `http://${status.ips[0]}:8080/index.html`;
      const body = await until('httpd to answer', async () => (await fetch(url)).text());
      assert.equal(body, 'hello-from-pod\n');

      const side = await runIn(sb, ctr('side', ['sleep', '1000']));
      const viaLocalhost = await rt.execSync(side, ['wget', '-qO-', 'http://127.0.0.1:8080/index.html'], 5000);
      assert.equal(viaLocalhost.stdout.toString(), 'hello-from-pod\n');
      const hostname = await rt.execSync(side, ['hostname'], 5000);
      assert.equal(hostname.stdout.toString().trim(), `pod-${n}`);
      const [a, b] = [await rt.containerStatus(web), await rt.containerStatus(side)];
      assert.equal(await readlink(`/proc/${a.pid}/ns/ipc`), await readlink(`/proc/${b.pid}/ns/ipc`));
      assert.equal(await readlink(`/proc/${a.pid}/ns/uts`), await readlink(`/proc/${b.pid}/ns/uts`));
      assert.notEqual(await readlink(`/proc/${a.pid}/ns/net`), await readlink('/proc/self/ns/net'));
      const resolv = await rt.execSync(side, ['cat', '/etc/resolv.conf'], 5000);
      assert.match(resolv.stdout.toString(), /nameserver 10\.43\.0\.10/);
      assert.match(resolv.stdout.toString(), /options ndots:5/);
      const hosts = await rt.execSync(side, ['cat', '/etc/hosts'], 5000);
      assert.match(hosts.stdout.toString(), new RegExp(`${status.ips[0]!.replace(/\./g, '\\.')}\\s+pod-${n}`));

      const stats = await rt.containerStats(web);
      assert.ok(stats.memoryUsageBytes > 0, 'memory usage from the cgroup');
      assert.ok(stats.cpuUsageNanos > 0, 'cpu usage from the cgroup');
      assert.deepEqual((await rt.listContainers({ sandboxId: sb })).map((c) => c.id).sort(), [web, side].sort());

      await rt.stopPodSandbox(sb);
      await rt.stopPodSandbox(sb); // idempotent
      assert.equal((await rt.podSandboxStatus(sb)).state, 'notready');
      assert.equal((await rt.containerStatus(web)).state, 'exited');
      await rt.removePodSandbox(sb);
      await assert.rejects(rt.podSandboxStatus(sb), { name: 'NotFoundError' });
    });

    test('exit codes give Completed and Error, and an exit event', async () => {
      const sb = await rt.runPodSandbox(pod());
      const ok = await runIn(sb, ctr('ok', ['true']));
      const bad = await runIn(sb, ctr('bad', ['sh', '-c', 'exit 3']));
      const s1 = await exited(ok);
      const s2 = await exited(bad);
      assert.equal(s1.exitCode, 0);
      assert.equal(s1.reason, 'Completed');
      assert.equal(s2.exitCode, 3);
      assert.equal(s2.reason, 'Error');
      assert.ok(s2.finishedAt >= s2.startedAt && s2.startedAt > 0);
      await until('exit events', async () => exits.some((e) => e.id === bad && e.exitCode === 3));
      const missing = await rt.createContainer(sb, ctr('missing', ['/no/such/binary']));
      await assert.rejects(rt.startContainer(missing), { name: 'StartError' });
      const s3 = await rt.containerStatus(missing);
      assert.equal(s3.state, 'exited');
      assert.equal(s3.reason, 'StartError');
      await rt.removePodSandbox(sb);
    });

    test('a memory limit below need: OOMKilled, exit 137', async () => {
      const sb = await rt.runPodSandbox(pod());
      const id = await runIn(sb, ctr('hog', ['tail', '/dev/zero'], { resources: { memoryLimitBytes: 32 * 1024 * 1024 } }));
      const s = await exited(id, 20_000);
      assert.equal(s.exitCode, 137);
      assert.equal(s.reason, 'OOMKilled');
      await rt.removePodSandbox(sb);
    });

    test('a Guaranteed pod (pod-level limits, oom_score_adj -997): OOM after start is OOMKilled, exit 137', async () => {
      const limit = 64 * 1024 * 1024;
      const sb = await rt.runPodSandbox(pod({ qosClass: 'Guaranteed', resources: { memoryLimitBytes: limit, cpuQuota: 50_000, cpuPeriod: 100_000, cpuShares: 512 } }));
      // -997 is the kubelet's score for Guaranteed containers; where this process may not lower
      // scores (no CAP_SYS_RESOURCE, as in some sandboxes), the runtime raises it instead of failing.
      const id = await runIn(sb, ctr('late-hog', ['sh', '-c', 'sleep 1; tail /dev/zero'], { resources: { memoryLimitBytes: limit, cpuQuota: 50_000, cpuPeriod: 100_000, cpuShares: 512, oomScoreAdj: -997 } }));
      const s = await exited(id, 20_000);
      assert.equal(s.reason, 'OOMKilled', JSON.stringify(s));
      assert.equal(s.exitCode, 137);
      await rt.removePodSandbox(sb);
    });

    test('stop: SIGTERM first, SIGKILL after the timeout', async () => {
      const sb = await rt.runPodSandbox(pod());
      const polite = await runIn(sb, ctr('polite', ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']));
      const stubborn = await runIn(sb, ctr('stubborn', ['sleep', '1000']));
      let t = Date.now();
      await rt.stopContainer(polite, 10);
      const politeTime = Date.now() - t;
      const s1 = await rt.containerStatus(polite);
      assert.equal(s1.exitCode, 0, 'the TERM handler ran');
      assert.ok(politeTime < 3000, `stopped in ${politeTime} ms`);
      t = Date.now();
      await rt.stopContainer(stubborn, 1); // init ignores SIGTERM without a handler
      const stubbornTime = Date.now() - t;
      const s2 = await rt.containerStatus(stubborn);
      assert.equal(s2.exitCode, 137);
      assert.ok(stubbornTime >= 1000 && stubbornTime < 4000, `killed after ${stubbornTime} ms`);
      await rt.removePodSandbox(sb);
    });

    test('exec: exit code, stdout and stderr, stdin, tty with resize; execSync timeout', async () => {
      const sb = await rt.runPodSandbox(pod());
      const id = await runIn(sb, ctr('box', ['sleep', '1000']));
      const r = await rt.execSync(id, ['sh', '-c', 'echo out; echo err >&2; exit 5'], 5000);
      assert.equal(r.exitCode, 5);
      assert.equal(r.stdout.toString(), 'out\n');
      assert.equal(r.stderr.toString(), 'err\n');

      const cat = await rt.exec(id, { cmd: ['cat'], stdin: true });
      cat.stdin!.end('through stdin\n');
      const [out] = await Promise.all([readAll(cat.stdout), readAll(cat.stderr)]);
      assert.equal(out, 'through stdin\n');
      assert.equal((await cat.exit).exitCode, 0);

      const tty = await rt.exec(id, { cmd: ['sh', '-c', 'sleep 0.5; stty size; tty'], tty: true });
      await tty.resize(100, 30);
      const ttyOut = await readAll(tty.stdout);
      assert.match(ttyOut, /30 100/);
      assert.match(ttyOut, /\/dev\/pts\//);
      assert.equal((await tty.exit).exitCode, 0);

      const t = Date.now();
      await assert.rejects(rt.execSync(id, ['sleep', '30'], 500), ExecTimeoutError);
      assert.ok(Date.now() - t < 3000);
      const ps = await rt.execSync(id, ['ps'], 5000);
      assert.doesNotMatch(ps.stdout.toString(), /sleep 30/, 'the timed-out process was killed');
      await rt.removePodSandbox(sb);
    });

    test('securityContext is enforced inside the container', async () => {
      const sb = await rt.runPodSandbox(pod());
      const script = 'id; touch /x 2>/dev/null && echo rw || echo ro-root; grep -E "^(CapBnd|CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ' +
        'unshare -U true 2>/dev/null && echo unshare-ok || echo unshare-blocked; mount -t tmpfs t /tmp 2>/dev/null && echo mount-ok || echo mount-blocked';
      const id = await runIn(sb, ctr('secure', ['sh', '-c', script], {
        security: {
          runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], readonlyRootfs: true,
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, noNewPrivileges: true, seccomp: { type: 'RuntimeDefault' },
        },
      }));
      const s = await exited(id);
      const log = await readFile(s.logPath, 'utf8');
      const text = log.split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' ')).join('\n');
      assert.match(text, /uid=1000 gid=2000 groups=2000,3000|uid=1000 gid=2000 groups=3000/);
      assert.match(text, /^ro-root$/m);
      assert.match(text, /CapBnd:\s+0000000000000400/);
      assert.match(text, /CapEff:\s+0000000000000000/, 'a non-root user has no effective capabilities (no ambient set), as with containerd');
      assert.match(text, /NoNewPrivs:\s+1/);
      assert.match(text, /Seccomp:\s+2/);
      assert.match(text, /unshare-blocked/);
      assert.match(text, /mount-blocked/);

      const root = await runIn(sb, ctr('root', ['sh', '-c', 'grep -E "^(CapEff|Seccomp):" /proc/self/status; stat -c "keys %F" /proc/keys']));
      const rootLog = await readFile((await exited(root)).logPath, 'utf8');
      assert.match(rootLog, /CapEff:\s+00000000a80425fb/, 'containerd default capability set');
      assert.match(rootLog, /Seccomp:\s+0/, 'Unconfined by default, as upstream');
      assert.match(rootLog, /keys character special file/, "/proc/keys is masked (/dev/null over it)");
      await rt.removePodSandbox(sb);
    });

    test('hostPort through portmap answers on the host address', async () => {
      const sb = await rt.runPodSandbox(pod({ portMappings: [{ containerPort: 8080, hostPort: env.hostPort }] }));
      await runIn(sb, ctr('web', ['sh', '-c', 'mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 8080 -h /www']));
      const body = await until('hostPort to answer', async () => (await fetch(`http://${env.hostAddress}:${env.hostPort}/index.html`)).text());
      assert.equal(body, 'via-hostport\n');
      await rt.removePodSandbox(sb);
      await assert.rejects(fetch(`http://${env.hostAddress}:${env.hostPort}/index.html`, { signal: AbortSignal.timeout(1000) }));
    });

    test('port-forward reaches 127.0.0.1:port inside the pod', async () => {
      const sb = await rt.runPodSandbox(pod());
      await runIn(sb, ctr('web', ['sh', '-c', 'mkdir -p /www && echo forwarded > /www/index.html && exec httpd -f -p 127.0.0.1:9090 -h /www']));
      const body = await until('port-forward to answer', async () => {
        const stream = await rt.portForward(sb, 9090);
        stream.end('GET /index.html HTTP/1.0\r\n\r\n');
        const text = await readAll(stream);
        return text.includes('forwarded') ? text : undefined;
      });
      assert.match(body, /^HTTP\/1\.[01] 200/);
      await rt.removePodSandbox(sb);
    });

    test('logs are written in the CRI format with stream tags; attach follows output', async () => {
      const sb = await rt.runPodSandbox(pod());
      const id = await runIn(sb, ctr('talker', ['sh', '-c', 'echo to-out; echo to-err >&2; printf no-newline; sleep 1; echo later']));
      const handle = await rt.attach(id, {});
      const attached = readAll(handle.stdout);
      const s = await exited(id);
      const lines = (await readFile(s.logPath, 'utf8')).trim().split('\n');
      const re = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] /;
      for (const l of lines) assert.match(l, re);
      assert.ok(lines.some((l) => / stdout F to-out$/.test(l)));
      assert.ok(lines.some((l) => / stderr F to-err$/.test(l)));
      assert.ok(lines.some((l) => / stdout F no-newlinelater$/.test(l)));
      assert.equal((await handle.exit).exitCode, 0);
      assert.match(await attached, /later/);
      await rt.removePodSandbox(sb);
    });

    test('a hostNetwork sandbox shares the host network namespace', async () => {
      const sb = await rt.runPodSandbox(pod({ hostNetwork: true }));
      const status = await rt.podSandboxStatus(sb);
      assert.deepEqual(status.ips, []);
      const id = await runIn(sb, ctr('hostnet', ['sleep', '1000']));
      const s = await rt.containerStatus(id);
      assert.equal(await readlink(`/proc/${s.pid}/ns/net`), await readlink('/proc/self/ns/net'));
      // As containerd: the host's UTS namespace too, so the host's name.
      assert.equal((await rt.execSync(id, ['hostname'], 5000)).stdout.toString().trim(), hostname());
      await rt.removePodSandbox(sb);
    });

    test('a new runtime instance over the same state (agent kill -9) sees running containers with the same PID', async () => {
      const sb = await rt.runPodSandbox(pod());
      const id = await runIn(sb, ctr('survivor', ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']));
      const before = await rt.containerStatus(id);
      const rt2 = env.newRuntime();
      try {
        const seen = await rt2.containerStatus(id);
        assert.equal(seen.state, 'running');
        assert.equal(seen.pid, before.pid);
        assert.equal((await rt2.execSync(id, ['echo', 'still-here'], 5000)).stdout.toString(), 'still-here\n');
        const size = (await readFile(seen.logPath)).length;
        await until('logs to keep flowing', async () => (await readFile(seen.logPath)).length > size);
        const events: ContainerExitEvent[] = [];
        rt2.onContainerExit((e) => events.push(e));
        await rt2.stopContainer(id, 1);
        await until('the exit event on the new instance', async () => events.some((e) => e.id === id));
        await rt2.removePodSandbox(sb);
      } finally {
        await rt2.close();
      }
    });

    test('after removing everything and closing the runtime nothing is left behind', async () => {
      for (const s of await rt.listPodSandboxes()) await rt.removePodSandbox(s.id);
      assert.deepEqual(await rt.listContainers(), []);
      assert.deepEqual(await rt.listPodSandboxes(), []);
      // What the instance holds for later pods (a network namespace made ahead) goes with it.
      await rt.close();
      assert.deepEqual(await env.leftovers(), []);
    });
  });
}
