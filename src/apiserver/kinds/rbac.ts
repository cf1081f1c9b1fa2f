/**
 * The rbac.authorization.k8s.io/v1 kinds: Role, ClusterRole, RoleBinding, ClusterRoleBinding.
 * Roles list policy rules; bindings grant a role to users, groups and service accounts. A
 * binding's `roleRef` cannot change: to grant another role, delete and recreate the binding.
 */
import type { RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { dns1123SubdomainErrors, invalid, isValidPathSegmentName, notSupported, required } from '../validation/index.ts';
import { ageColumn, column, createdAtColumn, wideColumn } from './columns.ts';
import { arrayOf, at, deepEqual, ensureObject, isObject, listOf, objectsOf, str, validateLabelSelector, type JsonObject } from './checks.ts';

const GROUP = 'rbac.authorization.k8s.io';
const SUBJECT_KINDS = ['ServiceAccount', 'User', 'Group'];

// ---------------------------------------------------------------------------------------------
// Roles

/**
 * Upstream's `validatePolicyRule`: verbs always; then either non-resource URLs (cluster roles
 * only, and never mixed with resources) or API groups and resources.
 */
function policyRuleErrors(rule: JsonObject, namespaced: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (arrayOf(rule.verbs).length === 0) errors.push(required(at(path, 'verbs'), 'verbs must contain at least one value'));
  const urls = arrayOf(rule.nonResourceURLs);
  const groups = arrayOf(rule.apiGroups);
  const resources = arrayOf(rule.resources);
  const names = arrayOf(rule.resourceNames);
  if (urls.length > 0) {
    if (namespaced) errors.push(invalid(at(path, 'nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (groups.length > 0 || resources.length > 0 || names.length > 0) {
      errors.push(invalid(at(path, 'nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errors;
  }
  if (groups.length === 0) errors.push(required(at(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (resources.length === 0) errors.push(required(at(path, 'resources'), 'resource rules must supply at least one resource'));
  if (names.length > 0 && resources.length > 1) {
    errors.push(required(at(path, 'resourceNames'), 'resource names cannot apply to multiple resources'));
  }
  return errors;
}

function rulesErrors(object: KubeObject, namespaced: boolean): FieldError[] {
  return objectsOf(object.rules).flatMap(([i, rule]) => policyRuleErrors(rule, namespaced, at('rules', i)));
}

/** A ClusterRole's `aggregationRule`: at least one selector, each a valid label selector. */
function aggregationRuleErrors(rule: unknown): FieldError[] {
  if (rule === undefined || rule === null) return [];
  const path = 'aggregationRule.clusterRoleSelectors';
  const selectors = isObject(rule) ? arrayOf(rule.clusterRoleSelectors) : [];
  if (selectors.length === 0) return [required(path, 'at least one clusterRoleSelector required if aggregationRule is non-nil')];
  return selectors.flatMap((selector, i) => validateLabelSelector(selector, at(path, i)));
}

/** Roles: the permissions of one namespace. No printer of their own upstream: `Created At`. */
const rolesKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: [createdAtColumn],
  validate: (object) => rulesErrors(object, true),
};

/** ClusterRoles: cluster-wide permissions, optionally aggregated from other cluster roles by label. */
const clusterRolesKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  shortNames: [],
  categories: [],
  namespaced: false,
  subresources: {},
  generation: false,
  printerColumns: [createdAtColumn],
  validate: (object) => [...rulesErrors(object, false), ...aggregationRuleErrors(object.aggregationRule)],
};

// ---------------------------------------------------------------------------------------------
// Bindings

/** Upstream's `SetDefaults_RoleBinding` and `SetDefaults_Subject`: the API groups users leave out. */
function defaultBinding(object: KubeObject): void {
  const roleRef = ensureObject(object, 'roleRef');
  if (!roleRef.apiGroup) roleRef.apiGroup = GROUP;
  for (const [, subject] of objectsOf(object.subjects)) {
    if (subject.apiGroup) continue;
    // Service accounts are core objects; users and groups are RBAC's own.
    if (subject.kind === 'ServiceAccount') subject.apiGroup = '';
    else if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = GROUP;
  }
}

function roleRefErrors(roleRef: JsonObject, kinds: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (roleRef.apiGroup !== GROUP) errors.push(notSupported('roleRef.apiGroup', roleRef.apiGroup ?? '', [GROUP]));
  if (!kinds.includes(str(roleRef.kind))) errors.push(notSupported('roleRef.kind', roleRef.kind ?? '', kinds));
  const name = str(roleRef.name);
  if (name === '') errors.push(required('roleRef.name'));
  else for (const m of isValidPathSegmentName(name)) errors.push(invalid('roleRef.name', name, m));
  return errors;
}

/**
 * Upstream's `validateRoleBindingSubject`. A service account in a RoleBinding may leave its
 * namespace out (it means the binding's own); a ClusterRoleBinding has no namespace to fall
 * back on.
 */
function subjectErrors(subject: JsonObject, namespaced: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(subject.name);
  const apiGroup = str(subject.apiGroup);
  if (name === '') errors.push(required(at(path, 'name')));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (name !== '') for (const m of dns1123SubdomainErrors(name)) errors.push(invalid(at(path, 'name'), name, m));
      if (apiGroup !== '') errors.push(notSupported(at(path, 'apiGroup'), apiGroup, ['']));
      if (!namespaced && str(subject.namespace) === '') errors.push(required(at(path, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (name === '') errors.push(invalid(at(path, 'name'), name, `${subject.kind === 'User' ? 'user' : 'group'} name cannot be empty`));
      if (apiGroup !== GROUP) errors.push(notSupported(at(path, 'apiGroup'), apiGroup, [GROUP]));
      break;
    default:
      errors.push(notSupported(at(path, 'kind'), subject.kind ?? '', SUBJECT_KINDS));
  }
  return errors;
}

function bindingValidator(namespaced: boolean): (object: KubeObject, old: KubeObject | undefined) => FieldError[] {
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  return (object, old) => {
    const roleRef = isObject(object.roleRef) ? object.roleRef : {};
    const errors = roleRefErrors(roleRef, kinds);
    for (const [i, subject] of objectsOf(object.subjects)) errors.push(...subjectErrors(subject, namespaced, at('subjects', i)));
    // Which role a binding grants is its identity: changing it would silently re-grant.
    if (old && !deepEqual(object.roleRef, old.roleRef)) errors.push(invalid('roleRef', object.roleRef ?? null, 'cannot change roleRef'));
    return errors;
  };
}

/** Upstream's `SubjectsStrings`: users, groups and `namespace/name` service accounts. */
function subjectCells(subjects: Subject[] | undefined): { users: string; groups: string; serviceAccounts: string } {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of listOf<Subject>(subjects)) {
    if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
    else if (s.kind === 'ServiceAccount') serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
  }
  return { users: users.join(', '), groups: groups.join(', '), serviceAccounts: serviceAccounts.join(', ') };
}

/** A stored RoleBinding or ClusterRoleBinding (the two have the same shape). */
function binding(o: KubeObject): Partial<RoleBinding> {
  return o as Partial<RoleBinding>;
}

function bindingColumns(what: string, roleRefDoc: string): ResourceDef['printerColumns'] {
  const subjects = (o: KubeObject) => subjectCells(binding(o).subjects);
  return [
    column('Role', 'string', roleRefDoc, (o) => {
      const ref = binding(o).roleRef;
      return `${ref?.kind ?? ''}/${ref?.name ?? ''}`;
    }),
    ageColumn,
    wideColumn('Users', 'string', `Users in the ${what}`, (o) => subjects(o).users),
    wideColumn('Groups', 'string', `Groups in the ${what}`, (o) => subjects(o).groups),
    wideColumn('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, (o) => subjects(o).serviceAccounts),
  ];
}

/** RoleBindings: grant a Role or ClusterRole within one namespace. */
const roleBindingsKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  shortNames: [],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: bindingColumns(
    'roleBinding',
    'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
  ),
  defaults: defaultBinding,
  validate: bindingValidator(true),
};

/** ClusterRoleBindings: grant a ClusterRole in every namespace. */
const clusterRoleBindingsKind: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  shortNames: [],
  categories: [],
  namespaced: false,
  subresources: {},
  generation: false,
  printerColumns: bindingColumns(
    'clusterRoleBinding',
    'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
  ),
  defaults: defaultBinding,
  validate: bindingValidator(false),
};

/** The rbac.authorization.k8s.io group's kinds. */
export const rbacKinds: readonly ResourceDef[] = [clusterRoleBindingsKind, clusterRolesKind, roleBindingsKind, rolesKind];
