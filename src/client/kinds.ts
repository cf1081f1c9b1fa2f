/**
 * The built-in kinds the control plane works with, typed by `kubernetes-types`. Pass one to
 * `client.resource(…)` or `factory.informer(…)`.
 */
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { resourceType } from './resources.ts';

export const pods = resourceType<Pod>('', 'v1', 'Pod', 'pods', true);
export const nodes = resourceType<Node>('', 'v1', 'Node', 'nodes', false);
export const namespaces = resourceType<Namespace>('', 'v1', 'Namespace', 'namespaces', false);
export const services = resourceType<Service>('', 'v1', 'Service', 'services', true);
export const endpoints = resourceType<Endpoints>('', 'v1', 'Endpoints', 'endpoints', true);
export const events = resourceType<Event>('', 'v1', 'Event', 'events', true);
export const configMaps = resourceType<ConfigMap>('', 'v1', 'ConfigMap', 'configmaps', true);
export const secrets = resourceType<Secret>('', 'v1', 'Secret', 'secrets', true);
export const serviceAccounts = resourceType<ServiceAccount>('', 'v1', 'ServiceAccount', 'serviceaccounts', true);
export const persistentVolumeClaims = resourceType<PersistentVolumeClaim>('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true);
export const deployments = resourceType<Deployment>('apps', 'v1', 'Deployment', 'deployments', true);
export const replicaSets = resourceType<ReplicaSet>('apps', 'v1', 'ReplicaSet', 'replicasets', true);
export const statefulSets = resourceType<StatefulSet>('apps', 'v1', 'StatefulSet', 'statefulsets', true);
export const daemonSets = resourceType<DaemonSet>('apps', 'v1', 'DaemonSet', 'daemonsets', true);
export const controllerRevisions = resourceType<ControllerRevision>('apps', 'v1', 'ControllerRevision', 'controllerrevisions', true);
export const jobs = resourceType<Job>('batch', 'v1', 'Job', 'jobs', true);
export const cronJobs = resourceType<CronJob>('batch', 'v1', 'CronJob', 'cronjobs', true);
export const leases = resourceType<Lease>('coordination.k8s.io', 'v1', 'Lease', 'leases', true);
export const endpointSlices = resourceType<EndpointSlice>('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true);
export const podDisruptionBudgets = resourceType<PodDisruptionBudget>('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true);
export const priorityClasses = resourceType<PriorityClass>('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', false);
