import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateJsonPath, formatCell, jsonPathError } from './jsonpath.ts';

const pod = {
  metadata: {
    name: 'web-1',
    labels: { app: 'web', 'app.kubernetes.io/name': 'web' },
    creationTimestamp: '2024-05-01T10:00:00Z',
  },
  spec: {
    containers: [
      { name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }, { containerPort: 443 }] },
      { name: 'sidecar', image: 'envoy:1.30' },
    ],
    replicas: 3,
    weight: 0.5,
    paused: false,
    nothing: null,
  },
  status: {
    conditions: [
      { type: 'Ready', status: 'True', priority: 2 },
      { type: 'Scheduled', status: 'False', priority: 1 },
    ],
  },
};

describe('evaluateJsonPath', () => {
  const cases: [string, unknown[]][] = [
    ['.metadata.name', ['web-1']],
    ['{.metadata.name}', ['web-1']],
    ['.spec.replicas', [3]],
    ['.spec.containers[0].image', ['nginx:1.27']],
    ['.spec.containers[-1].name', ['sidecar']],
    ['.spec.containers[*].name', ['app', 'sidecar']],
    ['.spec.containers[0:1].name', ['app']],
    ['.spec.containers[0,1].image', ['nginx:1.27', 'envoy:1.30']],
    ['.spec.containers[*].ports[*].containerPort', [80, 443]],
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    [".status.conditions[?(@.type=='Scheduled')].status", ['False']],
    ['.status.conditions[?(@.type!="Ready")].type', ['Scheduled']],
    ['.status.conditions[?(@.priority>1)].type', ['Ready']],
    ['.status.conditions[?(@.priority<=1)].type', ['Scheduled']],
    ['.spec.containers[?(@.ports)].name', ['app']],
    ['.status.conditions[?(@.type=="a)b")].status', []],
    ["['metadata']['name']", ['web-1']],
    [".metadata.labels['app']", ['web']],
    // Upstream re-parses a bracketed key as `.key`: a dot inside must be escaped.
    [".metadata.labels['app\\.kubernetes\\.io/name']", ['web']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['web']],
    [".metadata.labels['app.kubernetes.io/name']", []],
    ['..image', ['nginx:1.27', 'envoy:1.30']],
    ['.spec.nothing', [null]],
    ['.spec.missing', []],
    ['.spec.missing.deeper', []],
    ['.spec.replicas.deeper', []],
    // Errors (index out of bounds, a filter on a non-list) read as "nothing found".
    ['.spec.containers[5].name', []],
    ['.metadata[?(@.x=="y")]', []],
    ['.spec.replicas[0]', []],
    // Comparing a missing field is an error upstream, which empties the result.
    ['.spec.containers[?(@.image=="nginx:1.27")].name', ['app']],
    ['.status.conditions[?(@.reason=="x")].type', []],
  ];
  for (const [path, expected] of cases) {
    it(`${path} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(evaluateJsonPath(pod, path), expected);
    });
  }

  it('returns nothing for a path that does not parse', () => {
    assert.deepEqual(evaluateJsonPath(pod, '.spec[!]'), []);
  });
});

describe('jsonPathError', () => {
  const cases: [string, string | undefined][] = [
    ['.spec.replicas', undefined],
    ['.status.conditions[?(@.type=="Ready")].status', undefined],
    ['.spec.containers[', 'unterminated array'],
    ['.spec.containers[x]', 'invalid array index x'],
    ['.a[?(@.b=="c"', 'unterminated filter'],
    ['.a..', undefined],
    ['.a....b', 'invalid multiple recursive descent'],
    ['.a!b', undefined],
    ['!a', "unrecognized character in action: U+0021 '!'"],
    ['"abc', 'unterminated quoted string'],
  ];
  for (const [path, expected] of cases) {
    it(`${path} → ${expected ?? 'parses'}`, () => assert.equal(jsonPathError(path), expected));
  }
});

describe('formatCell', () => {
  const now = new Date('2024-05-01T12:30:00Z');
  const cases: [unknown[], string, string | number | boolean | null][] = [
    [[], 'string', null],
    [['x', 'y'], 'string', 'x'],
    [[3], 'string', '3'],
    [[1.5], 'string', '1.5'],
    [[1e21], 'string', '1e+21'],
    [[0.00001], 'string', '1e-05'],
    [[true], 'string', 'true'],
    [[null], 'string', '<no value>'],
    [[{ b: 1, a: 'x' }], 'string', 'map[a:x b:1]'],
    [[['a', 'b']], 'string', '[a b]'],
    [[[{ a: null }]], 'string', '[map[a:<nil>]]'],
    [[3], 'integer', 3],
    [[3.9], 'integer', 3],
    [['3'], 'integer', null],
    [[2.5], 'number', 2.5],
    [[true], 'boolean', true],
    [['true'], 'boolean', null],
    [[null], 'integer', null],
    [['2024-05-01T10:00:00Z'], 'date', '150m'],
    [['2024-05-01T12:29:30.5Z'], 'date', '29s'],
    [['2024-05-01'], 'date', '<invalid>'],
    [[''], 'date', '<unknown>'],
    [[42], 'date', null],
  ];
  for (const [values, type, expected] of cases) {
    it(`${JSON.stringify(values)} as ${type} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(formatCell(values, type, now), expected);
    });
  }
});
