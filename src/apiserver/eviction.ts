/**
 * The `pods/eviction` subresource: a delete that respects PodDisruptionBudgets, as `kubectl
 * drain` uses it. As upstream: a finished pod is deleted outright; a pod covered by one budget
 * is deleted only while the budget's `status.disruptionsAllowed` is above zero, which is taken
 * down by one (and the pod noted in `status.disruptedPods`) in the same step; otherwise the
 * answer is 429 with the budget named. A pod covered by two budgets cannot be evicted.
 */
import { badRequest, StatusError } from './errors.ts';
import type { DeleteOptions, ObjectStore } from './object-store.ts';
import { rfc3339 } from './object-store.ts';
import type { ResourceRegistry } from './registry.ts';
import type { KubeObject, ResourceDef } from './resource.ts';
import { labelSelectorFromObject } from './selectors/index.ts';
import { CachedObject, everything } from './watch-cache.ts';

interface Budget extends KubeObject {
  spec?: { selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } };
  status?: { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; observedGeneration?: number; disruptedPods?: Record<string, string> };
}

/** Evicts one pod; resolves when it is deleted (or marked for graceful deletion). */
export async function evict(
  store: ObjectStore,
  registry: ResourceRegistry,
  pods: ResourceDef,
  namespace: string,
  name: string,
  eviction: KubeObject,
  now: () => Date,
): Promise<void> {
  if (eviction.metadata?.name !== undefined && eviction.metadata.name !== name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const deleteOptions = ((eviction as { deleteOptions?: DeleteOptions }).deleteOptions ?? {}) as DeleteOptions;
  const pod = await store.get(pods, namespace, name);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) {
    await store.delete(pods, namespace, name, deleteOptions);
    return;
  }
  const budgets = registry.lookup('policy', 'v1', 'poddisruptionbudgets');
  // As upstream, the budget check is retried when another eviction spent from the same budget
  // between our read and our write (409): the next read is consistent, so it sees that spend.
  for (let attempt = 1; ; attempt++) {
    try {
      await spendDisruption(store, budgets, pod, namespace, name, now);
      break;
    } catch (error) {
      if (attempt < EVICTION_ATTEMPTS && error instanceof StatusError && error.code === 409) continue;
      throw error;
    }
  }
  await store.delete(pods, namespace, name, deleteOptions);
}

/** Tries a budget check and decrement this many times before a conflict is returned (upstream's
 * EvictionsRetry makes 20 steps). */
const EVICTION_ATTEMPTS = 20;

/** Checks the pod's budget (if any) and takes one disruption from it; 429 when none is left. */
async function spendDisruption(store: ObjectStore, budgets: ResourceDef | undefined, pod: KubeObject, namespace: string, name: string, now: () => Date): Promise<void> {
  const matching: Budget[] = [];
  if (budgets) {
    const page = await store.list(budgets, namespace, { filter: everything, limit: 0, continueToken: '', resourceVersion: '' });
    for (const item of page.items) {
      const budget = (item instanceof CachedObject ? item.object : item) as Budget;
      const selector = budget.spec?.selector;
      if (selector && labelSelectorFromObject(selector).matches(pod.metadata?.labels)) matching.push(budget);
    }
  }
  if (matching.length > 1) {
    throw new StatusError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  }
  const budget = matching[0];
  if (budget && budgets) {
    const status = budget.status ?? {};
    if ((status.disruptionsAllowed ?? 0) <= 0) {
      throw new StatusError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: `The disruption budget ${budget.metadata?.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
          },
        ],
      });
    }
    // Taking one disruption is a compare-and-swap on the budget: two evictions cannot both spend
    // the last one.
    await store.update(
      budgets,
      namespace,
      budget.metadata!.name!,
      {
        ...budget,
        status: {
          ...status,
          disruptionsAllowed: (status.disruptionsAllowed ?? 0) - 1,
          disruptedPods: { ...(status.disruptedPods ?? {}), [name]: rfc3339(now()) },
        },
      },
      'status',
    );
  }
}
