import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { planSlices, type PlanOptions } from './slice-reconciler.ts';

const labels = { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' };
const ports: EndpointPort[] = [{ name: 'http', port: 8080, protocol: 'TCP' }];
const options: PlanOptions = {
  addressType: 'IPv4',
  maxEndpointsPerSlice: 100,
  labels,
  newSlice: (p) => ({ addressType: 'IPv4', metadata: { generateName: 'web-', labels }, ports: p, endpoints: [] }),
};

function endpoint(i: number, ready = true): Endpoint {
  return { addresses: [`10.0.${Math.floor(i / 250)}.${i % 250}`], conditions: { ready, serving: ready, terminating: false }, targetRef: { kind: 'Pod', namespace: 'ns', name: `p${i}`, uid: `u${i}` } };
}
const range = (from: number, to: number, ready = true) => Array.from({ length: to - from }, (_, i) => endpoint(from + i, ready));
let serial = 0;
/** What the API would hold after creating the planned slices. */
const stored = (slices: EndpointSlice[]) => slices.map((s) => ({ ...s, metadata: { ...s.metadata, name: `web-${++serial}`, resourceVersion: '1' } }));

test('new endpoints go into slices of at most maxEndpointsPerSlice', () => {
  const plan = planSlices([], [{ ports, endpoints: range(0, 250) }], options);
  assert.deepEqual(plan.create.map((s) => s.endpoints.length), [100, 100, 50]);
  assert.deepEqual([plan.update.length, plan.delete.length], [0, 0]);
});

test('nothing changed: nothing written', () => {
  const existing = stored(planSlices([], [{ ports, endpoints: range(0, 150) }], options).create);
  const plan = planSlices(existing, [{ ports, endpoints: range(0, 150) }], options);
  assert.deepEqual([plan.create.length, plan.update.length, plan.delete.length], [0, 0, 0]);
});

test('a changed endpoint updates only its own slice, in place', () => {
  const existing = stored(planSlices([], [{ ports, endpoints: range(0, 150) }], options).create);
  const desired = range(0, 150);
  desired[120] = endpoint(120, false);
  const plan = planSlices(existing, [{ ports, endpoints: desired }], options);
  assert.deepEqual([plan.create.length, plan.delete.length], [0, 0]);
  assert.equal(plan.update.length, 1);
  assert.equal(plan.update[0]!.metadata!.name, existing[1]!.metadata.name);
  assert.equal(plan.update[0]!.endpoints.find((e) => e.targetRef?.name === 'p120')!.conditions!.ready, false);
});

test('a replaced pod takes the place of the removed one in the same slice', () => {
  const existing = stored(planSlices([], [{ ports, endpoints: range(0, 150) }], options).create);
  const desired = [...range(0, 10), ...range(11, 150), endpoint(200)];
  const plan = planSlices(existing, [{ ports, endpoints: desired }], options);
  assert.deepEqual([plan.create.length, plan.delete.length, plan.update.length], [0, 0, 1]);
  const names = plan.update[0]!.endpoints.map((e) => e.targetRef?.name);
  assert.ok(names.includes('p200') && !names.includes('p10'));
});

test('new endpoints fill the fullest untouched slice that takes them all', () => {
  const existing = stored([
    { ...options.newSlice(ports), endpoints: range(0, 60) },
    { ...options.newSlice(ports), endpoints: range(60, 90) },
  ]);
  const plan = planSlices(existing, [{ ports, endpoints: [...range(0, 90), ...range(90, 120)] }], options);
  assert.deepEqual([plan.create.length, plan.delete.length, plan.update.length], [0, 0, 1]);
  // 60 + 30 fits; that slice is the fullest that can take all 30.
  assert.equal(plan.update[0]!.metadata!.name, existing[0]!.metadata.name);
  assert.equal(plan.update[0]!.endpoints.length, 90);
});

test('no endpoints: one placeholder, kept across syncs', () => {
  const first = planSlices([], [], options);
  assert.equal(first.create.length, 1);
  assert.deepEqual(first.create[0]!.endpoints, []);
  const again = planSlices(stored(first.create), [], options);
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
});

test('a slice whose ports went away is reused for the new port set', () => {
  const existing = stored(planSlices([], [{ ports, endpoints: range(0, 5) }], options).create);
  const newPorts: EndpointPort[] = [{ name: 'http', port: 9090, protocol: 'TCP' }];
  const plan = planSlices(existing, [{ ports: newPorts, endpoints: range(0, 5) }], options);
  assert.deepEqual([plan.create.length, plan.delete.length, plan.update.length], [0, 0, 1]);
  assert.equal(plan.update[0]!.metadata!.name, existing[0]!.metadata.name);
  assert.deepEqual(plan.update[0]!.ports, newPorts);
});
