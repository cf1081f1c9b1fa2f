/**
 * Leader election through a Lease against a real server: one leader at a time, hand-over on
 * release, and take-over after a leader goes silent — with no moment where two lead.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, HttpTransport, kinds, LeaderElector, type ClientRequest, type ClientResponse, type Transport, type WatchEventMessage } from '../src/client/index.ts';
import { cleanup, startServer, type TestServer } from './helpers/cluster.ts';

let server: TestServer;
let transport: HttpTransport;

before(async () => {
  server = await startServer();
  transport = HttpTransport.fromKubeconfig(server.kubeconfig);
});

after(async () => {
  transport?.close();
  await cleanup(server);
});

/** A transport that can be cut off, as a partitioned or frozen leader would be. */
class Cuttable implements Transport {
  cut = false;
  readonly inner: Transport;
  constructor(inner: Transport) {
    this.inner = inner;
  }
  request<T>(request: ClientRequest): Promise<ClientResponse<T>> {
    if (this.cut) return Promise.reject(new Error('network cut'));
    return this.inner.request<T>(request);
  }
  watch<T>(request: Omit<ClientRequest, 'method' | 'body'>, onEvent: (e: WatchEventMessage<T>) => void, onEnd: () => void): Promise<() => void> {
    return this.inner.watch(request, onEvent, onEnd);
  }
}

const timing = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 100 };

/** Records when each candidate led, to check that no two intervals overlap. */
function candidate(name: string, transport: Transport, intervals: { who: string; from: number; to?: number }[]) {
  return new LeaderElector(new Client(transport), {
    name: 'test-lease',
    identity: name,
    ...timing,
    onStartedLeading: () => void intervals.push({ who: name, from: performance.now() }),
    onStoppedLeading: () => {
      const open = intervals.findLast((i) => i.who === name && i.to === undefined);
      if (open) open.to = performance.now();
    },
  });
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('one candidate leads; a released lease passes at once; a silent leader is replaced after the lease duration', async () => {
  const intervals: { who: string; from: number; to?: number }[] = [];
  const aNet = new Cuttable(transport);
  const a = candidate('a', aNet, intervals);
  const b = candidate('b', transport, intervals);
  const c = candidate('c', transport, intervals);
  a.start();
  await until(() => a.leading, 'a to lead');
  b.start();
  c.start();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(b.leading || c.leading, false, 'only one leads while the lease is renewed');
  const lease = await new Client(transport).resource(kinds.leases).get('kube-system', 'test-lease');
  assert.equal(lease.spec!.holderIdentity, 'a');
  assert.equal(lease.spec!.leaseDurationSeconds, 2);

  // a goes silent: it steps down after renewDeadline; another takes over after leaseDuration.
  const cutAt = performance.now();
  aNet.cut = true;
  await until(() => b.leading || c.leading, 'b or c to take over');
  const tookOver = performance.now() - cutAt;
  assert.equal(a.leading, false);
  assert.ok(tookOver >= timing.leaseDurationMs - 150, `take-over waited for the lease to expire (${tookOver.toFixed(0)} ms)`);
  const next = b.leading ? b : c;
  const other = b.leading ? c : b;

  // The new leader stops: the lease is released and the last candidate leads at once.
  const stoppedAt = performance.now();
  await next.stop();
  await until(() => other.leading, 'the last candidate to lead');
  assert.ok(performance.now() - stoppedAt < timing.leaseDurationMs, 'a released lease is taken without waiting for it to expire');
  await other.stop();
  await a.stop();

  // Never two at once.
  const sorted = intervals.map((i) => ({ ...i, to: i.to ?? Infinity })).sort((x, y) => x.from - y.from);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.from >= sorted[i - 1]!.to, `leadership overlapped: ${JSON.stringify(sorted)}`);
  assert.equal(sorted.length, 3);
});
