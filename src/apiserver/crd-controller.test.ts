import assert from 'node:assert/strict';
import { it } from 'node:test';
import { compareKubeVersions } from './crd-controller.ts';

it('orders custom resource versions as upstream does', () => {
  const versions = ['foo1', 'v1alpha1', 'v11alpha2', 'v1', 'v3beta1', 'v10beta3', 'v2', 'v11beta2', 'v10', 'v12alpha1', 'foo10'];
  assert.deepEqual(versions.sort(compareKubeVersions), ['v10', 'v2', 'v1', 'v11beta2', 'v10beta3', 'v3beta1', 'v12alpha1', 'v11alpha2', 'v1alpha1', 'foo1', 'foo10']);
});
