/**
 * Answers to the create-only review kinds while Skiff has no authentication or authorization
 * (the security issue brings both). The answers say what is true today: there are no tokens
 * to review, and every request is allowed — so `kubectl auth can-i` answers "yes", and
 * `kubectl auth whoami` names the one identity every request has.
 */
import type { KubeObject } from './resource.ts';

const EVERYTHING = 'Skiff has no authorization yet: every request is allowed';

/** The review function for a review kind, by Kind. */
export function reviewerFor(kind: string): (object: KubeObject) => KubeObject {
  switch (kind) {
    case 'TokenReview':
      return (o) => ({ ...o, status: { authenticated: false, error: 'token authentication is not available yet' } });
    case 'SelfSubjectReview':
      return (o) => ({ ...o, status: { userInfo: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] } } });
    case 'SelfSubjectRulesReview':
      return (o) => ({
        ...o,
        status: {
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          incomplete: false,
        },
      });
    default:
      // SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview.
      return (o) => ({ ...o, status: { allowed: true, reason: EVERYTHING } });
  }
}
