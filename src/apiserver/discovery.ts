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
