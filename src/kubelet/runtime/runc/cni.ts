/**
 * A small CNI client (what libcni does): writes Skiff's conflist (bridge + host-local IPAM +
 * portmap; the pod's loopback is brought up where its namespace is made, see kernel.ts) and runs the plugin chain's ADD and DEL (CNI spec 1.0:
 * each plugin gets its network config on stdin with `prevResult`; DEL runs in reverse order with
 * the cached ADD result).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PortMapping } from '../container-runtime.ts';
import { CniError, CommandError } from '../errors.ts';
import { run } from './command.ts';

/** One plugin's configuration in a conflist. */
export type CniPluginConfig = { type: string } & Record<string, unknown>;

/** A CNI network configuration list. */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConfig[];
}

/** The result of an ADD (CNI 1.0 result, reduced). */
export interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: unknown[];
  dns?: unknown;
}

/** Options of the conflist Skiff writes for a node. */
export interface BridgeNetworkOptions {
  /** Network name; also host-local's lease directory name. Default `skiff`. */
  name?: string;
  /** Linux bridge name. Default `skiff0`. */
  bridge?: string;
  /** The node's pod CIDR, e.g. `10.42.0.0/24`. */
  subnet: string;
  /** Masquerade traffic leaving the pod network. Default true (tests turn it off). */
  ipMasq?: boolean;
  /** host-local's lease directory. Default `/var/lib/cni/networks`. */
  ipamDataDir?: string;
  mtu?: number;
}

