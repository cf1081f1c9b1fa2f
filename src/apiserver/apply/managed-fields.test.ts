import assert from 'node:assert/strict';
import { it } from 'node:test';
import { managerId, type ManagerFields } from './managed-fields.ts';

it("names a manager by its entry's JSON without fields and time, the same asked twice, never two alike", () => {
  const entries: Pick<ManagerFields, 'manager' | 'operation' | 'apiVersion' | 'subresource'>[] = [
    { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', subresource: '' },
    { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', subresource: 'status' },
    { manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', subresource: '' },
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', subresource: '' },
    { manager: 'kubectl1', operation: 'Update', apiVersion: '', subresource: '' },
    { manager: 'kubectl', operation: 'Update', apiVersion: '1', subresource: '' },
    { manager: '1:x', operation: 'Update', apiVersion: '', subresource: '' },
  ];
  const ids = entries.map((e) => managerId(e));
  assert.equal(ids[0], '{"manager":"kubectl","operation":"Update","apiVersion":"v1"}');
  assert.equal(ids[1], '{"manager":"kubectl","operation":"Update","apiVersion":"v1","subresource":"status"}');
  assert.equal(ids[3], '{"manager":"kubectl","operation":"Apply"}', "an applier's id leaves out the API version");
  assert.equal(new Set(ids).size, entries.length, 'all different');
  assert.deepEqual(entries.map((e) => managerId({ ...e })), ids, 'the same when asked again');
});
