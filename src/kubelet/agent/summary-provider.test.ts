/**
 * The CPU sampler behind `usageNanoCores`, and the Summary's assembly over a stand-in runtime
 * (pod and container figures as the runtime reports them; node figures from this machine).
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ContainerRuntime, ContainerStatus, PodSandboxStats, SandboxStatus } from '../runtime/container-runtime.ts';
import { CpuSampler, SummaryProvider } from './summary-provider.ts';

test('CpuSampler: a rate needs two samples a window apart; counter resets start over; idle keys are forgotten', () => {
  const s = new CpuSampler({ minWindowMs: 1000 });
  assert.equal(s.observe('a', 5e9, 10_000), undefined);
  assert.equal(s.observe('a', 5.1e9, 10_500), undefined, 'too soon: no rate yet');
  assert.equal(s.observe('a', 5.5e9, 12_000), 250_000_000, '0.5 s of CPU over 2 s = 250m');
  assert.equal(s.observe('a', 5.6e9, 12_200), 250_000_000, 'within the window: the last rate');
  assert.equal(s.observe('a', 1e6, 13_500), undefined, 'a smaller counter (a new cgroup) starts over');
  assert.equal(s.observe('a', 2e6, 13_500 + 120_001), undefined, 'a stale reference starts over');
  s.endRound();
  s.endRound();
  s.endRound();
  assert.equal(s.observe('a', 2e9, 20_000), undefined, 'forgotten after rounds without it');
});

test('SummaryProvider: pods from the runtime stats, in the Summary API shape', async () => {
  const root = await mkdtemp(join(tmpdir(), 'skiff-test-summary-'));
  try {
    const logDir = join(root, 'logs', 'default_web_u1', 'app');
    await mkdir(logDir, { recursive: true });
    await writeFile(join(logDir, '0.log'), 'x'.repeat(5000));
    const vol = join(root, 'pods', 'u1', 'volumes', 'kubernetes.io~empty-dir', 'cache');
    await mkdir(vol, { recursive: true });
    await writeFile(join(vol, 'f'), 'y'.repeat(10_000));
    let cpu = 1e9;
    let now = 1_700_000_000_000;
    const sandbox = { id: 's1', state: 'ready', createdAt: now - 60_000, config: { name: 'web', namespace: 'default', uid: 'u1' } } as SandboxStatus;
    const container = { id: 'c1', sandboxId: 's1', name: 'app', state: 'running', pid: 1, createdAt: now - 59_000, startedAt: now - 58_000, logPath: join(logDir, '0.log') } as ContainerStatus;
    const runtime = {
      listPodSandboxes: async () => [sandbox],
      listContainers: async () => [container],
      containerStats: async () => { throw new Error('not used: listPodSandboxStats has them'); },
      listPodSandboxStats: async (): Promise<PodSandboxStats[]> => [{
        timestamp: now, sandboxId: 's1', cpuUsageNanos: cpu + 1e6, memoryUsageBytes: 9e6, memoryWorkingSetBytes: 8e6, memoryRssBytes: 7e6, pageFaults: 10, majorPageFaults: 1,
        interfaces: [{ name: 'eth0', rxBytes: 100, rxErrors: 0, txBytes: 200, txErrors: 0 }], processCount: 2,
        containers: [{ id: 'c1', timestamp: now, cpuUsageNanos: cpu, memoryUsageBytes: 6e6, memoryWorkingSetBytes: 5e6, memoryAvailableBytes: 3e6, writableLayerBytes: 4096, writableLayerInodes: 3 }],
      }],
    } as unknown as ContainerRuntime;
    const provider = new SummaryProvider({ runtime, nodeName: 'n1', rootDir: root, now: () => new Date(now), sampleIntervalMs: 0, activeWindowMs: 60_000 });
    // Nobody has asked yet: a background sample reads the node's counters only.
    let listed = 0;
    const list = runtime.listPodSandboxes.bind(runtime);
    runtime.listPodSandboxes = async () => { listed++; return list(); };
    await provider.sample();
    assert.equal(listed, 0, 'no pod is sampled while nobody reads stats');
    const first = await provider.summary();
    assert.equal(first.pods[0]!.containers[0]!.cpu!.usageNanoCores, undefined, 'one sample: no rate yet');
    now += 2000;
    cpu += 0.2e9;
    const s = await provider.summary();
    assert.equal(s.node.nodeName, 'n1');
    assert.ok(s.node.fs!.capacityBytes! > 0 && s.node.rlimit!.maxpid! > 0);
    const pod = s.pods[0]!;
    assert.deepEqual(pod.podRef, { name: 'web', namespace: 'default', uid: 'u1' });
    assert.equal(pod.startTime, new Date(now - 2000 - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'));
    const c = pod.containers[0]!;
    assert.equal(c.name, 'app');
    assert.equal(c.cpu!.usageNanoCores, 100_000_000, '0.2 s over 2 s');
    assert.equal(c.cpu!.usageCoreNanoSeconds, cpu);
    assert.deepEqual({ ws: c.memory!.workingSetBytes, avail: c.memory!.availableBytes }, { ws: 5e6, avail: 3e6 });
    assert.equal(c.rootfs!.usedBytes, 4096);
    assert.ok(c.logs!.usedBytes! >= 5000);
    assert.equal(pod.memory!.workingSetBytes, 8e6);
    assert.equal(pod.network!.name, 'eth0');
    assert.equal(pod.network!.rxBytes, 100);
    assert.equal(pod.process_stats!.process_count, 2);
    const cache = pod.volume!.find((v) => v.name === 'cache')!;
    assert.ok(cache.usedBytes! >= 10_000);
    assert.ok(pod['ephemeral-storage']!.usedBytes! >= 4096 + 5000 + 10_000);
    // After a request, background samples cover the pods too (so the next request has rates).
    await provider.sample();
    assert.equal(listed, 3);
    now += 61_000;
    await provider.sample();
    assert.equal(listed, 3, 'quiet again after the active window');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
