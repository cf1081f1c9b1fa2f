import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseResourcePath } from './request-info.ts';

it('parses resource paths as upstream addresses them', () => {
  const base = { legacyWatch: false, subresource: undefined, name: undefined, namespace: undefined };
  assert.deepEqual(parseResourcePath('/api/v1/pods'), { ...base, group: '', version: 'v1', resource: 'pods' });
  assert.deepEqual(parseResourcePath('/apis/apps/v1/namespaces/default/deployments/web/scale'), {
    ...base, group: 'apps', version: 'v1', namespace: 'default', resource: 'deployments', name: 'web', subresource: 'scale',
  });
  // Namespaces themselves, with their own subresources.
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/team-a'), { ...base, group: '', version: 'v1', resource: 'namespaces', name: 'team-a' });
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/team-a/finalize'), { ...base, group: '', version: 'v1', resource: 'namespaces', name: 'team-a', subresource: 'finalize' });
  assert.deepEqual(parseResourcePath('/api/v1/watch/namespaces/a/pods/'), { ...base, group: '', version: 'v1', namespace: 'a', resource: 'pods', legacyWatch: true });
  assert.deepEqual(parseResourcePath('/api/v1/nodes/n1/proxy/stats/summary'), { ...base, group: '', version: 'v1', resource: 'nodes', name: 'n1', subresource: 'proxy', subpath: 'stats/summary' });
  assert.deepEqual(parseResourcePath('/api/v1/nodes/n1/proxy'), { ...base, group: '', version: 'v1', resource: 'nodes', name: 'n1', subresource: 'proxy', subpath: '' });
  assert.equal(parseResourcePath('/api/v1/namespaces/a/pods/p/%41')?.subresource, 'A');
  for (const nothing of ['/api', '/api/v1', '/apis/apps/v1', '/api/v1/pods//x', '/api/v1/pods/p/status/extra', '/api/v1/pods/%zz', '/healthz', '/api/v1/watch']) {
    assert.equal(parseResourcePath(nothing), undefined, nothing);
  }
});
