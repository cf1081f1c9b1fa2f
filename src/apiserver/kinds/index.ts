/**
 * The built-in kinds the API server serves — core/v1, apps/v1, batch/v1, coordination.k8s.io/v1,
 * discovery.k8s.io/v1, events.k8s.io/v1, rbac.authorization.k8s.io/v1, networking.k8s.io/v1,
 * autoscaling/v2 and v1, policy/v1, scheduling.k8s.io/v1, storage.k8s.io/v1 and node.k8s.io/v1
 * — as {@link ResourceDef}s: names, scope, subresources, printer columns, defaults, validation
 * and field selectors, following upstream.
 */
import type { ResourceDef } from '../resource.ts';
import { dns1035LabelErrors, dns1123LabelErrors, dns1123SubdomainErrors, isValidPathSegmentName } from '../validation/index.ts';
import { apiextensionsKinds } from './apiextensions.ts';
import { appsKinds } from './apps.ts';
import { autoscalingKinds } from './autoscaling.ts';
import { batchKinds } from './batch.ts';
import { coordinationKinds } from './coordination.ts';
import { coreKinds } from './core.ts';
import { discoveryKinds } from './discovery.ts';
import { eventsEventsKind } from './events.ts';
import { networkingKinds } from './networking.ts';
import { policyKinds } from './policy.ts';
import { rbacKinds } from './rbac.ts';
import { nodeKinds } from './runtime-classes.ts';
import { schedulingKinds } from './scheduling.ts';
import { storageKinds } from './storage-classes.ts';

export { humanDuration } from './age.ts';
export { reviewKinds } from './reviews.ts';
export { systemPriorityClasses } from './scheduling.ts';

/** Every built-in kind, grouped by API group. */
export const builtinKinds: ResourceDef[] = [
  ...coreKinds,
  ...appsKinds,
  ...batchKinds,
  ...coordinationKinds,
  ...discoveryKinds,
  eventsEventsKind,
  ...rbacKinds,
  ...networkingKinds,
  ...autoscalingKinds,
  ...policyKinds,
  ...schedulingKinds,
  ...storageKinds,
  ...nodeKinds,
  ...apiextensionsKinds,
];

/** Upstream limits CronJob names so the names of their Jobs (name + `-` + 8 digits + more) stay labels. */
const CRONJOB_NAME_MAX_LENGTH = 52;

/**
 * The rule for `metadata.name` (and `generateName`) of a kind, as upstream's per-kind name
 * validators: RFC 1123 labels for Namespaces and StatefulSets (whose pods' hostnames derive from
 * it), RFC 1035 labels for Services (they become DNS names), and RFC 1123 subdomains for the
 * rest, CronJobs also at most 52 characters. Every name must also be usable as a URL path
 * segment. Returns upstream's sentences, empty when the name is valid.
 */
export function nameValidatorFor(def: ResourceDef): (name: string) => string[] {
  const rule = kindRule(def);
  return (name) => {
    const segment = isValidPathSegmentName(name);
    if (segment.length > 0) return segment;
    return rule(name);
  };
}

function kindRule(def: ResourceDef): (name: string) => string[] {
  if (def.group === '' && def.plural === 'namespaces') return dns1123LabelErrors;
  if (def.group === '' && def.plural === 'services') return dns1035LabelErrors;
  if (def.group === 'apps' && def.plural === 'statefulsets') return dns1123LabelErrors;
  // RBAC names only need to be safe in a URL path (`system:controller:…` is a valid name).
  if (def.group === 'rbac.authorization.k8s.io') return () => [];
  if (def.group === 'batch' && def.plural === 'cronjobs') {
    return (name) => {
      const errors = dns1123SubdomainErrors(name);
      if (name.length > CRONJOB_NAME_MAX_LENGTH) errors.push(`must be no more than ${CRONJOB_NAME_MAX_LENGTH} characters`);
      return errors;
    };
  }
  return dns1123SubdomainErrors;
}
