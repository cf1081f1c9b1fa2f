import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShardedMap } from './sharded-map.ts';

describe('ShardedMap', () => {
  it('behaves as a Map of string keys, but for iteration order', () => {
    const map = new ShardedMap<number>();
    const plain = new Map<string, number>();
    const keys = ['', 'a', 'ab', '/registry/core/configmaps/p/cm-1', '0f8e2c6a-uid-ff', ...Array.from({ length: 1000 }, (_, i) => `cm-run-1-${i}`)];
    keys.forEach((key, i) => {
      map.set(key, i);
      plain.set(key, i);
    });
    assert.equal(map.size, plain.size);
    for (const key of keys) {
      assert.equal(map.get(key), plain.get(key));
      assert.equal(map.has(key), true);
    }
    assert.equal(map.get('missing'), undefined);
    assert.equal(map.has('missing'), false);
    assert.deepEqual(new Map([...map]), plain);
    // Entries may be deleted while visited.
    map.forEach((value, key) => {
      if (value % 2 === 0) assert.equal(map.delete(key), true);
    });
    assert.equal(map.size, keys.filter((_, i) => i % 2 === 1).length);
    assert.equal(map.delete('a'), true);
    assert.equal(map.delete('a'), false);
    assert.equal(map.get('a'), undefined);
  });
});
