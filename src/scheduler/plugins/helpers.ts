/**
 * Matching helpers shared by plugins: tolerations against taints, and node selector terms
 * (node affinity) against a node's labels and name — upstream's component-helpers semantics.
 */
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Whether one toleration tolerates one taint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  if (!t.operator || t.operator === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

/** The first taint (of those `applies` accepts) that no toleration tolerates. */
export function untoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[] | undefined, applies: (t: Taint) => boolean): Taint | undefined {
  for (const taint of taints) {
    if (!applies(taint)) continue;
    if (!tolerations?.some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
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
      return r.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** Whether a node matches one term: every expression and field; an empty term matches nothing. */
export function termMatchesNode(term: NodeSelectorTerm, labels: Record<string, string>, name: string): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  for (const r of expressions) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) if (!requirementMatches(r, r.key === 'metadata.name' ? name : undefined)) return false;
  return true;
}

/** Whether a node matches any of the terms (ORed). */
export function anyTermMatchesNode(terms: readonly NodeSelectorTerm[], labels: Record<string, string>, name: string): boolean {
  for (const term of terms) if (termMatchesNode(term, labels, name)) return true;
  return false;
}

/** upstream's `DefaultNormalizeScore`: scale to 0–max by the largest score, optionally reversed. */
export function defaultNormalize(scores: Float64Array, reverse: boolean, maxScore = 100): void {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(maxScore);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((maxScore * scores[i]!) / top);
    scores[i] = reverse ? maxScore - s : s;
  }
}
