/**
 * The remote transport: HTTPS to an API server with one keep-alive connection pool. Watches
 * take a connection of their own each (a watch never ends by itself) and parse the server's
 * line-delimited JSON as it arrives.
 */
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { Credentials } from './kubeconfig.ts';
import { readKubeconfig } from './kubeconfig.ts';
import type { ClientRequest, ClientResponse, Transport, WatchEventMessage } from './transport.ts';

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** Sent as `User-Agent`; names the field manager of writes. Default `skiff`. */
  userAgent?: string;
  /** Connections kept for ordinary requests. Default 16. */
  maxSockets?: number;
}

/** See the file header. */
export class HttpTransport implements Transport {
  readonly #credentials: Credentials;
  readonly #url: URL;
  readonly #agent: Agent;
  readonly #watchAgent: Agent;
  readonly #userAgent: string;

  constructor(credentials: Credentials, options: HttpTransportOptions = {}) {
    this.#credentials = credentials;
    this.#url = new URL(credentials.server);
    this.#userAgent = options.userAgent ?? 'skiff';
    const tls = {
      ...(credentials.ca ? { ca: credentials.ca } : {}),
      ...(credentials.cert && credentials.key ? { cert: credentials.cert, key: credentials.key } : {}),
      rejectUnauthorized: credentials.insecureSkipTlsVerify !== true,
    };
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16, ...tls });
    this.#watchAgent = new Agent({ keepAlive: false, ...tls });
  }

  /** A transport for the current context of a kubeconfig file. */
  static fromKubeconfig(file: string, options: HttpTransportOptions = {}): HttpTransport {
    return new HttpTransport(readKubeconfig(file), options);
  }

  request<T>(request: ClientRequest): Promise<ClientResponse<T>> {
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(this.#options(request, this.#agent, payload), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text === '' ? null : JSON.parse(text);
          } catch {
            // Not JSON (a proxy's error page): the caller sees the text in the ApiError.
          }
          resolve({ status: res.statusCode ?? 0, body: body as T });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  watch<T>(
    request: Omit<ClientRequest, 'method' | 'body'>,
    onEvent: (event: WatchEventMessage<T>) => void,
    onEnd: () => void,
  ): Promise<() => void> {
    const full: ClientRequest = { ...request, method: 'GET', query: { ...request.query, watch: 'true' } };
    return new Promise((resolve, reject) => {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        onEnd();
      };
      const req = httpsRequest(this.#options(full, this.#watchAgent, undefined), (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            ended = true;
            reject(new Error(`watch ${request.path} failed: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`));
          });
          return;
        }
        resolve(() => {
          ended = true;
          req.destroy();
        });
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk: string) => {
          if (ended) return;
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line) onEvent(JSON.parse(line) as WatchEventMessage<T>);
          }
        });
        res.on('end', end);
        res.on('error', end);
        res.on('close', end);
      });
      req.on('error', (error) => {
        if (!ended) {
          ended = true;
          reject(error);
        }
      });
      req.end();
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent.destroy();
    this.#watchAgent.destroy();
  }

  #options(request: ClientRequest, agent: Agent, payload: Buffer | undefined): RequestOptions {
    const query = new URLSearchParams(request.query ?? {}).toString();
    const headers: Record<string, string> = { accept: request.accept ?? 'application/json', 'user-agent': this.#userAgent };
    if (this.#credentials.token) headers.authorization = `Bearer ${this.#credentials.token}`;
    if (payload) {
      headers['content-type'] = request.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return {
      agent,
      hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
      port: this.#url.port || 443,
      method: request.method,
      path: query ? `${request.path}?${query}` : request.path,
      headers,
    };
  }
}
