/**
 * Taint facts the node lifecycle and taint eviction controllers share: the well-known taint
 * keys and which taints node conditions map to (toleration matching is in src/client).
 */
import type { Node, NodeCondition, Taint } from 'kubernetes-types/core/v1.js';

/** Well-known taint keys (k8s.io/api/core/v1 `well_known_taints.go`). */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** The NoSchedule taints the controller owns, each from one condition's status (TaintNodesByCondition). */
const CONDITION_TAINTS: { type: string; status: string; key: string }[] = [
  { type: 'Ready', status: 'False', key: TAINT_NOT_READY },
  { type: 'Ready', status: 'Unknown', key: TAINT_UNREACHABLE },
  { type: 'MemoryPressure', status: 'True', key: TAINT_MEMORY_PRESSURE },
  { type: 'DiskPressure', status: 'True', key: TAINT_DISK_PRESSURE },
  { type: 'PIDPressure', status: 'True', key: TAINT_PID_PRESSURE },
  { type: 'NetworkUnavailable', status: 'True', key: TAINT_NETWORK_UNAVAILABLE },
];

/** Keys of every NoSchedule taint this controller adds and removes. */
export const MANAGED_NO_SCHEDULE = new Set([...CONDITION_TAINTS.map((t) => t.key), TAINT_UNSCHEDULABLE]);
/** Keys of the NoExecute taints this controller adds and removes. */
export const MANAGED_NO_EXECUTE = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE]);

/** The node's condition of `type`. */
export function nodeCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/** The NoSchedule taint keys a node's conditions and cordon call for. */
export function noScheduleKeys(node: Node): Set<string> {
  const keys = new Set<string>();
  for (const { type, status, key } of CONDITION_TAINTS) {
    if (nodeCondition(node, type)?.status === status) keys.add(key);
  }
  if (node.spec?.unschedulable) keys.add(TAINT_UNSCHEDULABLE);
  return keys;
}

/** The NoExecute taint key a node's Ready condition calls for, if any. */
export function noExecuteKey(node: Node): string | undefined {
  const ready = nodeCondition(node, 'Ready')?.status;
  if (ready === 'False') return TAINT_NOT_READY;
  if (ready === 'Unknown') return TAINT_UNREACHABLE;
  return undefined;
}

