import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldSet } from './fields.ts';
import { parsePathElement, pathString, serializePathElement, type Path } from './path-element.ts';

const f = (field: string) => ({ field });
const k = (...pairs: [string, unknown][]) => ({ key: pairs });

describe('path elements', () => {
  it('serialize as FieldsV1 keys', () => {
    assert.equal(serializePathElement(f('replicas')), 'f:replicas');
    assert.equal(serializePathElement(k(['name', 'web'])), 'k:{"name":"web"}');
    assert.equal(serializePathElement(k(['containerPort', 80], ['protocol', 'TCP'])), 'k:{"containerPort":80,"protocol":"TCP"}');
    assert.equal(serializePathElement({ value: 'kubernetes' }), 'v:"kubernetes"');
    assert.equal(serializePathElement({ index: 3 }), 'i:3');
    // Go's encoding/json escapes HTML characters.
    assert.equal(serializePathElement({ value: 'a<b' }), 'v:"a\\u003cb"');
  });

  it('parse back, key fields sorted by name', () => {
    assert.deepEqual(parsePathElement('k:{"protocol":"TCP","containerPort":80}'), k(['containerPort', 80], ['protocol', 'TCP']));
    assert.deepEqual(parsePathElement('v:{"a":1}'), { value: { a: 1 } });
    assert.deepEqual(parsePathElement('i:0'), { index: 0 });
    assert.equal(parsePathElement('x:whatever'), undefined);
    assert.throws(() => parsePathElement('f'), /key must be 2 characters long/);
    assert.throws(() => parsePathElement('fx'), /missing colon/);
  });

  it('print as upstream prints paths in conflicts', () => {
    const path: Path = [f('spec'), f('template'), f('spec'), f('containers'), k(['name', 'web']), f('image')];
    assert.equal(pathString(path), '.spec.template.spec.containers[name="web"].image');
    assert.equal(pathString([f('metadata'), f('finalizers'), { value: 'a' }]), '.metadata.finalizers[="a"]');
    assert.equal(pathString([f('spec'), f('ports'), k(['port', 80], ['protocol', 'TCP'])]), '.spec.ports[port=80,protocol="TCP"]');
    assert.equal(pathString([f('args'), { index: 2 }]), '.args[2]');
  });
});

describe('FieldSet', () => {
  it('writes FieldsV1 with fields before keys, values and indexes, and "." after the children', () => {
    const set = FieldSet.of(
      [f('spec'), f('replicas')],
      [f('spec'), f('containers'), k(['name', 'web'])],
      [f('spec'), f('containers'), k(['name', 'web']), f('image')],
      [f('spec'), f('containers'), k(['name', 'a'])],
      [f('metadata'), f('finalizers'), { value: 'x' }],
      [f('metadata'), f('labels'), f('app')],
      [f('metadata'), f('labels')],
    );
    const json = set.toJSON();
    assert.equal(
      JSON.stringify(json),
      JSON.stringify({
        'f:metadata': { 'f:finalizers': { 'v:"x"': {} }, 'f:labels': { 'f:app': {}, '.': {} } },
        'f:spec': {
          'f:containers': { 'k:{"name":"a"}': {}, 'k:{"name":"web"}': { 'f:image': {}, '.': {} } },
          'f:replicas': {},
        },
      }),
    );
    assert.ok(FieldSet.fromJSON(json).equals(set));
  });

  it('reads FieldsV1: "." makes a node a member, a leaf is always one', () => {
    const set = FieldSet.fromJSON({ 'f:spec': { 'f:template': { 'f:a': {} }, 'f:labels': { '.': {}, 'f:x': {} } } });
    assert.ok(set.has([f('spec'), f('template'), f('a')]));
    assert.ok(!set.has([f('spec'), f('template')]));
    assert.ok(set.has([f('spec'), f('labels')]));
    assert.ok(!set.has([f('spec')]));
    // Kinds of path element a later version may add are dropped, not fatal.
    assert.ok(FieldSet.fromJSON({ 'q:future': {}, 'f:a': {} }).equals(FieldSet.of([f('a')])));
    assert.throws(() => FieldSet.fromJSON({ 'k:{not json': {} }));
  });

  it('computes union, intersection and difference per node', () => {
    const a = FieldSet.of([f('a'), f('b')], [f('a'), f('c')], [f('x')]);
    const b = FieldSet.of([f('a'), f('c')], [f('a')], [f('y')]);
    assert.ok(a.union(b).equals(FieldSet.of([f('a'), f('b')], [f('a'), f('c')], [f('a')], [f('x')], [f('y')])));
    assert.ok(a.intersection(b).equals(FieldSet.of([f('a'), f('c')])));
    // Owning `.a` is not owning what is below it.
    assert.ok(a.difference(b).equals(FieldSet.of([f('a'), f('b')], [f('x')])));
    assert.ok(a.difference(a).isEmpty());
  });

  it('tells whether sets share a path, and whether one lies within another', () => {
    const a = FieldSet.of([f('a'), f('b')], [f('x')]);
    assert.equal(a.intersects(FieldSet.of([f('a'), f('b')], [f('y')])), true);
    // Owning `.a` is not owning `.a.b`, nor the other way round.
    assert.equal(a.intersects(FieldSet.of([f('a')], [f('a'), f('c')])), false);
    assert.equal(a.intersects(new FieldSet()), false);
    assert.equal(FieldSet.of([f('a'), f('b')]).isSubsetOf(a), true);
    assert.equal(a.isSubsetOf(FieldSet.of([f('a'), f('b')])), false);
    assert.equal(FieldSet.of([f('a')]).isSubsetOf(a), false);
    // A node walked into but holding nothing is no path.
    const walked = new FieldSet();
    walked.child(f('z')).child(f('deeper'));
    assert.equal(walked.isSubsetOf(a), true);
    assert.equal(new FieldSet().isSubsetOf(a), true);
  });

  it('recursiveDifference removes everything below a member of the other set', () => {
    const a = FieldSet.of([f('status'), f('replicas')], [f('spec'), f('replicas')]);
    assert.ok(a.recursiveDifference(FieldSet.of([f('status')])).equals(FieldSet.of([f('spec'), f('replicas')])));
  });

  it('lists its paths in upstream order: a node\'s members, then its children', () => {
    const set = FieldSet.of([f('b'), f('x')], [f('a')], [f('b')]);
    assert.deepEqual(set.paths().map(pathString), ['.a', '.b', '.b.x']);
  });
});
