import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyIndex } from './key-index.ts';
import { SortedKeys } from './sorted-keys.ts';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

function keysIn(set: SortedKeys, start = '', end?: string): string[] {
  const keys: string[] = [];
  set.forEachInRange(start, end, (key) => keys.push(key) > 0);
  return keys;
}

describe('SortedKeys', () => {
  it('keeps thousands of random inserts and deletes in UTF-8 byte order', () => {
    const next = random(7);
    const alphabet = ['a', 'b', 'z', '/', '~', 'é', '\uFB00', '\u{1F600}', '0'];
    const word = (): string =>
      Array.from({ length: 1 + Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    const set = new SortedKeys();
    const model = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const key = word();
      if (model.has(key)) {
        if (next() < 0.5) {
          set.delete(key);
          model.delete(key);
        }
      } else {
        set.insert(key);
        model.add(key);
      }
    }
    const expected = [...model].sort(byBytes);
    assert.equal(set.size, expected.length);
    assert.deepEqual(keysIn(set), expected);
    assert.deepEqual(
      keysIn(set, 'b', 'z'),
      expected.filter((k) => byBytes(k, 'b') >= 0 && byBytes(k, 'z') < 0),
    );
  });

  it('switches to exact order when the first high code unit arrives', () => {
    const set = new SortedKeys();
    for (const key of ['\uFB00', 'a', '\u{1F600}', 'b']) set.insert(key);
    assert.deepEqual(keysIn(set), ['a', 'b', '\uFB00', '\u{1F600}']);
  });
});

describe('KeyIndex', () => {
  it('answers which row of a key is visible at each revision, and forgets compacted rows', () => {
    const index = new KeyIndex();
    index.put('/k', 1, 1, 1);
    index.put('/k', 3, 1, 2);
    index.remove('/k', 5);
    index.put('/k', 7, 7, 1);
    index.put('/other', 2, 2, 1);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((r) => index.visibleAt('/k', r)),
      [undefined, 1, 1, 3, 3, undefined, undefined, 7],
    );
    assert.deepEqual(index.head('/k'), { modRevision: 7, createRevision: 7, version: 1 });
    assert.deepEqual(index.range('/', undefined, 4, -1), [3, 2]);
    assert.deepEqual(index.range('/', undefined, 5, -1), [2]);
    assert.deepEqual(index.range('/', undefined, 0, 1), [7]);

    index.compact(5);
    // Revisions 1 and 3 are superseded at 5, and the tombstone at 5 goes too.
    assert.deepEqual([5, 6, 7].map((r) => index.visibleAt('/k', r)), [undefined, undefined, 7]);
    index.remove('/other', 8);
    index.compact(8);
    assert.equal(index.count('', undefined), 1);
    assert.deepEqual(index.range('', undefined, 0, -1), [7]);
  });

  it('keeps a key of one row as well as a key of many, through deletes, re-creates and compactions', () => {
    const index = new KeyIndex();
    index.put('/once', 1, 1, 1);
    assert.deepEqual([0, 1, 2].map((r) => index.visibleAt('/once', r)), [undefined, 1, 1]);
    assert.equal(index.has('/once'), true);
    index.remove('/once', 2);
    assert.equal(index.has('/once'), false);
    assert.deepEqual([1, 2].map((r) => index.visibleAt('/once', r)), [1, undefined]);
    index.compact(1);
    assert.equal(index.visibleAt('/once', 1), 1, 'the row visible at the compaction stays');
    index.compact(2);
    assert.equal(index.count('', undefined), 0, 'a tombstone the compaction reaches goes with its key');
    index.put('/once', 3, 3, 1);
    index.put('/once', 4, 3, 2);
    index.compact(4);
    // Left with one row again, the key reads as before.
    assert.deepEqual(index.head('/once'), { modRevision: 4, createRevision: 3, version: 2 });
    assert.deepEqual([3, 4].map((r) => index.visibleAt('/once', r)), [undefined, 4]);
    index.put('/once', 5, 3, 3);
    assert.deepEqual([4, 5].map((r) => index.visibleAt('/once', r)), [4, 5]);
    assert.deepEqual(index.range('', undefined, 4, -1), [4]);
  });
});
