/**
 * Preemption (upstream's DefaultPreemption PostFilter): when a pod fits nowhere, look for a node
 * where removing pods of lower priority would let it fit; evict the fewest and least important
 * such pods (sparing those a PodDisruptionBudget protects where possible), and nominate the
 * node in the pod's `status.nominatedNodeName` so the next attempt tries it first.
 *
 * The what-if runs on the cache itself: victims are taken off their node, the filters re-run,
 * and everything is put back before returning — safe because the cycle is synchronous.
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError, selectorMatches, type Client, type EventRecorder } from '../client/index.ts';
import { kinds } from '../client/index.ts';
import { fitErrorMessage, success, unresolvable, type Diagnosis, type Framework, type Snapshot, type Status } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';

/** What preemption decided: the message's post-filter part and the node nominated, if any. */
export interface PreemptionOutcome {
  message: string;
  nominatedNode?: string;
}

/** Options of {@link Preemptor}. */
export interface PreemptorOptions {
  client: Client;
  framework: Framework;
  snapshot: Snapshot;
  recorder: EventRecorder;
  pdbs: () => PodDisruptionBudget[];
  log: (line: string) => void;
}

interface Candidate {
  node: NodeInfo;
  victims: PodInfo[];
  pdbViolations: number;
}

const notHelpful = unresolvable('Preemption is not helpful for scheduling');
const noVictims = unresolvable('No preemption victims found for incoming pod');

/** See the file header. */
export class Preemptor {
  readonly #options: PreemptorOptions;

  constructor(options: PreemptorOptions) {
    this.#options = options;
  }

  /** Tries to make room for `pod`, which the filters rejected as `diagnosis` says. */
  preempt(pod: PodInfo, diagnosis: Diagnosis): PreemptionOutcome {
    if (pod.pod.spec?.preemptionPolicy === 'Never') return { message: 'preemption: not eligible due to preemptionPolicy=Never.' };
    const { snapshot } = this.#options;
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      // Victims chosen earlier are still terminating: wait for them rather than pick more.
      const node = snapshot.get(nominated);
      if (node && [...node.pods.values()].some((p) => p.terminating && p.priority < pod.priority)) {
        return { message: 'preemption: not eligible due to a terminating pod on the nominated node.' };
      }
    }
    const statuses = new Map<string, Status>();
    const potential: NodeInfo[] = [];
    for (const node of snapshot.nodes) {
      const status = diagnosis.statuses.get(node.name);
      if (status?.code === 'Unschedulable') potential.push(node);
      else statuses.set(node.name, notHelpful);
    }
    const candidates: Candidate[] = [];
    if (potential.length > 0) {
      const budgets = this.#options.pdbs();
      for (const node of potential) {
        const result = this.#selectVictims(pod, node, budgets);
        if ('victims' in result) candidates.push(result);
        else statuses.set(node.name, result.status);
      }
    }
    const best = pickCandidate(candidates);
    if (!best) {
      return { message: `preemption: ${fitErrorMessage({ numAllNodes: snapshot.nodes.length, statuses, preFilterMessage: '' })}` };
    }
    this.#execute(pod, best);
    return { message: '', nominatedNode: best.node.name };
  }

  #selectVictims(pod: PodInfo, node: NodeInfo, budgets: PodDisruptionBudget[]): Candidate | { status: Status } {
    const lower = [...node.pods.values()].filter((p) => p.priority < pod.priority);
    if (lower.length === 0) return { status: noVictims };
    const { framework, snapshot } = this.#options;
    for (const p of lower) node.removePod(p.uid);
    try {
      const fits = (): Status => {
        const state = framework.preFilterState(pod, snapshot);
        return state ? framework.runFilters(state, pod, node) : noVictims;
      };
      const status = fits();
      if (status.code !== 'Success') return { status };
      // Most important first: higher priority, then started earlier.
      lower.sort((a, b) => b.priority - a.priority || startTime(a) - startTime(b));
      const allowed = new Map(budgets.map((b) => [b, b.status?.disruptionsAllowed ?? 0]));
      const violating: PodInfo[] = [];
      const other: PodInfo[] = [];
      for (const p of lower) {
        let violates = false;
        for (const [budget, left] of allowed) {
          if (budget.metadata?.namespace !== p.namespace || !selectorMatches(budget.spec?.selector, p.labels)) continue;
          allowed.set(budget, left - 1);
          if (left - 1 < 0) violates = true;
        }
        (violates ? violating : other).push(p);
      }
      const victims: PodInfo[] = [];
      let pdbViolations = 0;
      const reprieve = (p: PodInfo, isViolating: boolean) => {
        node.addPod(p);
        if (fits() === success) return;
        node.removePod(p.uid);
        victims.push(p);
        if (isViolating) pdbViolations++;
      };
      for (const p of violating) reprieve(p, true);
      for (const p of other) reprieve(p, false);
      return { node, victims, pdbViolations };
    } finally {
      for (const p of lower) if (!node.pods.has(p.uid)) node.addPod(p);
    }
  }

  #execute(pod: PodInfo, candidate: Candidate): void {
    const { client, recorder, log } = this.#options;
    const api = client.resource(kinds.pods);
    for (const victim of candidate.victims) {
      void (async () => {
        try {
          await api.patch(
            victim.namespace,
            victim.pod.metadata?.name ?? '',
            { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } },
            { type: 'strategic', subresource: 'status' },
          ).catch(() => undefined);
          await api.delete(victim.namespace, victim.pod.metadata?.name ?? '', { preconditions: { uid: victim.uid } });
          recorder.event(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${pod.uid} on node ${candidate.node.name}`);
        } catch (error) {
          if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) log(`skiff: scheduler: cannot preempt pod ${victim.key}: ${(error as Error).message}`);
        }
      })();
    }
  }
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** upstream's pickOneNodeForPreemption, in its order of criteria. */
function pickCandidate(candidates: Candidate[]): Candidate | undefined {
  const highest = (c: Candidate) => Math.max(...c.victims.map((v) => v.priority), -Infinity);
  const sum = (c: Candidate) => c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0);
  const criteria: ((c: Candidate) => number)[] = [(c) => c.pdbViolations, highest, sum, (c) => c.victims.length];
  let pool = candidates;
  for (const score of criteria) {
    if (pool.length <= 1) break;
    const min = Math.min(...pool.map(score));
    pool = pool.filter((c) => score(c) === min);
  }
  return pool[0];
}
