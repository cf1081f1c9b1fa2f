import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNode, makePod } from '../test-helpers.ts';
import { nodeAffinity } from './node-affinity.ts';
import { nodePorts } from './node-ports.ts';

const state = new Map();

test('NodeAffinity: nodeSelector and required terms (ORed terms, ANDed expressions, Gt/Lt, matchFields)', () => {
  const ssd = makeNode('n1', undefined, { labels: { disk: 'ssd', cores: '16' } });
  const hdd = makeNode('n2', undefined, { labels: { disk: 'hdd', cores: '4' } });
  const selector = makePod('p', {}, { nodeSelector: { disk: 'ssd' } });
  assert.equal(nodeAffinity.preFilter(state, selector).code, 'Success');
  assert.equal(nodeAffinity.filter(state, selector, ssd).code, 'Success');
  assert.deepEqual(nodeAffinity.filter(state, selector, hdd).reasons, ["node(s) didn't match Pod's node affinity/selector"]);
  const terms = makePod('p', {}, {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] },
    ] } } },
  });
  assert.equal(nodeAffinity.filter(state, terms, ssd).code, 'Success');
  assert.equal(nodeAffinity.filter(state, terms, hdd).code, 'UnschedulableAndUnresolvable');
  assert.equal(nodeAffinity.filter(state, terms, makeNode('n3')).code, 'Success');
  assert.equal(nodeAffinity.preFilter(state, makePod('plain')).code, 'Skip');
});

test('NodeAffinity score: preferred terms add their weights, normalized by the best node', () => {
  const pod = makePod('p', {}, { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 80, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
    { weight: 20, preference: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } },
  ] } } });
  const s = new Map();
  assert.equal(nodeAffinity.preScore(s, pod).code, 'Success');
  const nodes = [makeNode('a', undefined, { labels: { disk: 'ssd', zone: 'z' } }), makeNode('b', undefined, { labels: { disk: 'ssd' } }), makeNode('c')];
  const scores = new Float64Array(nodes.map((n) => nodeAffinity.score(s, pod, n)));
  nodeAffinity.normalize(s, pod, scores);
  assert.deepEqual([...scores], [100, 80, 0]);
});

test('NodePorts: a host port in use on the node (same protocol, overlapping IP) rejects the pod', () => {
  const withPort = (name: string, port: number, hostIP?: string, protocol?: string) =>
    makePod(name, {}, { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: port, ...(hostIP ? { hostIP } : {}), ...(protocol ? { protocol } : {}) }] }] });
  const node = makeNode('n1', undefined, { pods: [withPort('a', 8080, '10.0.0.1')] });
  assert.equal(nodePorts.preFilter(state, makePod('plain')).code, 'Skip');
  assert.deepEqual(nodePorts.filter(state, withPort('p', 8080), node).reasons, ["node(s) didn't have free ports for the requested pod ports"]);
  assert.equal(nodePorts.filter(state, withPort('p', 8080, '10.0.0.2'), node).code, 'Success');
  assert.equal(nodePorts.filter(state, withPort('p', 8080, undefined, 'UDP'), node).code, 'Success');
  assert.equal(nodePorts.filter(state, withPort('p', 8081), node).code, 'Success');
});
