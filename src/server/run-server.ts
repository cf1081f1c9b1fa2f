/**
 * `skiff server`: the whole control plane in one process. Components start in order — store,
 * certificates, API server, controllers — and stop in reverse; if one fails, everything stops.
 */
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ApiServer, defaultFrontEndThreads } from '../apiserver/index.ts';
import { Client, LeaderElector, LocalTransport } from '../client/index.ts';
import { allControllers, controllerEnabled, ControllerManager, GarbageCollector, NamespaceController, type ControllerSettings } from '../controllers/index.ts';
import { KUBELET_VERSION, nodePodCidr, parseKubeletArgs, startAgent } from '../kubelet/index.ts';
import { ensureServerCertificates } from '../pki/index.ts';
import { Scheduler, schedulerArgs } from '../scheduler/index.ts';
import { openBackend, type Backend } from '../storage/index.ts';
import type { ServerConfig } from './config.ts';
import { joinHandlers } from './join.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ensureToken } from './token.ts';

/** A running server. */
export interface RunningServer {
  /** `https://host:port` of the API. */
  url: string;
  /** Stops every component in reverse order of start. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the server has stopped (by `stop()` or because a component failed). */
  stopped: Promise<void>;
}

/** Starts the server described by `config`; resolves once the kubeconfig is written. */
export async function runServer(config: ServerConfig, log: (line: string) => void = (l) => console.error(l)): Promise<RunningServer> {
  const started = performance.now();
  const stops: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stop = () =>
    (stopping ??= (async () => {
      for (const s of stops.reverse()) {
        try {
          await s();
        } catch (error) {
          log(`skiff: error while stopping: ${(error as Error).message}`);
        }
      }
      resolveStopped();
    })());

  try {
    const endpoint = config.datastoreEndpoint;
    log(`skiff: starting server (data dir ${config.dataDir}, datastore ${endpoint === '' ? 'sqlite' : endpoint})`);
    const backend: Backend = await openBackend(endpoint, { dataDir: config.dataDir });
    stops.push(() => backend.close());

    const host = config.bindAddress;
    const certs = await ensureServerCertificates(join(config.dataDir, 'server', 'tls'), {
      hosts: [host, config.nodeName].filter((h) => h && (isIP(h) !== 0 || /^[a-z0-9.-]+$/i.test(h))),
    });
    const token = await ensureToken(join(config.dataDir, 'server', 'token'), certs.caCert, config.token);
    // The join endpoints write node-password Secrets through the API itself, once it is up.
    let joinClient: Client | undefined;

    const api = new ApiServer({
      backend,
      listen: {
        host,
        port: config.httpsListenPort,
        tls: { key: certs.serverKey, cert: certs.serverCert },
        // TLS and HTTP parsing on their own thread(s) once the server is busy, so the API's
        // thread serves more writes.
        threads: defaultFrontEndThreads(),
      },
      serviceCidr: config.serviceCidr,
      kubeletClient: { cert: certs.kubeletClientCert, key: certs.kubeletClientKey },
      pathHandlers: joinHandlers({
        dataDir: config.dataDir,
        caCert: certs.caCert,
        token,
        get client() {
          if (!joinClient) throw new Error('the API server is starting');
          return joinClient;
        },
        log,
      }),
      ...apiServerArgs(config.kubeApiserverArgs, log),
    });
    await api.start();
    stops.push(() => api.stop());
    const url = `https://${isIP(host) === 6 ? `[${host}]` : host}:${api.address.port}`;
    log(`skiff: API server listening on ${url}`);

    const local = new LocalTransport((r) => api.handle(r));
    joinClient = new Client(local.withUserAgent('skiff-join'));
    const managerElection = leaderElection(config.kubeControllerManagerArgs, endpoint);
    const schedulerElection = leaderElection(config.kubeSchedulerArgs, endpoint);
    const settings = controllerSettings(managerElection.rest, log);
    const identity = `${config.nodeName}_${randomUUID()}`;
    const elected = async (lease: string, election: LeaderElection, start: () => Promise<() => Promise<void>>) => {
      if (!election.enabled) {
        stops.push(await start());
        return;
      }
      let stopLeading: (() => Promise<void>) | undefined;
      const elector = new LeaderElector(new Client(local), {
        name: lease,
        identity,
        ...election.timing,
        onStartedLeading: async () => {
          log(`skiff: ${lease}: leading (${identity})`);
          stopLeading = await start();
        },
        onStoppedLeading: async () => {
          log(`skiff: ${lease}: no longer leading`);
          await stopLeading?.();
          stopLeading = undefined;
        },
      });
      elector.start();
      stops.push(() => elector.stop());
    };

    // The controller manager: namespace deletion, garbage collection, and the controllers of
    // src/controllers/all.ts.
    await elected('kube-controller-manager', managerElection, async () => {
      const enabled = (name: string) => controllerEnabled(settings.controllers ?? ['*'], name);
      const namespaces = enabled('namespace-controller') ? new NamespaceController(local) : undefined;
      await namespaces?.start();
      const collector = enabled('garbage-collector-controller') ? new GarbageCollector(local) : undefined;
      await collector?.start();
      const controllers = new ControllerManager({
        transport: local,
        withUserAgent: (userAgent) => local.withUserAgent(userAgent),
        controllers: allControllers,
        settings,
      });
      await controllers.start();
      return async () => {
        await controllers.stop();
        collector?.stop();
        namespaces?.stop();
      };
    });

    // The scheduler places pods on nodes (after the controllers, which create the pods).
    await elected('kube-scheduler', schedulerElection, async () => {
      const scheduler = new Scheduler({ client: new Client(local.withUserAgent('kube-scheduler/skiff (linux) default-scheduler')), ...schedulerArgs(schedulerElection.rest, log) });
      await scheduler.start();
      return () => scheduler.stop();
    });

    // The embedded node agent: this machine runs pods too (after the scheduler, which binds them).
    if (!config.disableAgent) {
      try {
        const agent = await startAgent({
          client: new Client(local.withUserAgent(`kubelet/${KUBELET_VERSION} (linux/amd64)`)),
          nodeName: config.nodeName,
          dataDir: config.dataDir,
          podCidr: nodePodCidr(config.clusterCidr),
          clusterDns: [config.clusterDns],
          clusterDomain: config.clusterDomain,
          clientCa: certs.caCert,
          ...parseKubeletArgs(Object.entries(config.kubeletArgs ?? {}), (key, value) => log(`skiff: --kubelet-arg ${key}=${value} is not supported; ignored`)),
          log,
        });
        stops.push(() => agent.stop());
      } catch (error) {
        log(`skiff: the embedded agent could not start (${(error as Error).message}); the control plane runs without this node`);
      }
    }

    await waitForReadyz(url, certs.caCert);
    await writeKubeconfig(config.writeKubeconfig, {
      server: url,
      caCert: certs.caCert,
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
    });
    log(`skiff: wrote kubeconfig to ${config.writeKubeconfig}`);
    log(`skiff: ready in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    return { url, stop, stopped };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The `--kube-apiserver-arg` settings Skiff understands; others are reported and ignored. */
function apiServerArgs(
  args: Record<string, string>,
  log: (line: string) => void,
): { minRequestTimeoutSeconds?: number; eventTtlSeconds?: number } {
  const out: { minRequestTimeoutSeconds?: number; eventTtlSeconds?: number } = {};
  for (const [key, value] of Object.entries(args)) {
    const seconds = key === 'event-ttl' ? goDurationSeconds(value) : /^[1-9][0-9]*$/.test(value) ? Number(value) : undefined;
    if (key === 'min-request-timeout' && seconds) out.minRequestTimeoutSeconds = seconds;
    else if (key === 'event-ttl' && seconds) out.eventTtlSeconds = seconds;
    else log(`skiff: --kube-apiserver-arg ${key}=${value} is not supported; ignored`);
  }
  return out;
}

/** The `--kube-controller-manager-arg` settings Skiff understands; others are reported and ignored. */
/** Leader election of one component, from its `leader-elect*` arguments (upstream's names). */
interface LeaderElection {
  enabled: boolean;
  timing: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** The component's other arguments. */
  rest: Record<string, string>;
}

/**
 * `leader-elect=true|false` (default: on with etcd, where several servers may share the store;
 * off with SQLite, where only one process can own the data dir), `leader-elect-lease-duration`,
 * `leader-elect-renew-deadline`, `leader-elect-retry-period` (Go durations: `15s`, `500ms`).
 */
function leaderElection(args: Record<string, string>, endpoint: string): LeaderElection {
  const out: LeaderElection = { enabled: endpoint !== '', timing: {}, rest: {} };
  for (const [key, value] of Object.entries(args)) {
    const ms = goDurationMs(value);
    if (key === 'leader-elect' && (value === 'true' || value === 'false')) out.enabled = value === 'true';
    else if (key === 'leader-elect-lease-duration' && ms) out.timing.leaseDurationMs = ms;
    else if (key === 'leader-elect-renew-deadline' && ms) out.timing.renewDeadlineMs = ms;
    else if (key === 'leader-elect-retry-period' && ms) out.timing.retryPeriodMs = ms;
    else out.rest[key] = value;
  }
  return out;
}

/** `500ms`, `2s`, `1m30s` → milliseconds; undefined when malformed or zero. */
function goDurationMs(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!match || text === '') return undefined;
  const ms = ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000 + Number(match[4] ?? 0);
  return ms > 0 ? ms : undefined;
}

function controllerSettings(args: Record<string, string>, log: (line: string) => void): Partial<ControllerSettings> {
  const out: Partial<ControllerSettings> = {};
  for (const [key, value] of Object.entries(args)) {
    const seconds = goDurationSeconds(value);
    if (key === 'node-monitor-grace-period' && seconds) out.nodeMonitorGracePeriodMs = seconds * 1000;
    else if (key === 'node-monitor-period' && seconds) out.nodeMonitorPeriodMs = seconds * 1000;
    else if (key === 'concurrent-syncs' && /^[1-9][0-9]*$/.test(value)) out.workers = Number(value);
    else if (key === 'controllers' && value !== '') out.controllers = value.split(',').map((name) => name.trim());
    else log(`skiff: --kube-controller-manager-arg ${key}=${value} is not supported; ignored`);
  }
  return out;
}

/** `90s`, `5m`, `1h30m` → seconds (whole seconds, at least 1); undefined when malformed. */
function goDurationSeconds(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || text === '') return undefined;
  const seconds = Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
  return seconds >= 1 ? seconds : undefined;
}

/** Polls `/readyz` over the real listener until it answers 200 (at most 30 s). */
async function waitForReadyz(url: string, ca: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await new Promise<number>((resolve) => {
      const req = httpsRequest(`${url}/readyz`, { ca, timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`the API server at ${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