/** The conflist of the node's pod network: bridge (gateway, host-local IPAM) then portmap. */
export function bridgeConfList(options: BridgeNetworkOptions): CniConfList {
  return {
    cniVersion: '1.0.0',
    name: options.name ?? 'skiff',
    plugins: [
      {
        type: 'bridge',
        bridge: options.bridge ?? 'skiff0',
        isGateway: true,
        ipMasq: options.ipMasq ?? true,
        hairpinMode: true,
        ...(options.mtu ? { mtu: options.mtu } : {}),
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: options.subnet }]],
          routes: [{ dst: '0.0.0.0/0' }],
          ...(options.ipamDataDir ? { dataDir: options.ipamDataDir } : {}),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Where plugins live and where results are cached. */
export interface CniOptions {
  /** Plugin binary directory. Default `/usr/lib/cni` (Debian's containernetworking-plugins). */
  binDir?: string;
  /** Directory for cached ADD results (needed for DEL). */
  cacheDir: string;
}

/** Runs the plugin chains of one conflist. */
export class CniNetwork {
  readonly confList: CniConfList;
  readonly #binDir: string;
  readonly #cacheDir: string;

  constructor(confList: CniConfList, options: CniOptions) {
    this.confList = confList;
    this.#binDir = options.binDir ?? '/usr/lib/cni';
    this.#cacheDir = options.cacheDir;
  }

  /** Writes the conflist as a file (for operators and other CNI tools to read). */
  async writeConfList(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `10-${this.confList.name}.conflist`);
    await writeFile(file, JSON.stringify(this.confList, null, 2));
    return file;
  }

  /** ADD: eth0 of the namespace joins the network; returns the chain's result (pod IPs). */
  async add(containerId: string, netns: string, portMappings: PortMapping[] = []): Promise<CniResult> {
    let prevResult: CniResult | undefined;
    const done: CniPluginConfig[] = [];
    try {
      for (const plugin of this.#chain(portMappings.length > 0)) {
        prevResult = await this.#invoke(this.#pluginConfig(plugin, prevResult, portMappings), 'ADD', { containerId, netns, ifName: 'eth0', name: this.confList.name, cniVersion: this.confList.cniVersion });
        done.push(plugin);
      }
    } catch (err) {
      // Undo the plugins that succeeded, in reverse, so a failed ADD leaves nothing behind.
      for (const plugin of done.reverse()) {
        await this.#invoke(this.#pluginConfig(plugin, prevResult, portMappings), 'DEL', { containerId, netns, ifName: 'eth0', name: this.confList.name, cniVersion: this.confList.cniVersion }).catch(() => {});
      }
      throw err;
    }
    const result = prevResult ?? {};
    // Synchronous: a small file the pod's start waits for (see sandbox.ts).
    mkdirSync(this.#cacheDir, { recursive: true });
    writeFileSync(this.#cacheFile(containerId), JSON.stringify({ result, portMappings, withPorts: portMappings.length > 0 }));
    return result;
  }

  /** DEL: runs the chain in reverse with the cached ADD result; idempotent (plugins tolerate a gone netns). */
  async del(containerId: string, netns: string): Promise<void> {
    let cached: { result?: CniResult; portMappings?: PortMapping[]; withPorts?: boolean } = {};
    try {
      cached = JSON.parse(await readFile(this.#cacheFile(containerId), 'utf8')) as typeof cached;
    } catch {
      // no cache: DEL without prevResult, as libcni does
    }
    let netnsArg = netns;
    try {
      await access(netns);
    } catch {
      netnsArg = ''; // the spec allows an empty CNI_NETNS on DEL when the namespace is gone
    }
    // Without a cache (or from an older one) the whole chain is undone, as libcni does.
    for (const plugin of [...this.#chain(cached.withPorts ?? true)].reverse()) {
      await this.#invoke(this.#pluginConfig(plugin, cached.result, cached.portMappings ?? []), 'DEL', { containerId, netns: netnsArg, ifName: 'eth0', name: this.confList.name, cniVersion: this.confList.cniVersion });
    }
    await rm(this.#cacheFile(containerId), { force: true });
  }

  /**
   * The plugins a sandbox runs. A port-mapping plugin (portmap) is left out of sandboxes without
   * hostPorts: it would program nothing, and each plugin is a process to start (one exec and its
   * iptables calls saved per pod).
   */
  #chain(withPorts: boolean): CniPluginConfig[] {
    if (withPorts) return this.confList.plugins;
    return this.confList.plugins.filter((plugin) => !(plugin.capabilities as Record<string, boolean> | undefined)?.portMappings);
  }

  #cacheFile(containerId: string): string {
    return join(this.#cacheDir, `${this.confList.name}-${containerId}.json`);
  }

  #pluginConfig(plugin: CniPluginConfig, prevResult: CniResult | undefined, portMappings: PortMapping[]): CniPluginConfig {
    const conf: CniPluginConfig = { ...plugin, name: this.confList.name, cniVersion: this.confList.cniVersion };
    delete conf.capabilities;
    if (prevResult) conf.prevResult = prevResult;
    const caps = plugin.capabilities as Record<string, boolean> | undefined;
    if (caps?.portMappings) {
      conf.runtimeConfig = {
        portMappings: portMappings.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol ?? 'tcp', ...(p.hostIP ? { hostIP: p.hostIP } : {}) })),
      };
    }
    return conf;
  }

  async #invoke(conf: CniPluginConfig, command: 'ADD' | 'DEL', args: { containerId: string; netns: string; ifName: string; name: string; cniVersion: string }): Promise<CniResult> {
    const stdin = JSON.stringify({ ...conf, name: args.name, cniVersion: args.cniVersion });
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: args.containerId,
      CNI_NETNS: args.netns,
      CNI_IFNAME: args.ifName,
      CNI_PATH: this.#binDir,
    };
    const { code, stdout, stderr } = await run(join(this.#binDir, conf.type), [], { env, stdin });
    if (code !== 0) {
      let parsed: { code?: number; msg?: string; details?: string } = {};
      try {
        parsed = JSON.parse(stdout) as typeof parsed;
      } catch {
        throw new CommandError(`CNI plugin ${conf.type} ${command}`, code, stderr || stdout);
      }
      throw new CniError(conf.type, command, parsed.code ?? -1, parsed.msg ?? stderr, parsed.details);
    }
    return stdout.trim() ? (JSON.parse(stdout) as CniResult) : {};
  }
}
