/**
 * Service address allocation: a ClusterIP from the service CIDR and NodePorts from
 * 30000–32767, assigned when a Service is created and given back when it is deleted.
 *
 * Allocations are serialized in this process and checked against the Services the watch cache
 * holds, so two Services never get the same address from one server. (Several API servers on
 * one etcd would need allocations in the store itself; that comes with multi-server support.)
 */
import { invalid as invalidField } from './validation/index.ts';
import { invalid } from './errors.ts';
import type { FieldError, KubeObject } from './resource.ts';

/** Options of {@link ServiceAllocator}. */
export interface ServiceAllocatorOptions {
  /** The service CIDR, e.g. `10.43.0.0/16` (IPv4). */
  serviceCidr: string;
  /** NodePort range, inclusive. Default 30000–32767. */
  nodePortRange?: [number, number];
  /** Every Service currently stored (from the watch cache). */
  services: () => KubeObject[];
}

interface ServicePort {
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
}

/** See the file header. */
export class ServiceAllocator {
  readonly #base: number;
  readonly #size: number;
  readonly #ports: [number, number];
  readonly #services: () => KubeObject[];
  /** Addresses handed out but whose Service may not be in the cache yet. */
  readonly #pendingIps = new Set<string>();
  readonly #pendingPorts = new Set<number>();

  constructor(options: ServiceAllocatorOptions) {
    const [ip, bits] = options.serviceCidr.split('/');
    const prefix = Number(bits);
    if (!ip || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
      throw new RangeError(`service CIDR "${options.serviceCidr}" is not an IPv4 CIDR between /8 and /30`);
    }
    this.#size = 2 ** (32 - prefix);
    this.#base = (ipToNumber(ip) & ~(this.#size - 1)) >>> 0;
    this.#ports = options.nodePortRange ?? [30000, 32767];
    this.#services = options.services;
  }

  /** The first usable address of the range (the `kubernetes` Service's). */
  get firstIp(): string {
    return numberToIp(this.#base + 1);
  }

  /**
   * Fills in `spec.clusterIP(s)` and NodePorts of a new Service, in place. Returns a function
   * that releases what was allocated, for when the create fails. Throws 422 for a requested
   * address that is taken or out of range.
   */
  allocate(service: KubeObject): () => void {
    const spec = (service.spec ?? {}) as ServiceSpec;
    const name = service.metadata?.name ?? '';
    const usedIps = new Set(this.#pendingIps);
    const usedPorts = new Set(this.#pendingPorts);
    for (const s of this.#services()) {
      const other = (s.spec ?? {}) as ServiceSpec;
      if (other.clusterIP) usedIps.add(other.clusterIP);
      for (const p of other.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
    }
    const taken: string[] = [];
    const takenPorts: number[] = [];
    const release = () => {
      for (const ip of taken) this.#pendingIps.delete(ip);
      for (const port of takenPorts) this.#pendingPorts.delete(port);
    };
    const errors: FieldError[] = [];
    if (spec.type !== 'ExternalName') {
      const requested = spec.clusterIP ?? spec.clusterIPs?.[0];
      if (requested === undefined || requested === '') {
        const ip = this.#freeIp(usedIps);
        if (!ip) errors.push(invalidField('spec.clusterIPs', [], 'failed to allocate IP: range is full'));
        else {
          taken.push(ip);
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        }
      } else if (requested !== 'None') {
        const n = ipToNumber(requested);
        if (Number.isNaN(n) || n < this.#base || n >= this.#base + this.#size) {
          errors.push(invalidField('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${numberToIp(this.#base)}/${32 - Math.log2(this.#size)}`));
        } else if (usedIps.has(requested)) {
          errors.push(invalidField('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`));
        } else {
          taken.push(requested);
          spec.clusterIP = requested;
          spec.clusterIPs = [requested];
        }
      } else {
        spec.clusterIPs = ['None'];
      }
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      (spec.ports ?? []).forEach((port, i) => {
        if (port.nodePort) {
          if (usedPorts.has(port.nodePort)) {
            errors.push(invalidField(`spec.ports[${i}].nodePort`, port.nodePort, 'provided port is already allocated'));
          } else if (port.nodePort < this.#ports[0] || port.nodePort > this.#ports[1]) {
            errors.push(invalidField(`spec.ports[${i}].nodePort`, port.nodePort, `provided port is not in the valid range. The range of valid ports is ${this.#ports[0]}-${this.#ports[1]}`));
          } else {
            usedPorts.add(port.nodePort);
            takenPorts.push(port.nodePort);
          }
          return;
        }
        const free = this.#freePort(usedPorts);
        if (free === undefined) errors.push(invalidField(`spec.ports[${i}].nodePort`, 0, 'range is full'));
        else {
          port.nodePort = free;
          usedPorts.add(free);
          takenPorts.push(free);
        }
      });
    }
    for (const ip of taken) this.#pendingIps.add(ip);
    for (const port of takenPorts) this.#pendingPorts.add(port);
    if (errors.length > 0) {
      release();
      throw invalid('Service', '', name, errors);
    }
    service.spec = spec;
    // Once the Service is stored the cache accounts for it; the pending marks only bridge the
    // moment between allocation and the cache seeing the new Service.
    setTimeout(release, 5000).unref();
    return release;
  }

  #freeIp(used: Set<string>): string | undefined {
    // Random probing keeps allocation O(1) on average; a full scan is the fallback.
    const usable = this.#size - 2;
    for (let attempt = 0; attempt < 64; attempt++) {
      const ip = numberToIp(this.#base + 1 + Math.floor(Math.random() * usable));
      if (!used.has(ip) && ip !== this.firstIp) return ip;
    }
    for (let i = 2; i <= usable; i++) {
      const ip = numberToIp(this.#base + i);
      if (!used.has(ip)) return ip;
    }
    return undefined;
  }

  #freePort(used: Set<number>): number | undefined {
    const [lo, hi] = this.#ports;
    for (let attempt = 0; attempt < 64; attempt++) {
      const port = lo + Math.floor(Math.random() * (hi - lo + 1));
      if (!used.has(port)) return port;
    }
    for (let port = lo; port <= hi; port++) if (!used.has(port)) return port;
    return undefined;
  }
}

function ipToNumber(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return NaN;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return NaN;
    n = n * 256 + Number(part);
  }
  return n;
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
