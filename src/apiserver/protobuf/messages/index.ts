/** Every message table, keyed by the alias other tables use to reference it (`corev1.PodSpec`). */
import type { MessageTable } from '../schema.ts';
import { appsV1 } from './apps-v1.ts';
import { authenticationV1 } from './authentication-v1.ts';
import { authorizationV1 } from './authorization-v1.ts';
import { autoscalingV1 } from './autoscaling-v1.ts';
import { autoscalingV2 } from './autoscaling-v2.ts';
import { batchV1 } from './batch-v1.ts';
import { coordinationV1 } from './coordination-v1.ts';
import { coreV1 } from './core-v1.ts';
import { discoveryV1 } from './discovery-v1.ts';
import { eventsV1 } from './events-v1.ts';
import { metaV1 } from './meta-v1.ts';
import { networkingV1 } from './networking-v1.ts';
import { nodeV1 } from './node-v1.ts';
import { policyV1 } from './policy-v1.ts';
import { rbacV1 } from './rbac-v1.ts';
import { schedulingV1 } from './scheduling-v1.ts';
import { storageV1 } from './storage-v1.ts';

/** Table alias → table. */
export const messageTables: Readonly<Record<string, MessageTable>> = {
  metav1: metaV1,
  corev1: coreV1,
  appsv1: appsV1,
  batchv1: batchV1,
  rbacv1: rbacV1,
  schedulingv1: schedulingV1,
  policyv1: policyV1,
  coordinationv1: coordinationV1,
  discoveryv1: discoveryV1,
  networkingv1: networkingV1,
  autoscalingv1: autoscalingV1,
  autoscalingv2: autoscalingV2,
  storagev1: storageV1,
  nodev1: nodeV1,
  eventsv1: eventsV1,
  authenticationv1: authenticationV1,
  authorizationv1: authorizationV1,
};
