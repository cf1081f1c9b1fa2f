/** NodePorts: a pod's host ports must be free on the node (same protocol and port, overlapping IP). */
import { skip, success, unschedulable, type FilterPlugin, type PreFilterPlugin } from '../framework.ts';

/** upstream's `ErrReason`. */
export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

/** See the file header. */
export const nodePorts = {
  name: 'NodePorts',
  events: ['NodeAdd', 'AssignedPodDelete'],
  preFilter(_state, pod) {
    return pod.hostPorts.length ? success : skip;
  },
  filter(_state, pod, node) {
    for (const used of node.usedPorts()) {
      for (const want of pod.hostPorts) {
        if (want.port !== used.port || want.protocol !== used.protocol) continue;
        if (want.ip === used.ip || want.ip === '0.0.0.0' || used.ip === '0.0.0.0') return unschedulable(errReasonNodePorts);
      }
    }
    return success;
  },
} satisfies PreFilterPlugin & FilterPlugin;
