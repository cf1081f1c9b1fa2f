/** The core group's kinds (`/api/v1`), in discovery order. */
import type { ResourceDef } from '../resource.ts';
import { namespacesKind, nodesKind } from './cluster.ts';
import { configMapsKind, secretsKind, serviceAccountsKind } from './config.ts';
import { coreEventsKind } from './events.ts';
import { podsKind } from './pods.ts';
import { limitRangesKind, resourceQuotasKind } from './quotas.ts';
import { endpointsKind, servicesKind } from './services.ts';
import { persistentVolumeClaimsKind, persistentVolumesKind } from './volumes.ts';

/** Namespaces, Pods, Services, Endpoints, ConfigMaps, Secrets, ServiceAccounts, Events, Nodes, volumes and quotas. */
export const coreKinds: readonly ResourceDef[] = [
  configMapsKind,
  endpointsKind,
  coreEventsKind,
  limitRangesKind,
  namespacesKind,
  nodesKind,
  persistentVolumeClaimsKind,
  persistentVolumesKind,
  podsKind,
  resourceQuotasKind,
  secretsKind,
  serviceAccountsKind,
  servicesKind,
];
