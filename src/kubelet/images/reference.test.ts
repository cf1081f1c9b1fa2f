import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidImageNameError } from './errors.ts';
import { defaultPullPolicy, shouldPull } from './pull-policy.ts';
import { familiarName, formatReference, parseReference } from './reference.ts';

describe('image references', () => {
  it('normalizes Docker Hub names as distribution/reference', () => {
    assert.equal(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
    assert.equal(formatReference(parseReference('library/busybox:1.36')), 'docker.io/library/busybox:1.36');
    assert.equal(formatReference(parseReference('index.docker.io/foo/bar')), 'docker.io/foo/bar:latest');
    assert.equal(formatReference(parseReference('foo/bar:v1')), 'docker.io/foo/bar:v1');
    assert.equal(familiarName('docker.io/library/busybox'), 'busybox');
  });

  it('keeps registry hosts, ports and digests', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseReference(`127.0.0.1:5000/team/app@${digest}`), { domain: '127.0.0.1:5000', path: 'team/app', name: '127.0.0.1:5000/team/app', digest });
    assert.deepEqual(parseReference('localhost/app:1'), { domain: 'localhost', path: 'app', name: 'localhost/app', tag: '1' });
    assert.equal(formatReference(parseReference(`quay.io/a/b:t@${digest}`)), `quay.io/a/b:t@${digest}`);
    // A first component with upper case is taken as a host (only a host may have it).
    assert.equal(parseReference('Foo/bar').domain, 'Foo');
    assert.throws(() => parseReference('foo/Bar'), InvalidImageNameError);
  });

  it('refuses malformed references', () => {
    for (const bad of ['', 'UPPER', 'a:b:c', `x@sha256:${'z'.repeat(64)}`, 'a'.repeat(64), 'name:', 'a//b']) {
      assert.throws(() => parseReference(bad), InvalidImageNameError, bad);
    }
  });

  it('defaults and applies imagePullPolicy as upstream', () => {
    assert.equal(defaultPullPolicy('busybox'), 'Always');
    assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
    assert.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('127.0.0.1:5000/busybox'), 'Always');
    assert.equal(defaultPullPolicy(`busybox@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
    assert.equal(shouldPull('IfNotPresent', 'x:1', true), false);
    assert.equal(shouldPull(undefined, 'x:1', false), true);
    assert.equal(shouldPull('Always', 'x:1', true), true);
    assert.equal(shouldPull('Never', 'x:1', true), false);
    assert.throws(() => shouldPull('Never', 'x:1', false), /not present with pull policy of Never/);
  });
});
