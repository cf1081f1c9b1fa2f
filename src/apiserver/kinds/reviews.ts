/**
 * The "review" kinds of authentication.k8s.io/v1 and authorization.k8s.io/v1: TokenReview,
 * SelfSubjectReview, SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview and
 * SelfSubjectRulesReview. They are questions, not objects: a client POSTs one, the server fills
 * in `status` (who the token belongs to, whether the request would be allowed) and returns it.
 * Nothing is stored, listed or watched, so these are kept apart from the stored kinds.
 */
import type { FieldError, KubeObject, ResourceDef } from '../resource.ts';
import { invalid } from '../validation/index.ts';
import { createdAtColumn } from './columns.ts';
import { arrayOf, isObject, str } from './checks.ts';

type ReviewSpec = Record<string, unknown>;

function specOfReview(object: KubeObject): ReviewSpec {
  return isObject(object.spec) ? object.spec : {};
}

function has(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Exactly one of resource and non-resource attributes (both access-review kinds ask this). */
function attributesErrors(spec: ReviewSpec): FieldError[] {
  if (has(spec.resourceAttributes) && has(spec.nonResourceAttributes)) {
    return [invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes')];
  }
  if (!has(spec.resourceAttributes) && !has(spec.nonResourceAttributes)) {
    return [invalid('spec.resourceAttributes', spec.nonResourceAttributes ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  }
  return [];
}

/** A SubjectAccessReview also names whom it asks about. */
function subjectAccessReviewErrors(object: KubeObject): FieldError[] {
  const spec = specOfReview(object);
  const errors = attributesErrors(spec);
  if (str(spec.user) === '' && arrayOf(spec.groups).length === 0) {
    errors.push(invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  }
  return errors;
}

/** A LocalSubjectAccessReview asks about its own namespace, and only about resources. */
function localSubjectAccessReviewErrors(object: KubeObject): FieldError[] {
  const spec = specOfReview(object);
  const errors = subjectAccessReviewErrors(object);
  const attributes = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const namespace = object.metadata?.namespace ?? '';
  if (attributes && str(attributes.namespace) !== namespace) {
    errors.push(invalid('spec.resourceAttributes.namespace', attributes.namespace ?? '', 'must match metadata.namespace'));
  }
  if (has(spec.nonResourceAttributes)) {
    errors.push(invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
  }
  return errors;
}

function review(group: string, kind: string, namespaced: boolean, validate?: ResourceDef['validate']): ResourceDef {
  const plural = `${kind.toLowerCase()}s`;
  return {
    group,
    version: 'v1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced,
    subresources: {},
    generation: false,
    printerColumns: [createdAtColumn],
    ...(validate ? { validate } : {}),
  };
}

/**
 * The create-only review kinds, for discovery and request routing. They are not in
 * `builtinKinds` because the generic object store would store them: the server must answer a
 * POST by validating the body (`validate` checks the spec only; upstream also requires empty
 * metadata, namespace aside), filling `status` from the authenticator or authorizer, and
 * returning the object with 201 without storing it; every other verb is 405, and discovery
 * lists `verbs: ["create"]`.
 */
export const reviewKinds: readonly ResourceDef[] = [
  review('authentication.k8s.io', 'TokenReview', false),
  review('authentication.k8s.io', 'SelfSubjectReview', false),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', true, localSubjectAccessReviewErrors),
  review('authorization.k8s.io', 'SelfSubjectAccessReview', false, (object) => attributesErrors(specOfReview(object))),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', false),
  review('authorization.k8s.io', 'SubjectAccessReview', false, subjectAccessReviewErrors),
];
