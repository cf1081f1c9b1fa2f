import assert from 'node:assert/strict';
import { it } from 'node:test';
import { aggregatedContentType, aggregatedDiscovery, aggregatedVersion, groupList, resourceList } from './discovery.ts';
import { builtinKinds } from './kinds/index.ts';
import { ResourceRegistry } from './registry.ts';

const registry = new ResourceRegistry(builtinKinds);

it('negotiates aggregated discovery from Accept as kubectl sends it', () => {
  const kubectl = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  assert.equal(aggregatedVersion(kubectl), 'v2');
  assert.equal(aggregatedVersion('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList'), 'v2beta1');
  assert.equal(aggregatedVersion('application/json'), undefined);
  assert.equal(aggregatedVersion(undefined), undefined);
  assert.equal(aggregatedContentType('v2'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
});

it('tells the same story as the per-group-version documents', () => {
  const aggregated = aggregatedDiscovery(registry, 'apis', 'v2') as any;
  const legacyGroups = (groupList(registry) as any).groups.map((g: any) => g.name);
  assert.deepEqual(aggregated.items.map((i: any) => i.metadata.name), legacyGroups);
  for (const item of aggregated.items) {
    for (const v of item.versions) {
      const legacy = resourceList(registry, `${item.metadata.name}/${v.version}`) as any;
      const names = legacy.resources.filter((r: any) => !r.name.includes('/')).map((r: any) => r.name);
      assert.deepEqual(v.resources.map((r: any) => r.resource), names);
      const subs = legacy.resources.filter((r: any) => r.name.includes('/')).map((r: any) => r.name).sort();
      assert.deepEqual(v.resources.flatMap((r: any) => (r.subresources ?? []).map((s: any) => `${r.resource}/${s.subresource}`)).sort(), subs);
    }
  }
  const core = aggregatedDiscovery(registry, 'core', 'v2') as any;
  assert.equal(core.items.length, 1);
  assert.equal(core.items[0].metadata.name, '');
  const pods = core.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
  assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
  assert.equal(pods.scope, 'Namespaced');
  assert.deepEqual(pods.shortNames, ['po']);
});
