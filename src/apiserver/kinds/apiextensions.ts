/**
 * The apiextensions.k8s.io/v1 CustomResourceDefinition kind: how a CRD itself is stored,
 * defaulted, validated and listed. What a CRD serves is `crd/`'s `resourceDefsFromCrd`.
 */
import { validateCustomResourceDefinition } from '../crd/index.ts';
import type { KubeObject, ResourceDef } from '../resource.ts';
import { createdAtColumn } from './columns.ts';
import { ensureObject, isObject, specOf, str } from './checks.ts';

/** Upstream's `SetDefaults_CustomResourceDefinition(Spec)` and `SetDefaults_ServiceReference`. */
function defaultCrd(object: KubeObject): void {
  const spec = specOf(object);
  const names = ensureObject(spec, 'names');
  const kind = str(names.kind);
  if (!str(names.singular) && kind) names.singular = kind.toLowerCase();
  if (!str(names.listKind) && kind) names.listKind = `${kind}List`;
  if (!isObject(spec.conversion)) spec.conversion = { strategy: 'None' };
  const service = (spec.conversion as Record<string, unknown>).webhook;
  if (isObject(service) && isObject(service.clientConfig) && isObject(service.clientConfig.service)) {
    const ref = service.clientConfig.service;
    if (ref.port === undefined || ref.port === null) ref.port = 443;
  }
  // The storage version is always among the stored versions. Done here rather than in
  // prepareForUpdate because the server restores the stored status after that hook.
  addStorageVersion(object);
}

function addStorageVersion(object: KubeObject): void {
  const versions = Array.isArray(specOf(object).versions) ? (specOf(object).versions as unknown[]) : [];
  const storage = versions.find((v) => isObject(v) && v.storage === true) as { name?: unknown } | undefined;
  if (!storage || typeof storage.name !== 'string') return;
  const status = ensureObject(object, 'status');
  const stored = Array.isArray(status.storedVersions) ? (status.storedVersions as unknown[]) : [];
  if (!stored.includes(storage.name)) status.storedVersions = [...stored, storage.name];
}

/**
 * CustomResourceDefinitions: cluster-scoped, `crd`/`crds`, in the `api-extensions` category,
 * with a status subresource. Without a printer of its own upstream, `kubectl get crd` shows
 * NAME and CREATED AT. Generation counts spec changes.
 */
export const customResourceDefinitionsKind: ResourceDef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  subresources: { status: true },
  generation: true,
  printerColumns: [createdAtColumn],
  defaults: defaultCrd,
  prepareForCreate(object) {
    // A new CRD starts with an empty status: only the storage version is recorded.
    object.status = {};
    addStorageVersion(object);
  },
  validate: (object, old) => validateCustomResourceDefinition(object, old),
};

/** The apiextensions.k8s.io group's kinds. */
export const apiextensionsKinds: readonly ResourceDef[] = [customResourceDefinitionsKind];
