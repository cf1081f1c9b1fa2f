/**
 * The scheduler's cache: every node and the pods on it, kept up to date incrementally from the
 * informers (never rebuilt per pod), plus "assumed" pods — pods the scheduler has just placed
 * and is binding — counted against their node at once, so the next pod does not land on the
 * same free space before the informer reports the binding.
 *
 * Contract: the scheduling cycle runs synchronously, so the cache is the cycle's snapshot; it
 * changes only between cycles (informer events, binding results). Nodes are held in a stable
 * array (`nodes`) for round-robin iteration; a removed node is swapped out of it.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { NodeInfo, type ClusterTotals } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';

interface PodState {
  pod: PodInfo;
  node: string;
  assumed: boolean;
}

/** See the file header. */
export class SchedulerCache {
  readonly #infos = new Map<string, NodeInfo>();
  readonly #nodes: NodeInfo[] = [];
  readonly #index = new Map<NodeInfo, number>();
  readonly #pods = new Map<string, PodState>();
  /** Pods with (anti-)affinity across all nodes. */
  readonly totals: ClusterTotals = { podsWithAffinity: 0, podsWithRequiredAntiAffinity: 0, controllerZones: new Map() };

  /** Nodes that exist (have a Node object), in a stable order. */
  get nodes(): readonly NodeInfo[] {
    return this.#nodes;
  }

  /** One node's info (also for a node whose object is not known). */
  get(name: string): NodeInfo | undefined {
    const info = this.#infos.get(name);
    return info?.node ? info : undefined;
  }

  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    let info = this.#infos.get(name);
    if (!info) this.#infos.set(name, (info = new NodeInfo(name, this.totals)));
    info.setNode(node);
    if (!this.#index.has(info)) {
      this.#index.set(info, this.#nodes.length);
      this.#nodes.push(info);
    }
  }

  removeNode(name: string): void {
    const info = this.#infos.get(name);
    if (!info) return;
    const at = this.#index.get(info);
    if (at !== undefined) {
      const last = this.#nodes.pop()!;
      if (last !== info) {
        this.#nodes[at] = last;
        this.#index.set(last, at);
      }
      this.#index.delete(info);
    }
    info.setNode(undefined);
    // Pods still bound there keep a node-less entry until they go, as upstream's cache.
    if (info.pods.size === 0) this.#infos.delete(name);
  }

  /** Whether a pod (by uid) is assumed and not yet confirmed by the informer. */
  isAssumed(uid: string): boolean {
    return this.#pods.get(uid)?.assumed ?? false;
  }

  /** The node a pod is counted on, if any. */
  nodeOf(uid: string): string | undefined {
    return this.#pods.get(uid)?.node;
  }

  /** Counts a pod the scheduler placed on `node` before the API confirms it. */
  assume(pod: PodInfo, node: string): void {
    this.#place(pod, node, true);
  }

  /** Undoes `assume` (the binding failed). */
  forget(uid: string): void {
    const state = this.#pods.get(uid);
    if (state?.assumed) this.removePod(uid);
  }

  /** Adds or updates a pod bound to a node (from the informer); confirms an assumed pod. */
  setPod(pod: PodInfo, node: string): void {
    this.#place(pod, node, false);
  }

  removePod(uid: string): void {
    const state = this.#pods.get(uid);
    if (!state) return;
    this.#pods.delete(uid);
    const info = this.#infos.get(state.node);
    if (!info) return;
    info.removePod(uid);
    if (!info.node && info.pods.size === 0) this.#infos.delete(state.node);
  }

  #place(pod: PodInfo, node: string, assumed: boolean): void {
    const old = this.#pods.get(pod.uid);
    if (old) {
      this.#infos.get(old.node)?.removePod(pod.uid);
    }
    let info = this.#infos.get(node);
    if (!info) this.#infos.set(node, (info = new NodeInfo(node, this.totals)));
    info.addPod(pod);
    this.#pods.set(pod.uid, { pod, node, assumed });
  }
}
