/**
 * A minimal HTTPS client for benchmarks, built from a kubeconfig: it trusts the cluster CA,
 * presents the admin client certificate, and keeps connections alive through one `node:https`
 * Agent, so a request costs what the API costs and not a TLS handshake. Bodies come back as
 * text; callers parse only what they need, which keeps the load generator cheap.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { parse } from 'yaml';

/** What a client needs from a kubeconfig's current context. */
export interface Credentials {
  server: URL;
  /** PEM CA certificate(s). */
  ca: string;
  cert?: string;
  key?: string;
}

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users?: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
}

/** Reads the current context's server, CA and client certificate from a kubeconfig file. */
export async function readKubeconfig(file: string): Promise<Credentials> {
  const doc = parse(await readFile(file, 'utf8')) as KubeconfigDoc;
  const contextName = doc['current-context'];
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig ${file}: current context "${contextName}" not found`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig ${file}: cluster "${context.cluster}" not found`);
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};
  const decode = (b64: string | undefined) => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));
  const ca = decode(cluster['certificate-authority-data']);
  if (!ca) throw new Error(`kubeconfig ${file}: cluster "${context.cluster}" has no certificate-authority-data`);
  const cert = decode(user['client-certificate-data']);
  const key = decode(user['client-key-data']);
  return { server: new URL(cluster.server), ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Sockets the agent may open at once: the benchmark's concurrency. Default 1. */
  maxSockets?: number;
  /** Reuse connections between requests. Default true; watches turn it off (they never end). */
  keepAlive?: boolean;
}

/** A response: status code and body text. */
export interface ApiResult {
  status: number;
  body: string;
}

/** One open watch stream. */
export interface WatchHandle {
  /** Closes the connection. */
  close(): void;
  /** Resolves when the server or the client ended the stream. */
  ended: Promise<void>;
}

/** Thrown when the API answers a request with an unexpected status. */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  readonly status: number;
  constructor(method: string, path: string, status: number, body: string) {
    super(`${method} ${path} answered ${status}: ${body.slice(0, 300)}`);
    this.status = status;
  }
}

/** An HTTPS client with one keep-alive Agent. */
export class ApiClient {
  readonly agent: Agent;
  readonly #credentials: Credentials;

  constructor(credentials: Credentials, options: ApiClientOptions = {}) {
    this.#credentials = credentials;
    const keepAlive = options.keepAlive ?? true;
    this.agent = new Agent({
      keepAlive,
      maxSockets: options.maxSockets ?? 1,
      // Without keep-alive every request is a new connection; keep TLS sessions to resume them.
      maxCachedSessions: 1000,
      ca: credentials.ca,
      ...(credentials.cert && credentials.key ? { cert: credentials.cert, key: credentials.key } : {}),
    });
  }

  /** Sends one request; never throws for a status code (network errors reject). The body is
   * sent as JSON unless `contentType` says otherwise (e.g. a patch type). */
  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResult> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { agent: this.agent, hostname: this.#credentials.server.hostname, port: this.#credentials.server.port, method, path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Sends one request and parses the JSON answer; throws {@link ApiStatusError} unless 2xx. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const result = await this.request(method, path, body);
    if (result.status < 200 || result.status > 299) throw new ApiStatusError(method, path, result.status, result.body);
    return JSON.parse(result.body) as T;
  }

  /**
   * Opens a watch (`path` carries `watch=true` and its other query parameters). Resolves once
   * the server answered 200 — by then Skiff has registered the watcher — and calls `onLine`
   * with each complete event line and the `performance.now()` at which its chunk arrived.
   */
  watch(path: string, onLine: (line: string, receivedAt: number) => void): Promise<WatchHandle> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { agent: this.agent, hostname: this.#credentials.server.hostname, port: this.#credentials.server.port, path, headers: { accept: 'application/json' } },
        (res) => {
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => reject(new ApiStatusError('GET', path, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
            return;
          }
          res.setEncoding('utf8');
          // Closing a watch aborts its response; that is the normal end here, not a failure.
          res.on('error', () => undefined);
          let partial = '';
          res.on('data', (chunk: string) => {
            const receivedAt = performance.now();
            let start = 0;
            for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
              const line = partial + chunk.slice(start, nl);
              partial = '';
              start = nl + 1;
              if (line) onLine(line, receivedAt);
            }
            partial += chunk.slice(start);
          });
          const ended = new Promise<void>((r) => {
            res.once('close', () => r());
          });
          resolve({ close: () => req.destroy(), ended });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** Closes idle connections and stops pooling. */
  close(): void {
    this.agent.destroy();
  }
}
