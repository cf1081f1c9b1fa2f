/**
 * Jobs against a real `skiff server` (its job-controller, ttl-after-finished-controller and
 * scheduler) with simulated nodes (`skiff sim`: Job pods finish after their
 * `skiff.dev/sim-duration`, failing with `skiff.dev/sim-exit-code`), observed through the real
 * kubectl and the API: completions never running more than `parallelism` at once (seen by a
 * watch), Indexed completion, the back-off limit with its delay, the active deadline, pod
 * failure policies, suspend and resume, and deletion after `ttlSecondsAfterFinished`.
 * The tests run concurrently on one cluster, each Job in its own namespace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, kinds } from '../src/client/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';
import { settled } from './helpers/until.ts';

describe('jobs', { concurrency: true }, () => {
  let server: TestServer;
  let sim: TestSim;
  let transport: HttpTransport;
  let client: Client;

  before(async () => {
    server = await startServer();
    sim = await startSim(server, { nodes: 2, jobDuration: '1s' });
    transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'job-test' });
    client = new Client(transport);
  });
  after(async () => {
    transport?.close();
    await sim?.stop();
    await cleanup(server);
  });

  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** Retries `check` until it passes (`ms` at most). */
  const eventually = async <T>(check: () => Promise<T>, ms = 20_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const job = (ns: string, name: string) => client.resource(kinds.jobs).get(ns, name);
  const pods = async (ns: string) => (await client.resource(kinds.pods).list({ namespace: ns })).items;
  const events = async (ns: string) => (await client.resource(kinds.events).list({ namespace: ns })).items as Event[];
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
  /** A namespace and a Job in it, from YAML lines of the Job's spec (indented by 2). */
  const createJob = async (ns: string, name: string, spec: string, podAnnotations: Record<string, string> = {}) => {
    await ok(['create', 'namespace', ns]);
    const annotations = JSON.stringify(podAnnotations);
    await ok(['apply', '-n', ns, '-f', '-'], `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${spec}
  template:
    metadata:
      annotations: ${annotations}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
`);
  };

  it('runs completions with at most `parallelism` pods at once; kubectl wait and get show it', async () => {
    const ns = 'parallel';
    // Watch the pods from the start: the most that are running at any moment.
    const running = new Set<string>();
    let most = 0;
    const names = new Set<string>();
    await client.resource(kinds.namespaces).create({ metadata: { name: ns } });
    const stop = await client.resource(kinds.pods).watch(
      { namespace: ns },
      (event) => {
        const pod = event.object as Pod;
        const name = pod.metadata?.name ?? '';
        names.add(name);
        const phase = pod.status?.phase;
        if (event.type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) running.delete(name);
        else running.add(name);
        most = Math.max(most, running.size);
      },
      () => undefined,
    );
    try {
      await ok(['apply', '-n', ns, '-f', '-'], `apiVersion: batch/v1
kind: Job
metadata: {name: work}
spec:
  completions: 5
  parallelism: 2
  template:
    metadata: {annotations: {skiff.dev/sim-duration: 500ms}}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
`);
      await ok(['wait', '--for=condition=complete', 'job/work', '-n', ns, '--timeout=30s']);
      assert.equal(most, 2, 'never more than parallelism pods running, and that many at once');
      assert.equal(names.size, 5);
      const done = await job(ns, 'work');
      assert.equal(done.status?.succeeded, 5);
      assert.equal(done.status?.failed, undefined);
      assert.equal(done.status?.active, undefined);
      assert.ok(done.status?.completionTime && done.status.startTime);
      assert.equal(condition(done, 'SuccessCriteriaMet')?.reason, 'CompletionsReached');
      assert.equal(condition(done, 'Complete')?.message, 'Reached expected number of succeeded pods');
      // The pods were counted and released: no tracking finalizer is left.
      for (const pod of await pods(ns)) {
        assert.deepEqual(pod.metadata?.finalizers ?? [], []);
        assert.equal(pod.metadata?.labels?.['batch.kubernetes.io/job-name'], 'work');
        assert.equal(pod.metadata?.labels?.['job-name'], 'work');
        assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'Job');
      }
      const table = (await ok(['get', 'jobs', '-n', ns])).trim().split('\n');
      assert.match(table[0]!, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$/);
      assert.match(table[1]!, /^work\s+Complete\s+5\/5\s+\d+s\s+\d+s$/);
      // Events are written a moment after the status kubectl waited for.
      const jobEvents = await settled(
        async () => (await events(ns)).filter((e) => e.involvedObject.kind === 'Job'),
        (list) => list.some((e) => e.reason === 'Completed'),
      );
      const reasons = jobEvents.map((e) => e.reason);
      assert.equal(reasons.filter((r) => r === 'SuccessfulCreate').length, 5);
      assert.ok(reasons.includes('Completed'));
    } finally {
      stop();
    }
  });

  it('gives Indexed pods their completion index and reports completedIndexes', async () => {
    const ns = 'indexed';
    await createJob(ns, 'idx', '  completions: 4\n  parallelism: 4\n  completionMode: Indexed');
    await ok(['wait', '--for=condition=complete', 'job/idx', '-n', ns, '--timeout=30s']);
    const done = await job(ns, 'idx');
    assert.equal(done.status?.completedIndexes, '0-3');
    assert.equal(done.status?.succeeded, 4);
    const seen = (await pods(ns)).map((pod) => {
      const index = pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'];
      assert.equal(pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index'], index);
      assert.equal(pod.spec?.hostname, `idx-${index}`);
      assert.match(pod.metadata?.name ?? '', new RegExp(`^idx-${index}-`));
      const env = pod.spec?.containers[0]?.env?.find((e) => e.name === 'JOB_COMPLETION_INDEX');
      assert.equal(env?.valueFrom?.fieldRef?.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
      return Number(index);
    });
    assert.deepEqual(seen.sort(), [0, 1, 2, 3]);
  });

  it('fails past backoffLimit, re-creating a failed pod only after the back-off (10 s)', async () => {
    const ns = 'backoff';
    await createJob(ns, 'flaky', '  backoffLimit: 1', { 'skiff.dev/sim-exit-code': '3', 'skiff.dev/sim-duration': '200ms' });
    const failed = await eventually(async () => {
      const j = await job(ns, 'flaky');
      assert.ok(condition(j, 'Failed'), 'Failed condition');
      return j;
    }, 40_000);
    const cond = condition(failed, 'Failed')!;
    assert.equal(cond.reason, 'BackoffLimitExceeded');
    assert.equal(cond.message, 'Job has reached the specified backoff limit');
    assert.equal(condition(failed, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(failed.status?.failed, 2);
    assert.equal(failed.status?.completionTime, undefined);
    // The second pod came at least the base back-off after the first one finished.
    const all = (await pods(ns)).sort((a, b) => Date.parse(a.metadata!.creationTimestamp!) - Date.parse(b.metadata!.creationTimestamp!));
    assert.equal(all.length, 2);
    const firstFinished = Date.parse(all[0]!.status!.containerStatuses![0]!.state!.terminated!.finishedAt!);
    const secondCreated = Date.parse(all[1]!.metadata!.creationTimestamp!);
    assert.ok(secondCreated - firstFinished >= 9_000, `back-off of ${secondCreated - firstFinished} ms`);
    const warning = (await settled(() => events(ns), (list) => list.some((e) => e.reason === 'BackoffLimitExceeded'))).find(
      (e) => e.reason === 'BackoffLimitExceeded',
    );
    assert.equal(warning?.type, 'Warning');
    assert.equal(warning?.message, 'Job has reached the specified backoff limit');
    assert.match(await ok(['get', 'job', 'flaky', '-n', ns]), /flaky\s+Failed\s+0\/1/);
  });

  it('fails a Job active past activeDeadlineSeconds and stops its pods', async () => {
    const ns = 'deadline';
    await createJob(ns, 'slow', '  activeDeadlineSeconds: 2\n  parallelism: 2\n  completions: 4', { 'skiff.dev/sim-duration': '1h' });
    await ok(['wait', '--for=condition=failed', 'job/slow', '-n', ns, '--timeout=30s']);
    const failed = await job(ns, 'slow');
    const cond = condition(failed, 'Failed')!;
    assert.equal(cond.reason, 'DeadlineExceeded');
    assert.equal(cond.message, 'Job was active longer than specified deadline');
    const took = Date.parse(cond.lastTransitionTime!) - Date.parse(failed.status!.startTime!);
    assert.ok(took >= 2000 && took < 8000, `failed after ${took} ms`);
    // Both running pods were stopped and counted as failed.
    assert.equal(failed.status?.failed, 2);
    assert.equal(failed.status?.active, undefined);
    await eventually(async () => assert.deepEqual((await pods(ns)).filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running'), []));
    const deadlineEvents = await settled(() => events(ns), (list) => list.some((e) => e.reason === 'DeadlineExceeded'));
    assert.ok(deadlineEvents.some((e) => e.reason === 'DeadlineExceeded' && e.message === 'Job was active longer than specified deadline'));
  });

  it('fails at once on a FailJob exit-code rule of podFailurePolicy', async () => {
    const ns = 'policy-fail';
    await createJob(
      ns,
      'strict',
      `  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [42]}`,
      { 'skiff.dev/sim-exit-code': '42', 'skiff.dev/sim-duration': '200ms' },
    );
    await ok(['wait', '--for=condition=failed', 'job/strict', '-n', ns, '--timeout=30s']);
    const failed = await job(ns, 'strict');
    const [pod] = await pods(ns);
    const cond = condition(failed, 'Failed')!;
    assert.equal(cond.reason, 'PodFailurePolicy');
    assert.equal(cond.message, `Container main for pod ${ns}/${pod!.metadata!.name} failed with exit code 42 matching FailJob rule at index 0`);
    assert.equal(failed.status?.failed, 1);
  });

  it('does not count a failure the policy ignores (DisruptionTarget) and replaces the pod', async () => {
    const ns = 'policy-ignore';
    await createJob(
      ns,
      'tolerant',
      `  backoffLimit: 0
  podFailurePolicy:
    rules:
    - action: Ignore
      onPodConditions: [{type: DisruptionTarget}]`,
      { 'skiff.dev/sim-duration': '3s' },
    );
    const first = await eventually(async () => {
      const [pod] = await pods(ns);
      assert.equal(pod?.status?.phase, 'Running');
      return pod!;
    });
    // A disruption, as eviction marks it, then the kubelet kills the container.
    await client.resource(kinds.pods).patch(
      ns,
      first.metadata!.name!,
      { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }] } },
      { type: 'strategic', subresource: 'status' },
    );
    await sim.command(`fail-pod ${ns}/${first.metadata!.name} 137`);
    // backoffLimit 0 would have failed the Job had this failure counted.
    await ok(['wait', '--for=condition=complete', 'job/tolerant', '-n', ns, '--timeout=40s']);
    const done = await job(ns, 'tolerant');
    assert.equal(done.status?.failed, undefined);
    assert.equal(done.status?.succeeded, 1);
    assert.equal(condition(done, 'Failed'), undefined);
    assert.equal((await pods(ns)).length, 2);
  });

  it('suspends (deleting running pods) and resumes (restarting the clock)', async () => {
    const ns = 'suspend';
    await createJob(ns, 'paused', '  suspend: true\n  completions: 2\n  parallelism: 2', { 'skiff.dev/sim-duration': '2s' });
    await eventually(async () => {
      const j = await job(ns, 'paused');
      assert.equal(condition(j, 'Suspended')?.reason, 'JobSuspended');
      assert.equal(condition(j, 'Suspended')?.message, 'Job suspended');
      assert.equal(j.status?.startTime, undefined);
    });
    assert.deepEqual(await pods(ns), []);
    assert.match(await ok(['get', 'job', 'paused', '-n', ns]), /paused\s+Suspended\s+0\/2/);

    await ok(['patch', 'job', 'paused', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const resumed = await eventually(async () => {
      const j = await job(ns, 'paused');
      const c = j.status?.conditions?.find((x) => x.type === 'Suspended');
      assert.equal(c?.status, 'False');
      assert.equal(c?.reason, 'JobResumed');
      assert.equal(j.status?.active, 2);
      return j;
    });
    assert.ok(resumed.status?.startTime);
    // Suspend again while the pods run: they are deleted, and not counted as failures.
    await ok(['patch', 'job', 'paused', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await eventually(async () => {
      const j = await job(ns, 'paused');
      assert.ok(condition(j, 'Suspended'));
      assert.equal(j.status?.active, undefined);
      assert.equal(j.status?.failed, undefined);
      assert.deepEqual(await pods(ns), []);
    });
    await new Promise((r) => setTimeout(r, 1100));
    await ok(['patch', 'job', 'paused', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await ok(['wait', '--for=condition=complete', 'job/paused', '-n', ns, '--timeout=30s']);
    const done = await job(ns, 'paused');
    assert.ok(Date.parse(done.status!.startTime!) > Date.parse(resumed.status!.startTime!), 'the second resume restarted the clock');
    const wanted = ['Suspended', 'Resumed', 'SuccessfulDelete', 'Completed'];
    const reasons = (await settled(() => events(ns), (list) => wanted.every((r) => list.some((e) => e.reason === r)))).map((e) => e.reason);
    for (const reason of wanted) assert.ok(reasons.includes(reason), reason);
  });

  it('deletes a finished Job (and its pods) after ttlSecondsAfterFinished', async () => {
    const ns = 'ttl';
    await createJob(ns, 'brief', '  ttlSecondsAfterFinished: 1', { 'skiff.dev/sim-duration': '200ms' });
    await ok(['wait', '--for=condition=complete', 'job/brief', '-n', ns, '--timeout=30s']);
    const finishedAt = Date.now();
    await ok(['wait', '--for=delete', 'job/brief', '-n', ns, '--timeout=30s']);
    assert.ok(Date.now() - finishedAt >= 0);
    await eventually(async () => assert.deepEqual(await pods(ns), []));
  });
});
