import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, quantityErrors } from './index.ts';

const FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX = "unable to parse quantity's suffix";

describe('parseQuantity', () => {
  const cases: [text: string, value: number][] = [
    ['0', 0],
    ['2', 2],
    ['+2', 2],
    ['-2', -2],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['100m', 0.1],
    ['250m', 0.25],
    ['1500m', 1.5],
    ['10n', 1e-8],
    ['10u', 1e-5],
    ['1k', 1000],
    ['1M', 1e6],
    ['2G', 2e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['500Ki', 512000],
    ['1Mi', 1048576],
    ['1Gi', 1073741824],
    ['1.5Gi', 1610612736],
    ['1Ti', 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1Ei', 2 ** 60],
    ['1e3', 1000],
    ['1E3', 1000],
    ['1e+3', 1000],
    ['5e-3', 0.005],
    ['12E-1', 1.2],
  ];
  for (const [text, value] of cases) {
    it(`${text} = ${value}`, () => {
      assert.equal(parseQuantity(text), value);
      assert.deepEqual(quantityErrors(text), []);
    });
  }

  const invalid: [text: string, error: string][] = [
    ['', FORMAT],
    ['abc', FORMAT],
    ['1 Gi', FORMAT],
    ['1GB', FORMAT],
    ['1.2.3', FORMAT],
    ['1e3.5', FORMAT],
    ['-', FORMAT],
    ['Ki', FORMAT],
    ['1Kii', SUFFIX],
    ['1mi', SUFFIX],
    ['1e', SUFFIX],
    ['1kk', SUFFIX],
  ];
  for (const [text, error] of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseQuantity(text), undefined);
      assert.deepEqual(quantityErrors(text), [error]);
    });
  }
});

describe('quantityErrors', () => {
  it('accepts JSON numbers', () => {
    assert.deepEqual(quantityErrors(2), []);
    assert.deepEqual(quantityErrors(0.5), []);
  });

  it('rejects other JSON values with the format message', () => {
    for (const value of [true, null, undefined, {}, [], Number.NaN]) {
      assert.deepEqual(quantityErrors(value), [FORMAT]);
    }
  });

  it('rejects values beyond a double', () => {
    assert.deepEqual(quantityErrors('1e400'), ['numeric value out of range']);
    assert.equal(parseQuantity('1e400'), undefined);
  });
});
