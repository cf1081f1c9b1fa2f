/**
 * Label selectors on the client side: matching an object's labels against a `LabelSelector`
 * (matchLabels and matchExpressions, as in a ReplicaSet's spec) and writing one as the string
 * the API's `labelSelector` parameter takes.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

/**
 * Whether `labels` satisfy `selector`. As upstream: an empty selector (`{}`) matches
 * everything; an absent one (`undefined`) matches nothing.
 */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!present || !values.includes(have[expression.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[expression.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Whether the selector selects nothing at all (`undefined`) or everything (`{}`). */
export function selectorIsEmpty(selector: LabelSelector | undefined): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

/** The selector as the `labelSelector` query parameter writes it: `app=web,tier in (a,b)`. */
export function selectorToString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
