/** Sizing of memory-backed emptyDir volumes, as upstream's `calculateEmptyDirMemorySize`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { memoryVolumeSize } from './volumes.ts';

const Mi = 1024 * 1024;
const pod = (...limits: (string | undefined)[]): Pod => ({
  spec: { containers: limits.map((memory, i) => ({ name: `c${i}`, ...(memory ? { resources: { limits: { memory } } } : {}) })) },
});

test('a memory emptyDir: node allocatable, lowered to the pod limit, lowered to sizeLimit', () => {
  assert.equal(memoryVolumeSize(pod(undefined), undefined, 1024 * Mi), 1024 * Mi, 'no limits: the node allocatable');
  assert.equal(memoryVolumeSize(pod('64Mi', '32Mi'), undefined, 1024 * Mi), 96 * Mi, 'every container limited: their sum');
  assert.equal(memoryVolumeSize(pod('64Mi', undefined), undefined, 1024 * Mi), 1024 * Mi, 'one container unlimited: no pod limit');
  assert.equal(memoryVolumeSize(pod('64Mi'), 8 * Mi, 1024 * Mi), 8 * Mi, 'a smaller sizeLimit wins');
  assert.equal(memoryVolumeSize(pod('64Mi'), 128 * Mi, 1024 * Mi), 64 * Mi, 'a sizeLimit above the pod limit does not raise it');
  assert.equal(memoryVolumeSize(pod(undefined), 2048 * Mi, 1024 * Mi), 1024 * Mi, 'nor above the node allocatable');
});
