/**
 * Node pressure from injected figures: threshold parsing, upstream's default hard thresholds,
 * the transition period, and the conditions NodeStatusManager posts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '../../client/index.ts';
import { DEFAULT_EVICTION_HARD, parseEvictionHard, PressureTracker, thresholdsMet, type Observations } from './eviction-thresholds.ts';
import { NodeStatusManager } from './node-status.ts';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

/** A healthy machine: 8 GiB with 4 free, 100 GiB disks half free, few PIDs. */
function healthy(): Required<Observations> {
  return {
    'memory.available': { available: 4 * Gi, capacity: 8 * Gi },
    'nodefs.available': { available: 50 * Gi, capacity: 100 * Gi },
    'nodefs.inodesFree': { available: 5e6, capacity: 6e6 },
    'imagefs.available': { available: 50 * Gi, capacity: 100 * Gi },
    'imagefs.inodesFree': { available: 5e6, capacity: 6e6 },
    'pid.available': { available: 4_000_000, capacity: 4_194_304 },
  };
}

test('parsing: quantities and percentages; bad input refused', () => {
  assert.deepEqual(parseEvictionHard('memory.available<100Mi,nodefs.available<10%'), [
    { signal: 'memory.available', quantity: 100 * Mi },
    { signal: 'nodefs.available', fraction: 0.1 },
  ]);
  assert.equal(parseEvictionHard(DEFAULT_EVICTION_HARD).length, 6);
  assert.throws(() => parseEvictionHard('memory.available>100Mi'), /invalid eviction threshold/);
  assert.throws(() => parseEvictionHard('cpu.available<1'), /invalid eviction threshold/);
  assert.throws(() => parseEvictionHard('nodefs.available<120%'), /invalid percentage/);
});

test("upstream's defaults: each signal just below and just above its threshold", () => {
  const t = parseEvictionHard(DEFAULT_EVICTION_HARD);
  assert.deepEqual(thresholdsMet(t, healthy()), []);
  const cases: [keyof Observations, number, number][] = [
    ['memory.available', 100 * Mi - 1, 100 * Mi],
    ['nodefs.available', 10 * Gi - 1, 10 * Gi],
    ['nodefs.inodesFree', 0.05 * 6e6 - 1, 0.05 * 6e6],
    ['imagefs.available', 15 * Gi - 1, 15 * Gi],
    ['imagefs.inodesFree', 0.05 * 6e6 - 1, 0.05 * 6e6],
    ['pid.available', Math.floor(0.1 * 4_194_304) - 1, Math.ceil(0.1 * 4_194_304)],
  ];
  for (const [signal, below, at] of cases) {
    const o = healthy();
    o[signal] = { ...o[signal], available: below };
    assert.deepEqual(thresholdsMet(t, o).map((x) => x.signal), [signal], `${signal} below`);
    o[signal] = { ...o[signal], available: at };
    assert.deepEqual(thresholdsMet(t, o), [], `${signal} at the threshold is not pressure`);
  }
});

test('pressure stays for the transition period after the signal recovers', () => {
  let now = 1_000_000;
  const tracker = new PressureTracker({ transitionPeriodMs: 300_000, now: () => now });
  assert.deepEqual(tracker.observe(healthy()), { MemoryPressure: false, DiskPressure: false, PIDPressure: false });
  const low = healthy();
  low['memory.available'] = { available: 50 * Mi, capacity: 8 * Gi };
  low['imagefs.available'] = { available: 1 * Gi, capacity: 100 * Gi };
  assert.deepEqual(tracker.observe(low), { MemoryPressure: true, DiskPressure: true, PIDPressure: false });
  now += 299_000;
  assert.equal(tracker.observe(healthy()).MemoryPressure, true, 'still within the transition period');
  now += 2_000;
  assert.deepEqual(tracker.observe(healthy()), { MemoryPressure: false, DiskPressure: false, PIDPressure: false });
});

test('NodeStatusManager posts the conditions with upstream reasons from injected figures', async () => {
  let figures: Observations = healthy();
  const manager = new NodeStatusManager({
    client: {} as Client,
    nodeName: 'n1',
    runtimeVersion: 'runc://1.1.5',
    dataDir: '/',
    nodeIp: '192.0.2.1',
    pressureTransitionPeriodMs: 0,
    observe: async () => figures,
  });
  const conditions = async () => Object.fromEntries(((await manager.node()).status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
  assert.deepEqual(await conditions(), {
    MemoryPressure: 'False/KubeletHasSufficientMemory',
    DiskPressure: 'False/KubeletHasNoDiskPressure',
    PIDPressure: 'False/KubeletHasSufficientPID',
    Ready: 'True/KubeletReady',
  });
  const low = healthy();
  low['memory.available'] = { available: 10 * Mi, capacity: 8 * Gi };
  low['nodefs.inodesFree'] = { available: 10, capacity: 6e6 };
  low['pid.available'] = { available: 100, capacity: 4_194_304 };
  figures = low;
  assert.deepEqual(await conditions(), {
    MemoryPressure: 'True/KubeletHasInsufficientMemory',
    DiskPressure: 'True/KubeletHasDiskPressure',
    PIDPressure: 'True/KubeletHasInsufficientPID',
    Ready: 'True/KubeletReady',
  });
  figures = healthy();
  await new Promise((r) => setTimeout(r, 2));
  assert.equal((await conditions()).MemoryPressure, 'False/KubeletHasSufficientMemory');
});

test('the real machine is observed: every signal present with sane figures', async () => {
  const { observeNode } = await import('./node-status.ts');
  const o = await observeNode('/', '/');
  for (const [signal, v] of Object.entries(o)) {
    assert.ok(v.capacity > 0, `${signal} capacity`);
    assert.ok(v.available >= 0 && v.available <= v.capacity, `${signal}: ${v.available} of ${v.capacity}`);
  }
  assert.equal(Object.keys(o).length, 6);
});
