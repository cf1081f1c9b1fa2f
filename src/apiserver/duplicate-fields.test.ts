import assert from 'node:assert/strict';
import { it } from 'node:test';
import { duplicateFields } from './duplicate-fields.ts';

it('finds duplicated keys with upstream-style paths', () => {
  assert.deepEqual(duplicateFields('{"a":1,"b":2}'), []);
  assert.deepEqual(duplicateFields('{"spec":{"replicas":1,"replicas":2}}'), ['spec.replicas']);
  assert.deepEqual(
    duplicateFields('{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x","name":"c"}]},"kind":"Pod","kind":"Pod"}'),
    ['spec.containers[1].name', 'kind'],
  );
  assert.deepEqual(duplicateFields('{"a":[1,"x",{"k":1,"k":2},[{"z":0,"z":1}]]}'), ['a[2].k', 'a[3][0].z']);
  assert.deepEqual(duplicateFields('{"s":"quote \\" and , : { [","s":"again"}'), ['s']);
  assert.deepEqual(duplicateFields(' { "a" : { } , "a" : [ ] } '), ['a']);
});

it('answers fast from the parsed value and falls back to a scan when the counts differ', () => {
  const texts = ['{"a":1,"b":{"c":[{"d":2}]}}', '{"s":"x\\":y","a":1,"a":2}', '{ "a" : { "b" : 1 , "b" : 2 } }', '{"e":"\\":"}'];
  for (const text of texts) {
    // The last key of a duplicated pair wins in JSON.parse, so parsed has fewer keys.
    assert.deepEqual(duplicateFields(text, JSON.parse(text)), duplicateFields(text));
  }
  assert.deepEqual(duplicateFields('{"s":"x\\":y","a":1,"a":2}', JSON.parse('{"s":"x\\":y","a":1,"a":2}')), ['a']);
});
