/**
 * The controller manager: starts a set of controllers over one client and one set of shared
 * informers, and stops them together. Each controller is described by a small descriptor (its
 * name and how to build it from the shared context), as kube-controller-manager's
 * `ControllerDescriptor`s; `all.ts` lists the descriptors Skiff runs.
 */
import { Client, EventRecorder, InformerFactory, type Transport } from '../client/index.ts';

/** What every controller is built from. */
export interface ControllerContext {
  /** The client, with this controller's own user agent (its field manager). */
  client: Client;
  /** Shared informers: ask for kinds while being built; they are started after. */
  informers: InformerFactory;
  /** An event recorder reporting as `component`. */
  recorder(component: string): EventRecorder;
  /** Settings from the server's flags. */
  settings: ControllerSettings;
}

/** Tunables that come from flags (kube-controller-manager's names in comments). */
export interface ControllerSettings {
  /** `--node-monitor-grace-period`: a node silent this long is NotReady/Unknown. Default 50 s. */
  nodeMonitorGracePeriodMs: number;
  /** How often the node lifecycle controller looks at heartbeats. Default 5 s. */
  nodeMonitorPeriodMs: number;
  /** Workers per controller (`--concurrent-*-syncs`). Default 5. */
  workers: number;
  /**
   * `--controllers`: which controllers run, as upstream's list — `*` for every one, a name to
   * add one, `-name` to leave one out (`*,-cronjob-controller`). Default `['*']`.
   */
  controllers: string[];
}

/** The defaults of {@link ControllerSettings}. */
export const defaultSettings: ControllerSettings = {
  nodeMonitorGracePeriodMs: 50_000,
  nodeMonitorPeriodMs: 5_000,
  workers: 5,
  controllers: ['*'],
};

/** Whether `--controllers` (upstream's syntax) enables the controller called `name`. */
export function controllerEnabled(list: readonly string[], name: string): boolean {
  if (list.includes(`-${name}`)) return false;
  return list.includes(name) || list.includes('*');
}

/** A running controller. */
export interface Controller {
  /** Starts working; called once the shared informers have synced. */
  start(): void | Promise<void>;
  /** Stops working (informers are stopped by the manager). */
  stop(): void | Promise<void>;
}

/** Describes one controller. */
export interface ControllerDescriptor {
  /** As upstream's (`replicaset-controller`): the user agent and event source. */
  name: string;
  create(context: ControllerContext): Controller;
}

/** Options of {@link ControllerManager}. */
export interface ControllerManagerOptions {
  /** The transport, and a way to give each controller its own user agent. */
  transport: Transport;
  withUserAgent?: (userAgent: string) => Transport;
  controllers: ControllerDescriptor[];
  settings?: Partial<ControllerSettings>;
}

/** See the file header. */
export class ControllerManager {
  readonly #options: ControllerManagerOptions;
  readonly #informers: InformerFactory;
  readonly #running: Controller[] = [];

  constructor(options: ControllerManagerOptions) {
    this.#options = options;
    this.#informers = new InformerFactory(new Client(options.transport));
  }

  /** Builds every controller, syncs the informers they asked for, then starts them. */
  async start(): Promise<void> {
    const settings = { ...defaultSettings, ...this.#options.settings };
    const built: Controller[] = [];
    for (const descriptor of this.#options.controllers) {
      if (!controllerEnabled(settings.controllers, descriptor.name)) continue;
      // As upstream's: the field manager is the user agent's first segment, `kube-controller-manager`;
      // the rest names the controller, as a service account would.
      const transport = this.#options.withUserAgent?.(`kube-controller-manager/skiff (linux) system:serviceaccount:kube-system:${descriptor.name}`) ?? this.#options.transport;
      const client = new Client(transport);
      built.push(
        descriptor.create({
          client,
          informers: this.#informers,
          recorder: (component) => new EventRecorder(client, { component }),
          settings,
        }),
      );
    }
    await this.#informers.start();
    for (const controller of built) {
      await controller.start();
      this.#running.push(controller);
    }
  }

  /** Stops every controller, then the informers. */
  async stop(): Promise<void> {
    for (const controller of this.#running.splice(0).reverse()) await controller.stop();
    this.#informers.stop();
  }
}
