import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNode, makePod, makeSnapshot, makeTotals } from '../test-helpers.ts';
import { interPodAffinity } from './inter-pod-affinity.ts';
import { podTopologySpread } from './pod-topology-spread.ts';

const zone = 'topology.kubernetes.io/zone';
const affinityTo = (app: string, kind: 'podAffinity' | 'podAntiAffinity', key = zone) => ({
  affinity: { [kind]: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: key }] } },
});

function run(pod: ReturnType<typeof makePod>, nodes: ReturnType<typeof makeNode>[], totals = makeTotals()) {
  const state = new Map();
  const pre = interPodAffinity.preFilter(state, pod, makeSnapshot(nodes, totals));
  return nodes.map((n) => (pre.code === 'Skip' ? 'Success' : interPodAffinity.filter(state, pod, n).reasons[0] ?? 'Success'));
}

test('InterPodAffinity: required affinity needs a matching pod in the node\'s domain; the first of a self-selecting set goes anywhere', () => {
  const totals = makeTotals();
  const db = makePod('db', {}, {}, { labels: { app: 'db' } });
  const nodes = [makeNode('a', undefined, { labels: { [zone]: 'z1' }, pods: [db], totals }), makeNode('b', undefined, { labels: { [zone]: 'z1' }, totals }), makeNode('c', undefined, { labels: { [zone]: 'z2' }, totals })];
  const web = makePod('web', {}, affinityTo('db', 'podAffinity'), { labels: { app: 'web' } });
  assert.deepEqual(run(web, nodes, totals), ['Success', 'Success', "node(s) didn't match pod affinity rules"]);
  const first = makePod('cache', {}, affinityTo('cache', 'podAffinity'), { labels: { app: 'cache' } });
  assert.deepEqual(run(first, nodes, totals), ['Success', 'Success', 'Success']);
  const lonely = makePod('x', {}, affinityTo('nothing', 'podAffinity'), { labels: { app: 'x' } });
  assert.deepEqual(new Set(run(lonely, nodes, totals)), new Set(["node(s) didn't match pod affinity rules"]));
});

test('InterPodAffinity: required anti-affinity, both the pod\'s own and existing pods\' towards it', () => {
  const totals = makeTotals();
  const guard = makePod('guard', {}, affinityTo('web', 'podAntiAffinity', 'kubernetes.io/hostname'), { labels: { app: 'guard' } });
  const nodes = [makeNode('a', undefined, { pods: [guard], totals }), makeNode('b', undefined, { pods: [makePod('w1', {}, {}, { labels: { app: 'web' } })], totals }), makeNode('c', undefined, { totals })];
  const web = makePod('web', {}, affinityTo('web', 'podAntiAffinity', 'kubernetes.io/hostname'), { labels: { app: 'web' } });
  assert.deepEqual(run(web, nodes, totals), ["node(s) didn't satisfy existing pods anti-affinity rules", "node(s) didn't match pod anti-affinity rules", 'Success']);
});

test('PodTopologySpread DoNotSchedule: skew within maxSkew counting this pod; missing label is unresolvable', () => {
  const totals = makeTotals();
  const labeled = (n: string) => makePod(n, {}, {}, { labels: { app: 'web' } });
  const nodes = [
    makeNode('a', undefined, { labels: { [zone]: 'z1' }, pods: [labeled('1'), labeled('2')], totals }),
    makeNode('b', undefined, { labels: { [zone]: 'z2' }, pods: [labeled('3')], totals }),
    makeNode('c', undefined, { totals }),
  ];
  const pod = makePod('p', {}, { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }, { labels: { app: 'web' } });
  const state = new Map();
  assert.equal(podTopologySpread.preFilter(state, pod, makeSnapshot(nodes, totals)).code, 'Success');
  assert.deepEqual(nodes.map((n) => podTopologySpread.filter(state, pod, n).reasons[0] ?? 'Success'), [
    "node(s) didn't match pod topology spread constraints",
    'Success',
    "node(s) didn't match pod topology spread constraints (missing required label)",
  ]);
  // minDomains 3 with two domains: the global minimum counts as 0, so z2 (1+1-0 = 2) is over a skew of 1.
  const min = makePod('p', {}, { topologySpreadConstraints: [{ maxSkew: 1, minDomains: 3, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }, { labels: { app: 'web' } });
  const s2 = new Map();
  podTopologySpread.preFilter(s2, min, makeSnapshot(nodes, totals));
  assert.equal(podTopologySpread.filter(s2, min, nodes[1]!).code, 'Unschedulable');
});

test('PodTopologySpread default spreading: replicas of one controller prefer nodes and zones with fewer of them', () => {
  const totals = makeTotals();
  const owner = { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true }] };
  const replica = (n: string) => makePod(n, {}, {}, owner);
  const nodes = [
    makeNode('a', undefined, { labels: { [zone]: 'z1' }, pods: [replica('1'), replica('2')], totals }),
    makeNode('b', undefined, { labels: { [zone]: 'z1' }, totals }),
    makeNode('c', undefined, { labels: { [zone]: 'z2' }, totals }),
  ];
  assert.equal(totals.controllerZones.get('rs-1')?.get('z1'), 2);
  const pod = replica('new');
  const state = new Map();
  assert.equal(podTopologySpread.preScore(state, pod, nodes, makeSnapshot(nodes, totals)).code, 'Success');
  const scores = new Float64Array(nodes.map((n) => podTopologySpread.score(state, pod, n)));
  podTopologySpread.normalize(state, pod, scores);
  assert.ok(scores[2]! > scores[1]! && scores[1]! > scores[0]!, `scores ${[...scores]}`);
  assert.equal(podTopologySpread.preScore(new Map(), makePod('orphan'), nodes, makeSnapshot(nodes, totals)).code, 'Skip');
});
