/** NodeUnschedulable: a cordoned node takes only pods that tolerate its `unschedulable` taint. */
import { success, unresolvable, type FilterPlugin } from '../framework.ts';
import { tolerates } from '../../client/index.ts';

/** upstream's `ErrReasonUnschedulable`. */
export const errReasonUnschedulable = 'node(s) were unschedulable';
const taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** See the file header. */
export const nodeUnschedulable = {
  name: 'NodeUnschedulable',
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    if (!node.unschedulable) return success;
    if (pod.pod.spec?.tolerations?.some((t) => tolerates(t, taint))) return success;
    return unresolvable(errReasonUnschedulable);
  },
} satisfies FilterPlugin;
