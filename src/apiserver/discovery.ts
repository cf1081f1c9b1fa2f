/**
 * Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>[/<version>]`, `/version`),
 * built from the registry so that what is served and what is announced never disagree.
 */
import type { ResourceRegistry } from './registry.ts';
import type { ResourceDef } from './resource.ts';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The Kubernetes version Skiff's API corresponds to. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+skiff' };

/** `/version`. */
export function versionInfo(): Record<string, string> {
  return {
    ...KUBE_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-26T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'skiff',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** `/api`. */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

/** `/apis`. */
export function groupList(registry: ResourceRegistry): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.groups().map((g) => groupDoc(g.name, g.versions)),
  };
}

/** `/apis/<group>`, or undefined when the group is not served. */
export function group(registry: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  const found = registry.groups().find((g) => g.name === name);
  return found ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(found.name, found.versions) } : undefined;
}

function resourceEntries(def: ResourceDef): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: def.plural,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.review ? ['create'] : VERBS,
  };
  if (def.shortNames.length) main.shortNames = def.shortNames;
  if (def.categories.length) main.categories = def.categories;
  const entries = [main];
  const sub = (name: string, kind: string, verbs: string[], extra: Record<string, string> = {}) =>
    entries.push({ name: `${def.plural}/${name}`, singularName: '', namespaced: def.namespaced, kind, verbs, ...extra });
  if (def.subresources.status) sub('status', def.kind, ['get', 'patch', 'update']);
  if (def.subresources.scale) sub('scale', 'Scale', ['get', 'patch', 'update'], { group: 'autoscaling', version: 'v1' });
  if (def.group === '' && def.plural === 'namespaces') sub('finalize', 'Namespace', ['update']);
  if (def.group === '' && def.plural === 'pods') {
    sub('binding', 'Binding', ['create']);
    sub('eviction', 'Eviction', ['create'], { group: 'policy', version: 'v1' });
    sub('attach', 'PodAttachOptions', ['create', 'get']);
    sub('exec', 'PodExecOptions', ['create', 'get']);
    sub('log', 'Pod', ['get']);
    sub('portforward', 'PodPortForwardOptions', ['create', 'get']);
  }
  return entries;
}

/** `/api/v1` or `/apis/<group>/<version>`, or undefined when not served. */
export function resourceList(registry: ResourceRegistry, gv: string): Record<string, unknown> | undefined {
  const defs = registry.inGroupVersion(gv);
  if (defs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: defs.flatMap(resourceEntries),
  };
}

/** The aggregated discovery versions Skiff answers (`apidiscovery.k8s.io`). */
export type AggregatedVersion = 'v2' | 'v2beta1';

/**
 * The aggregated discovery version the client asked for in `Accept`, if any — kubectl ≥ 1.26
 * asks `/api` and `/apis` for an `APIGroupDiscoveryList` first, which saves it one request per
 * group-version.
 */
export function aggregatedVersion(accept: string | undefined): AggregatedVersion | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('g') !== 'apidiscovery.k8s.io' || params.get('as') !== 'APIGroupDiscoveryList') continue;
    const v = params.get('v');
    if (v === 'v2' || v === 'v2beta1') return v;
  }
  return undefined;
}

/** The content type of an aggregated discovery answer. */
export function aggregatedContentType(version: AggregatedVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

function resourceDiscovery(def: ResourceDef): Record<string, unknown> {
  const gvk = { group: def.group, version: def.version, kind: def.kind };
  const entry: Record<string, unknown> = {
    resource: def.plural,
    responseKind: gvk,
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: def.review ? ['create'] : VERBS,
  };
  if (def.shortNames.length) entry.shortNames = def.shortNames;
  if (def.categories.length) entry.categories = def.categories;
  const subresources: Record<string, unknown>[] = [];
  if (def.subresources.status) subresources.push({ subresource: 'status', responseKind: gvk, verbs: ['get', 'patch', 'update'] });
  if (def.subresources.scale) {
    subresources.push({ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
  }
  if (def.group === '' && def.plural === 'namespaces') subresources.push({ subresource: 'finalize', responseKind: gvk, verbs: ['update'] });
  if (def.group === '' && def.plural === 'pods') {
    subresources.push({ subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] });
    subresources.push({ subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
    subresources.push({ subresource: 'attach', responseKind: { group: '', version: 'v1', kind: 'PodAttachOptions' }, verbs: ['create', 'get'] });
    subresources.push({ subresource: 'exec', responseKind: { group: '', version: 'v1', kind: 'PodExecOptions' }, verbs: ['create', 'get'] });
    subresources.push({ subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] });
    subresources.push({ subresource: 'portforward', responseKind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' }, verbs: ['create', 'get'] });
  }
  if (subresources.length) entry.subresources = subresources;
  return entry;
}

/**
 * `/api` (`core`) or `/apis` as an `APIGroupDiscoveryList`: every group with its versions in
 * order of preference, each with its resources — the same facts as the per-group-version
 * documents, from the same registry.
 */
export function aggregatedDiscovery(registry: ResourceRegistry, which: 'core' | 'apis', version: AggregatedVersion): Record<string, unknown> {
  const groups = which === 'core' ? [{ name: '', versions: ['v1'] }] : registry.groups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: registry.inGroupVersion(g.name === '' ? v : `${g.name}/${v}`).map(resourceDiscovery),
        freshness: 'Current',
      })),
    })),
  };
}
