/**
 * CronJobs. Most tests run the CronJob controller in this process, with a fake clock, against a
 * real API server (also in this process, on its own store, with no controllers of its own), so
 * a `*\/1 * * * *` schedule fires without waiting a minute; Jobs are finished by writing their
 * status as the Job controller would. They cover creation on schedule, the concurrency
 * policies, history limits, suspend, the starting deadline and time zones. The end-to-end
 * tests use a real `skiff server` with simulated nodes: `kubectl create job --from=cronjob/x`,
 * and a schedule firing at the next real minute.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { ApiServer } from '../src/apiserver/index.ts';
import { Client, EventRecorder, InformerFactory, kinds, LocalTransport, type ClientRequest, type Transport, type WatchEventMessage } from '../src/client/index.ts';
import { CronJobController } from '../src/controllers/cronjob/index.ts';
import type { Clock } from '../src/controllers/job/index.ts';
import { defaultSettings } from '../src/controllers/index.ts';
import { openBackend, type Backend } from '../src/storage/index.ts';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';
import { startSim, type TestSim } from './helpers/sim.ts';

/** A clock that moves only when told; timers fire as it passes them. */
class FakeClock implements Clock {
  #now: number;
  #timers: { due: number; fn: () => void }[] = [];
  constructor(start: number) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { due: this.#now + ms, fn };
    this.#timers.push(timer);
    return () => (this.#timers = this.#timers.filter((t) => t !== timer));
  }
  /** Moves to `to` (ms since the epoch), firing due timers. */
  set(to: number): void {
    this.#now = to;
    const due = this.#timers.filter((t) => t.due <= to);
    this.#timers = this.#timers.filter((t) => t.due > to);
    for (const t of due) t.fn();
  }
}

const MINUTE = 60_000;

/** A transport whose CronJob watch events arrive `lagMs` late (in order): a cache that is behind. */
class LaggingTransport implements Transport {
  lagMs = 0;
  readonly inner: Transport;
  constructor(inner: Transport) {
    this.inner = inner;
  }
  request<T>(request: ClientRequest) {
    return this.inner.request<T>(request);
  }
  watch<T>(request: Omit<ClientRequest, 'method' | 'body'>, onEvent: (event: WatchEventMessage<T>) => void, onEnd: () => void) {
    if (!request.path.includes('/cronjobs')) return this.inner.watch(request, onEvent, onEnd);
    return this.inner.watch<T>(
      request,
      (event) => (this.lagMs > 0 ? setTimeout(() => onEvent(event), this.lagMs) : onEvent(event)),
      onEnd,
    );
  }
}

/** Retries `check` until it passes (`ms` at most). */
async function eventually<T>(check: () => Promise<T> | T, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('cronjobs', { concurrency: true }, () => {
  describe('the controller with a fake clock', { concurrency: 1 }, () => {
    let dataDir: string;
    let backend: Backend;
    let api: ApiServer;
    let client: Client;
    let controller: CronJobController;
    let informers: InformerFactory;
    let clock: FakeClock;
    let lagging: LaggingTransport;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'skiff-cronjob-'));
      backend = await openBackend('', { dataDir });
      clock = new FakeClock(Date.now());
      // The server stamps creation times from the same fake clock.
      api = new ApiServer({ backend, listen: { host: '127.0.0.1', port: 0 }, now: () => clock.now() });
      await api.start();
      const local = new LocalTransport((r) => api.handle(r));
      client = new Client(local.withUserAgent('cronjob-test'));
      const controllerClient = new Client(local.withUserAgent('cronjob-controller'));
      lagging = new LaggingTransport(local);
      informers = new InformerFactory(new Client(lagging));
      controller = new CronJobController(
        {
          client: controllerClient,
          informers,
          recorder: (component) => new EventRecorder(controllerClient, { component, now: () => clock.now() }),
          settings: defaultSettings,
        },
        { clock },
      );
      await informers.start();
      controller.start();
    });
    after(async () => {
      controller?.stop();
      informers?.stop();
      await api?.stop();
      await backend?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    const cronJobs = () => client.resource(kinds.cronJobs);
    const jobs = async (ns: string) => (await client.resource(kinds.jobs).list({ namespace: ns })).items;
    const events = async (ns: string, reason: string) =>
      ((await client.resource(kinds.events).list({ namespace: ns })).items as Event[]).filter((e) => e.reason === reason);
    /** A namespace with a CronJob in it. */
    const create = async (ns: string, name: string, spec: Partial<CronJob['spec']> & { schedule: string }) => {
      await client.resource(kinds.namespaces).create({ metadata: { name: ns } });
      return cronJobs().create({
        metadata: { name, namespace: ns },
        spec: {
          jobTemplate: {
            metadata: { labels: { team: 'batch' }, annotations: { note: 'from-template' } },
            spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
          },
          ...spec,
        },
      });
    };
    /** Finishes a Job as the Job controller would. */
    const finish = async (job: Job, type: 'Complete' | 'Failed') => {
      const now = clock.now().toISOString().replace(/\.\d+Z$/, 'Z');
      await client.resource(kinds.jobs).updateStatus({
        ...job,
        status: {
          startTime: job.metadata!.creationTimestamp!,
          ...(type === 'Complete' ? { completionTime: now, succeeded: 1 } : { failed: 1 }),
          conditions: [{ type, status: 'True', lastTransitionTime: now, lastProbeTime: now }],
        },
      });
    };
    /** The next minute boundary after the clock, plus `extra` ms. */
    const nextMinute = (extra = 1000) => Math.floor(clock.now().getTime() / MINUTE) * MINUTE + MINUTE + extra;
    // The tests share the fake clock, so they run one after another.

    it('creates the run of each schedule time, named by its minute, and follows it to completion', async () => {
      const cj = await create('fires', 'tick', { schedule: '*/1 * * * *' });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await jobs('fires'), [], 'nothing before the first schedule time');
      const scheduled = new Date(nextMinute(0));
      clock.set(scheduled.getTime() + 200);
      const [job] = await eventually(async () => {
        const list = await jobs('fires');
        assert.equal(list.length, 1);
        return list;
      });
      assert.equal(job!.metadata?.name, `tick-${scheduled.getTime() / MINUTE}`);
      assert.equal(job!.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], scheduled.toISOString().replace('.000Z', 'Z'));
      assert.equal(job!.metadata?.annotations?.note, 'from-template');
      assert.equal(job!.metadata?.labels?.team, 'batch');
      assert.deepEqual(
        job!.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]),
        [['CronJob', 'tick', cj.metadata!.uid, true]],
      );
      const running = await eventually(async () => {
        const c = await cronJobs().get('fires', 'tick');
        assert.equal(c.status?.active?.length, 1);
        return c;
      });
      assert.equal(running.status?.active?.[0]?.name, job!.metadata?.name);
      assert.equal(running.status?.lastScheduleTime, scheduled.toISOString().replace('.000Z', 'Z'));
      await eventually(async () => assert.equal((await events('fires', 'SuccessfulCreate'))[0]?.message, `Created job ${job!.metadata?.name}`));

      await finish(job!, 'Complete');
      const done = await eventually(async () => {
        const c = await cronJobs().get('fires', 'tick');
        assert.equal(c.status?.active, undefined);
        assert.ok(c.status?.lastSuccessfulTime);
        return c;
      });
      assert.ok(done);
      await eventually(async () =>
        assert.equal((await events('fires', 'SawCompletedJob'))[0]?.message, `Saw completed job: ${job!.metadata?.name}, condition: Complete`),
      );
      // The next minute makes the next run.
      clock.set(nextMinute(200));
      await eventually(async () => assert.equal((await jobs('fires')).length, 2));
      await cronJobs().patch('fires', 'tick', { spec: { suspend: true } });
    });

    it('Forbid skips a run while one is active; Replace replaces it; Allow runs both', async () => {
      await create('forbid', 'one', { schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid' });
      await client.resource(kinds.namespaces).create({ metadata: { name: 'replace' } });
      await cronJobs().create({ metadata: { name: 'one', namespace: 'replace' }, spec: { schedule: '*/1 * * * *', concurrencyPolicy: 'Replace', jobTemplate: (await cronJobs().get('forbid', 'one')).spec!.jobTemplate } });
      await client.resource(kinds.namespaces).create({ metadata: { name: 'allow' } });
      await cronJobs().create({ metadata: { name: 'one', namespace: 'allow' }, spec: { schedule: '*/1 * * * *', concurrencyPolicy: 'Allow', jobTemplate: (await cronJobs().get('forbid', 'one')).spec!.jobTemplate } });
      await new Promise((r) => setTimeout(r, 200));
      clock.set(nextMinute(200));
      for (const ns of ['forbid', 'replace', 'allow']) {
        await eventually(async () => assert.equal((await cronJobs().get(ns, 'one')).status?.active?.length, 1, ns));
      }
      const [firstReplaced] = await jobs('replace');
      clock.set(nextMinute(200));
      await eventually(async () => assert.equal((await events('forbid', 'JobAlreadyActive'))[0]?.message, 'Not starting job because prior execution is running and concurrency policy is Forbid'));
      assert.equal((await jobs('forbid')).length, 1);
      await eventually(async () => assert.equal((await cronJobs().get('allow', 'one')).status?.active?.length, 2));
      assert.equal((await jobs('allow')).length, 2);
      await eventually(async () => {
        const left = await jobs('replace');
        assert.equal(left.length, 1);
        assert.notEqual(left[0]!.metadata?.name, firstReplaced!.metadata?.name);
        const c = await cronJobs().get('replace', 'one');
        assert.deepEqual(c.status?.active?.map((a) => a.name), [left[0]!.metadata?.name]);
      });
      await eventually(async () => assert.equal((await events('replace', 'SuccessfulDelete'))[0]?.message, `Deleted job ${firstReplaced!.metadata?.name}`));
      for (const ns of ['forbid', 'replace', 'allow']) await cronJobs().patch(ns, 'one', { spec: { suspend: true } });
    });

    it('Forbid holds when the cache has not yet seen the last run in status', async () => {
      await create('stale', 'slow', { schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid' });
      const cronJobCache = informers.informer(kinds.cronJobs);
      await eventually(() => assert.ok(cronJobCache.get('stale', 'slow')));
      // From here the controller's cache sees CronJob changes 1.5 s late.
      lagging.lagMs = 1500;
      try {
        clock.set(nextMinute(200));
        const written = await eventually(async () => {
          const c = await cronJobs().get('stale', 'slow');
          assert.equal(c.status?.active?.length, 1);
          return c;
        });
        assert.equal(cronJobCache.get('stale', 'slow')?.status?.active, undefined, 'the cache is still behind');
        // The next run is due while the cache still shows no active run.
        clock.set(nextMinute(200));
        await eventually(async () => assert.equal((await events('stale', 'JobAlreadyActive')).length > 0, true));
        assert.equal((await jobs('stale')).length, 1);
        assert.deepEqual((await cronJobs().get('stale', 'slow')).status?.active, written.status?.active);
        assert.equal((await events('stale', 'UnexpectedJob')).length, 0);
      } finally {
        lagging.lagMs = 0;
      }
      await cronJobs().patch('stale', 'slow', { spec: { suspend: true } });
    });

    it('keeps only the newest finished Jobs within the history limits', async () => {
      await create('history', 'keep', { schedule: '*/1 * * * *', successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 });
      await new Promise((r) => setTimeout(r, 200));
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.set(nextMinute(200));
        const job = await eventually(async () => {
          const list = (await jobs('history')).filter((j) => !made.includes(j.metadata!.name!));
          assert.equal(list.length, 1);
          return list[0]!;
        });
        made.push(job.metadata!.name!);
        // Runs 0-2 succeed, runs 3-4 fail.
        await finish(job, i < 3 ? 'Complete' : 'Failed');
        await eventually(async () => assert.equal((await cronJobs().get('history', 'keep')).status?.active, undefined));
      }
      await eventually(async () => {
        const left = (await jobs('history')).map((j) => j.metadata!.name).sort();
        assert.deepEqual(left, [made[1], made[2], made[4]].sort());
      });
      await eventually(async () => assert.ok((await events('history', 'SuccessfulDelete')).some((e) => e.message === `Deleted job ${made[0]}`)));
      await cronJobs().patch('history', 'keep', { spec: { suspend: true } });
    });

    it('suspend stops new runs; on resume the most recent missed time runs', async () => {
      await create('suspended', 'nap', { schedule: '*/1 * * * *', suspend: true });
      await new Promise((r) => setTimeout(r, 200));
      clock.set(nextMinute(200));
      clock.set(nextMinute(200));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await jobs('suspended'), []);
      const missed = Math.floor(clock.now().getTime() / MINUTE);
      await cronJobs().patch('suspended', 'nap', { spec: { suspend: false } });
      const [job] = await eventually(async () => {
        const list = await jobs('suspended');
        assert.equal(list.length, 1);
        return list;
      });
      assert.equal(job!.metadata?.name, `nap-${missed}`);
      await cronJobs().patch('suspended', 'nap', { spec: { suspend: true } });
    });

    it('skips a start past startingDeadlineSeconds, and warns of more than 100 missed times', async () => {
      await create('deadline', 'late', { schedule: '*/1 * * * *', startingDeadlineSeconds: 10 });
      await new Promise((r) => setTimeout(r, 200));
      // The controller is woken 30 s after the schedule time: too late for that run; as
      // upstream, times older than the deadline are not considered at all.
      const scheduled = nextMinute(0);
      clock.set(scheduled + 30_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await jobs('deadline'), []);
      // Woken in time, the next run starts.
      clock.set(nextMinute(5_000));
      await eventually(async () => assert.equal((await jobs('deadline')).length, 1));
      await cronJobs().patch('deadline', 'late', { spec: { suspend: true } });

      await create('many-missed', 'behind', { schedule: '*/1 * * * *' });
      await new Promise((r) => setTimeout(r, 200));
      clock.set(nextMinute(150 * MINUTE));
      await eventually(async () => {
        const [warning] = await events('many-missed', 'TooManyMissedTimes');
        assert.equal(warning?.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      });
      // Only the most recent missed time runs.
      await eventually(async () => assert.equal((await jobs('many-missed')).length, 1));
      await cronJobs().patch('many-missed', 'behind', { spec: { suspend: true } });
    });

    it('reads the schedule on the wall clock of spec.timeZone', async () => {
      // 09:00 in Tokyo (UTC+9, no daylight saving) is 00:00 UTC.
      await create('zoned', 'tokyo', { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' });
      await new Promise((r) => setTimeout(r, 200));
      const day = 24 * 60 * MINUTE;
      const midnightUtc = Math.floor(clock.now().getTime() / day) * day + day;
      clock.set(midnightUtc + 500);
      const [job] = await eventually(async () => {
        const list = await jobs('zoned');
        assert.equal(list.length, 1);
        return list;
      });
      assert.equal(job!.metadata?.name, `tokyo-${midnightUtc / MINUTE}`);
      const date = new Date(midnightUtc + 9 * 60 * MINUTE).toISOString().slice(0, 10);
      assert.equal(job!.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], `${date}T09:00:00+09:00`);
      await cronJobs().patch('zoned', 'tokyo', { spec: { suspend: true } });
    });
  });

  describe('end to end in skiff server', { concurrency: true }, () => {
    let server: TestServer;
    let sim: TestSim;
    before(async () => {
      server = await startServer();
      sim = await startSim(server, { nodes: 1, jobDuration: '500ms' });
    });
    after(async () => {
      await sim?.stop();
      await cleanup(server);
    });
    const ok = async (args: string[], input?: string) => {
      const r = await kubectl(server, args, input === undefined ? {} : { input });
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const cronJob = (name: string, schedule: string) => `apiVersion: batch/v1
kind: CronJob
metadata: {name: ${name}}
spec:
  schedule: "${schedule}"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox}]
`;

    it('kubectl create job --from=cronjob/x runs the template now, owned by the CronJob', async () => {
      await ok(['apply', '-f', '-'], cronJob('nightly', '0 3 * * *'));
      await ok(['create', 'job', 'manual-run', '--from=cronjob/nightly']);
      const job = JSON.parse(await ok(['get', 'job', 'manual-run', '-o', 'json'])) as Job;
      assert.equal(job.metadata?.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
      const cj = JSON.parse(await ok(['get', 'cronjob', 'nightly', '-o', 'json'])) as CronJob;
      assert.deepEqual(job.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [['CronJob', 'nightly', cj.metadata!.uid]]);
      await ok(['wait', '--for=condition=complete', 'job/manual-run', '--timeout=30s']);
      const table = (await ok(['get', 'cronjob', 'nightly'])).trim().split('\n');
      assert.match(table[0]!, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/);
      assert.match(table[1]!, /^nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s$/);
    });

    it('fires at the next real minute and the run completes', async () => {
      await ok(['apply', '-f', '-'], cronJob('every-minute', '* * * * *'));
      const fired = await eventually(async () => {
        const cj = JSON.parse(await ok(['get', 'cronjob', 'every-minute', '-o', 'json'])) as CronJob;
        assert.ok(cj.status?.lastScheduleTime);
        return cj;
      }, 70_000);
      const name = `every-minute-${Date.parse(fired.status!.lastScheduleTime!) / MINUTE}`;
      await ok(['wait', '--for=condition=complete', `job/${name}`, '--timeout=30s']);
      await eventually(async () => {
        const cj = JSON.parse(await ok(['get', 'cronjob', 'every-minute', '-o', 'json'])) as CronJob;
        assert.ok(cj.status?.lastSuccessfulTime);
      });
      await ok(['patch', 'cronjob', 'every-minute', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    });
  });
});
