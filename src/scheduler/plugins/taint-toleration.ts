/**
 * TaintToleration: a node's NoSchedule and NoExecute taints must be tolerated (Filter); nodes
 * with fewer untolerated PreferNoSchedule taints score higher (Score, reversed normalization).
 */
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { success, unresolvable, type FilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.ts';
import { tolerates, untoleratedTaint } from '../../client/index.ts';
import { defaultNormalize } from './helpers.ts';

const name = 'TaintToleration';

/** See the file header. */
export const taintToleration = {
  name,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    if (node.taints.length === 0) return success;
    const taint = untoleratedTaint(node.taints, pod.pod.spec?.tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    return taint ? unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`) : success;
  },
  preScore(state, pod) {
    state.set(name, (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule'));
    return success;
  },
  score(state, _pod, node) {
    if (node.taints.length === 0) return 0;
    const tolerations = state.get(name) as Toleration[];
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint))) n++;
    }
    return n;
  },
  normalize(_state, _pod, scores) {
    defaultNormalize(scores, true);
  },
} satisfies FilterPlugin & PreScorePlugin & ScorePlugin;
