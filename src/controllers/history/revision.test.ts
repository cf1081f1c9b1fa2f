import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import { canonicalJson, equalRevision, fnv32, hashRevisionData, nextRevision, podTemplateHash, revisionName, sortRevisions, templateOf, templatePatch } from './revision.ts';

test('FNV-1 and FNV-1a match the published 32-bit test vectors', () => {
  const bytes = new TextEncoder().encode('a');
  assert.equal(fnv32(bytes), 0x050c5d7e);
  assert.equal(fnv32(bytes, true), 0xe40c292c);
  assert.equal(fnv32(new Uint8Array()), 0x811c9dc5);
});

test('equal templates hash alike whatever their key order; a collision count changes the hash', () => {
  const a = templatePatch({ metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  const b = templatePatch({ spec: { containers: [{ image: 'nginx', name: 'c' }] }, metadata: { labels: { tier: 'x', app: 'web' } } });
  assert.equal(canonicalJson(a), canonicalJson(b));
  assert.equal(hashRevisionData(a, 0), hashRevisionData(b, 0));
  assert.notEqual(hashRevisionData(a, 0), hashRevisionData(a, 1));
  assert.match(hashRevisionData(a, 0), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.match(podTemplateHash({ spec: { containers: [] } }, 0), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.notEqual(podTemplateHash({ spec: { containers: [] } }, 0), podTemplateHash({ spec: { containers: [] } }, 1));
});

test('the stored patch is the one kubectl rollout undo applies, and gives the template back', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
  const patch = templatePatch(template);
  assert.deepEqual(patch, { spec: { template: { ...template, $patch: 'replace' } } });
  assert.match(canonicalJson(patch), /^\{"spec":\{"template":\{"\$patch":"replace",/);
  assert.deepEqual(templateOf({ revision: 1, data: patch } as ControllerRevision), template);
});

test('names, ordering and numbering', () => {
  assert.equal(revisionName('web', 'abc'), 'web-abc');
  assert.equal(revisionName('x'.repeat(300), 'h').length, 225);
  const rev = (name: string, revision: number, t = '2024-01-01T00:00:00Z') => ({ metadata: { name, creationTimestamp: t }, revision, data: { n: name } }) as ControllerRevision;
  const sorted = sortRevisions([rev('c', 3), rev('b', 1, '2024-01-02T00:00:00Z'), rev('a', 1)]);
  assert.deepEqual(sorted.map((r) => r.metadata?.name), ['a', 'b', 'c']);
  assert.equal(nextRevision(sorted), 4);
  assert.equal(nextRevision([]), 1);
  assert.ok(equalRevision(rev('a', 1), { ...rev('z', 9), data: { n: 'a' } } as ControllerRevision));
  assert.ok(!equalRevision(rev('a', 1), rev('b', 1)));
});
