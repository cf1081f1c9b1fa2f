/**
 * Pod addresses, as a node's host-local IPAM would hand them out: the cluster CIDR is cut into
 * one subnet per node (its `spec.podCIDR`), and each node gives its pods addresses from its own
 * subnet, skipping the network address, the gateway (`.1`) and the broadcast address.
 */
import { SimError } from './errors.ts';

/** An IPv4 CIDR parsed into a base address and a prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

/** `10.42.0.7` → a 32-bit number; undefined when it is not a dotted IPv4 address. */
export function parseIp(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

/** Parses `10.42.0.0/16` (host bits are cleared). */
export function parseCidr(text: string): Cidr {
  const [ip = '', bits = ''] = text.trim().split('/');
  const address = parseIp(ip);
  const prefix = /^\d+$/.test(bits) ? Number(bits) : NaN;
  if (address === undefined || !(prefix >= 8 && prefix <= 30)) {
    throw new RangeError(`"${text}" is not an IPv4 CIDR with a prefix between /8 and /30`);
  }
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (address & mask) >>> 0, prefix };
}

/** Dotted form of a 32-bit address. */
export function formatIp(address: number): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

/**
 * The per-node prefix length: `/24` as upstream's default `--node-cidr-mask-size`, or longer
 * when the cluster CIDR cannot hold that many /24s (1,000 nodes in a /16 get a /26 each).
 */
export function nodeMaskSize(cluster: Cidr, nodes: number, wanted = 24): number {
  let size = Math.max(wanted, cluster.prefix);
  while (size <= 30 && 2 ** (size - cluster.prefix) < nodes) size++;
  if (size > 30) {
    throw new SimError('ERR_SIM_CIDR', `cluster CIDR ${formatIp(cluster.base)}/${cluster.prefix} cannot hold ${nodes} node subnets; pass a larger --cluster-cidr`);
  }
  return size;
}

/** The subnet of node number `index` (0-based). */
export function nodeSubnet(cluster: Cidr, maskSize: number, index: number): Cidr {
  return { base: (cluster.base + index * 2 ** (32 - maskSize)) >>> 0, prefix: maskSize };
}

/** Addresses of one node's subnet. Allocation is O(1) amortized; freed addresses are reused last. */
export class NodeIpam {
  readonly subnet: Cidr;
  readonly #used = new Set<number>();
  readonly #size: number;
  #cursor = 2;

  constructor(subnet: Cidr) {
    this.subnet = subnet;
    this.#size = 2 ** (32 - subnet.prefix);
  }

  /** Addresses a pod can get (network, gateway and broadcast excluded). */
  get capacity(): number {
    return this.#size - 3;
  }

  /** `10.42.3.0/24`. */
  toString(): string {
    return `${formatIp(this.subnet.base)}/${this.subnet.prefix}`;
  }

  /** The next free address, or undefined when the subnet is full. */
  allocate(): string | undefined {
    if (this.#used.size >= this.capacity) return undefined;
    // Walk on from the last address handed out, as host-local does, so a freed address is not
    // reused at once (a stale endpoint would otherwise point at the next pod).
    for (;;) {
      if (this.#cursor >= this.#size - 1) this.#cursor = 2;
      const offset = this.#cursor++;
      if (!this.#used.has(offset)) {
        this.#used.add(offset);
        return formatIp((this.subnet.base + offset) >>> 0);
      }
    }
  }

  /** Marks an address as taken (a pod found running at start-up); false when outside the subnet. */
  claim(ip: string): boolean {
    const offset = this.#offset(ip);
    if (offset === undefined) return false;
    this.#used.add(offset);
    return true;
  }

  /** Returns an address. */
  release(ip: string): void {
    const offset = this.#offset(ip);
    if (offset !== undefined) this.#used.delete(offset);
  }

  #offset(ip: string): number | undefined {
    const address = parseIp(ip);
    if (address === undefined) return undefined;
    const offset = address - this.subnet.base;
    return offset >= 2 && offset < this.#size - 1 ? offset : undefined;
  }
}
