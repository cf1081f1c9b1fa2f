/**
 * NodeAffinity: `spec.nodeSelector` and required node affinity must match the node (Filter);
 * preferred node affinity terms add their weights (Score, normalized by the best node).
 */
import type { PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { skip, success, unresolvable, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.ts';
import { nodeSelectorTermMatches, nodeSelectorTermsMatch } from '../../client/index.ts';
import { defaultNormalize } from './helpers.ts';

/** upstream's `ErrReasonPod`. */
export const errReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";
const name = 'NodeAffinity';

/** See the file header. */
export const nodeAffinity = {
  name,
  events: ['NodeAdd', 'NodeUpdate'],
  preFilter(_state, pod) {
    const spec = pod.pod.spec;
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const selector = spec?.nodeSelector;
    return required || (selector && Object.keys(selector).length > 0) ? success : skip;
  },
  filter(_state, pod, node) {
    const spec = pod.pod.spec!;
    if (spec.nodeSelector) {
      for (const key in spec.nodeSelector) if (node.labels[key] !== spec.nodeSelector[key]) return unresolvable(errReasonNodeAffinity);
    }
    const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required && !nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node.labels, node.name)) return unresolvable(errReasonNodeAffinity);
    return success;
  },
  preScore(state, pod) {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    if (!preferred?.length) return skip;
    state.set(name, preferred);
    return success;
  },
  score(state, _pod, node) {
    let sum = 0;
    for (const term of state.get(name) as PreferredSchedulingTerm[]) {
      if (term.weight !== 0 && nodeSelectorTermMatches(term.preference, node.labels, node.name)) sum += term.weight;
    }
    return sum;
  },
  normalize(_state, _pod, scores) {
    defaultNormalize(scores, false);
  },
} satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
