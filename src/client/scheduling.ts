/**
 * Scheduling predicates every placement decision shares — the scheduler's filters, the
 * DaemonSet controller's "should this node run the pod", taint-based eviction — with upstream's
 * semantics (`k8s.io/component-helpers/scheduling/corev1`): tolerations against taints, and node
 * selector terms (node affinity) against a node's labels and name.
 */
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Whether one toleration tolerates one taint (upstream's `ToleratesTaint`). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator || 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** The first taint (of those `applies` accepts) that no toleration tolerates. */
export function untoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[] | undefined,
  applies: (taint: Taint) => boolean = () => true,
): Taint | undefined {
  for (const taint of taints) {
    if (!applies(taint)) continue;
    if (!tolerations?.some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

/** One requirement against a value (undefined: the label is absent); Gt/Lt compare int64s. */
function requirementMatches(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]!)) return false;
      return requirement.operator === 'Gt' ? BigInt(value) > BigInt(values[0]!) : BigInt(value) < BigInt(values[0]!);
    }
    default:
      return false;
  }
}

/**
 * Whether a node matches one term: every expression (labels) and field (`metadata.name` with
 * In/NotIn, the only field upstream supports); an empty term matches nothing.
 */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, labels: Record<string, string>, name: string): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  for (const r of expressions) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
    if (!requirementMatches(r, name)) return false;
  }
  return true;
}

/** Whether a node matches any of the terms (they are ORed). */
export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], labels: Record<string, string>, name: string): boolean {
  for (const term of terms) if (nodeSelectorTermMatches(term, labels, name)) return true;
  return false;
}
