/** NodeName: a pod that names a node in `spec.nodeName` fits only that node. */
import { success, unresolvable, type FilterPlugin } from '../framework.ts';

/** upstream's `ErrReason`. */
export const errReasonNodeName = "node(s) didn't match the requested node name";

/** See the file header. */
export const nodeName = {
  name: 'NodeName',
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, node) {
    const wanted = pod.pod.spec?.nodeName;
    return !wanted || wanted === node.name ? success : unresolvable(errReasonNodeName);
  },
} satisfies FilterPlugin;
