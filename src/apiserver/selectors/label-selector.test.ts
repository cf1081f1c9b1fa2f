import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelectorFromObject, parseLabelSelector, SelectorError } from './index.ts';

const NAME_PART_RULE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('parseLabelSelector', () => {
  describe('canonical string form', () => {
    const cases: [input: string, canonical: string][] = [
      ['', ''],
      ['x=a', 'x=a'],
      ['x==a', 'x==a'],
      ['x!=a', 'x!=a'],
      ['  x  =  a  ', 'x=a'],
      ['\tx\n=\ra ', 'x=a'],
      ['x=', 'x='],
      ['x', 'x'],
      ['!x', '!x'],
      ['! x', '!x'],
      ['x>1', 'x>1'],
      ['x < 10', 'x<10'],
      ['b=1,a=2', 'a=2,b=1'],
      ['b = 1 , a', 'a,b=1'],
      ['x in (b,a,a)', 'x in (a,b)'],
      ['x in(a)', 'x in (a)'],
      ['x  in  ( a , b )', 'x in (a,b)'],
      ['x notin ()', 'x notin ()'],
      ['x in (a,,b)', 'x in (,a,b)'],
      ['x in (,a)', 'x in (,a)'],
      ['x in (a,)', 'x in (,a)'],
      ['in in (in)', 'in in (in)'],
      ['notin notin (notin, in)', 'notin notin (in,notin)'],
      ['example.com/app=web,tier notin (cache),!canary', '!canary,example.com/app=web,tier notin (cache)'],
      ['x=a,x=b', 'x=a,x=b'],
    ];
    for (const [input, canonical] of cases) {
      it(`${JSON.stringify(input)} → ${JSON.stringify(canonical)}`, () => {
        const selector = parseLabelSelector(input);
        assert.equal(selector.toString(), canonical);
        assert.equal(String(selector), canonical);
        // The canonical form parses back to itself.
        assert.equal(parseLabelSelector(canonical).toString(), canonical);
      });
    }
  });

  it('is empty only for the empty string', () => {
    assert.equal(parseLabelSelector('').empty, true);
    assert.equal(parseLabelSelector('   ').empty, true);
    assert.equal(parseLabelSelector('a').empty, false);
  });

  describe('matching', () => {
    const labels = { app: 'web', tier: 'frontend', replicas: '3', empty: '' };
    const cases: [selector: string, labels: Record<string, string> | undefined, matches: boolean][] = [
      ['', labels, true],
      ['', undefined, true],
      ['app=web', labels, true],
      ['app==web', labels, true],
      ['app=db', labels, false],
      ['missing=web', labels, false],
      ['app!=db', labels, true],
      ['app!=web', labels, false],
      ['missing!=web', labels, true],
      ['app in (web,db)', labels, true],
      ['app in (db)', labels, false],
      ['missing in (web)', labels, false],
      ['app notin (db)', labels, true],
      ['app notin (web)', labels, false],
      ['missing notin (web)', labels, true],
      ['app', labels, true],
      ['missing', labels, false],
      ['!missing', labels, true],
      ['!app', labels, false],
      ['!app', undefined, true],
      ['app', undefined, false],
      ['replicas>2', labels, true],
      ['replicas>3', labels, false],
      ['replicas<4', labels, true],
      ['replicas<3', labels, false],
      ['app>1', labels, false],
      ['missing<100', labels, false],
      ['empty=', labels, true],
      ['empty in ()', labels, true],
      ['empty notin ()', labels, false],
      ['missing notin ()', labels, true],
      ['app=web,tier=frontend', labels, true],
      ['app=web,tier=backend', labels, false],
      ['app=web,!canary,tier in (frontend,backend)', labels, true],
    ];
    for (const [selector, set, expected] of cases) {
      it(`${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(set)}`, () => {
        assert.equal(parseLabelSelector(selector).matches(set), expected);
      });
    }

    it('compares integers beyond double precision exactly', () => {
      assert.equal(parseLabelSelector('n>9007199254740992').matches({ n: '9007199254740993' }), true);
    });
  });

  describe('errors', () => {
    const cases: [input: string, message: string][] = [
      ['x y', "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
      ['x=a b', "found 'b', expected: ',' or 'end of string'"],
      ['x=a,', "found '', expected: identifier after ','"],
      ['x=a,,y', "found ',', expected: identifier after ','"],
      [',x', "found ',', expected: !, identifier, or 'end of string'"],
      ['=a', "found '=', expected: !, identifier, or 'end of string'"],
      ['!', "unable to parse requirement: found '', expected: identifier"],
      ['!x=a', "found '=', expected: ',' or 'end of string'"],
      ['x in', "unable to parse requirement: found '' expected: '('"],
      ['x in a', "unable to parse requirement: found 'a' expected: '('"],
      ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
      ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
      ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
      ['x=(a)', "unable to parse requirement: found '(', expected: identifier"],
      ['-x=a', `unable to parse requirement: <nil>: Invalid value: "-x": ${NAME_PART_RULE}`],
      [
        'a/b/c',
        "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
      ['x=a$', `unable to parse requirement: values[0][x]: Invalid value: "a$": ${LABEL_VALUE_RULE}`],
      ['x in (ok,-bad)', `unable to parse requirement: values[0][x]: Invalid value: "-bad": ${LABEL_VALUE_RULE}`],
      [
        'x>a',
        "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer",
      ],
      [
        `x=${'a'.repeat(64)}`,
        `unable to parse requirement: values[0][x]: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
      ],
    ];
    for (const [input, message] of cases) {
      it(`${JSON.stringify(input)}: ${message}`, () => {
        assert.throws(() => parseLabelSelector(input), (error: unknown) => {
          assert.ok(error instanceof SelectorError);
          assert.equal(error.name, 'SelectorError');
          assert.equal(error.code, 'SELECTOR_INVALID');
          assert.equal(error.message, message);
          return true;
        });
      });
    }

    it('reports every problem of one requirement together', () => {
      assert.throws(
        () => parseLabelSelector('x>-1'),
        {
          message:
            `unable to parse requirement: values[0][x]: Invalid value: "-1": ${LABEL_VALUE_RULE}`,
        },
      );
    });
  });
});

describe('labelSelectorFromObject', () => {
  it('selects nothing for null and undefined', () => {
    for (const selector of [null, undefined]) {
      const compiled = labelSelectorFromObject(selector);
      assert.equal(compiled.matches({ app: 'web' }), false);
      assert.equal(compiled.matches(undefined), false);
      assert.equal(compiled.empty, false);
      assert.equal(compiled.toString(), '');
    }
  });

  it('selects everything for {} and empty lists', () => {
    for (const selector of [{}, { matchLabels: {}, matchExpressions: [] }]) {
      const compiled = labelSelectorFromObject(selector);
      assert.equal(compiled.matches({ app: 'web' }), true);
      assert.equal(compiled.matches(undefined), true);
      assert.equal(compiled.empty, true);
      assert.equal(compiled.toString(), '');
    }
  });

  it('combines matchLabels and matchExpressions, sorted by key', () => {
    const compiled = labelSelectorFromObject({
      matchLabels: { tier: 'frontend', app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'canary'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'Exists', values: [] },
        { key: 'banned', operator: 'NotIn', values: ['yes'] },
      ],
    });
    assert.equal(compiled.toString(), 'app=web,banned notin (yes),env in (canary,prod),!legacy,tier=frontend,zone');
    assert.equal(compiled.empty, false);
    assert.equal(compiled.matches({ app: 'web', tier: 'frontend', env: 'prod', zone: 'a' }), true);
    assert.equal(compiled.matches({ app: 'web', tier: 'frontend', env: 'prod', zone: 'a', legacy: '1' }), false);
    assert.equal(compiled.matches({ app: 'web', tier: 'frontend', env: 'dev', zone: 'a' }), false);
    assert.equal(compiled.matches({ app: 'web', tier: 'frontend', env: 'prod' }), false);
    assert.equal(compiled.matches({ app: 'web', tier: 'frontend', env: 'prod', zone: 'a', banned: 'yes' }), false);
    // The string form is a valid query-string selector with the same meaning.
    assert.equal(parseLabelSelector(compiled.toString()).toString(), compiled.toString());
  });

  const errors: [selector: unknown, message: string][] = [
    [
      { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] },
      '"Equals" is not a valid label selector operator',
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] },
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    ],
    [{ matchLabels: { '-a': 'b' } }, `key: Invalid value: "-a": ${NAME_PART_RULE}`],
    [{ matchLabels: { a: 'b c' } }, `values[0][a]: Invalid value: "b c": ${LABEL_VALUE_RULE}`],
    [
      { matchExpressions: [{ key: '-a', operator: 'In', values: [] }] },
      `[key: Invalid value: "-a": ${NAME_PART_RULE}, values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty]`,
    ],
    [{ matchLabels: ['a'] }, 'matchLabels must be an object of strings, got ["a"]'],
    [{ matchLabels: { a: 1 } }, 'matchLabels[a] must be a string, got 1'],
    [{ matchExpressions: {} }, 'matchExpressions must be a list, got {}'],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [1] }] }, 'matchExpressions values must be a list of strings, got [1]'],
  ];
  for (const [selector, message] of errors) {
    it(`rejects ${JSON.stringify(selector)}`, () => {
      assert.throws(
        () => labelSelectorFromObject(selector as Parameters<typeof labelSelectorFromObject>[0]),
        (error: unknown) => error instanceof SelectorError && error.message === message,
        message,
      );
    });
  }
});
