/**
 * A small HTTPS client for whole-cluster tests: speaks to the API with the kubeconfig's CA and
 * admin certificate over a keep-alive agent, and returns status, headers and raw body.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { parse } from 'yaml';

/** One response. */
export interface HttpResult {
  status: number;
  contentType: string;
  /** Response headers (lower-case names; repeated headers joined with ", "). */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** An API client bound to one server. */
export interface ApiClient {
  request(method: string, path: string, body?: string | Buffer | object, contentType?: string, headers?: Record<string, string>): Promise<HttpResult>;
  close(): void;
}

/** A client for the server a kubeconfig points at. */
export function apiClient(kubeconfigPath: string): ApiClient {
  const config = parse(readFileSync(kubeconfigPath, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
  };
  const cluster = config.clusters[0]!.cluster;
  const user = config.users[0]!.user;
  const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString() : undefined);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: b64(cluster['certificate-authority-data']),
    ...(user['client-certificate-data'] ? { cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) } : {}),
  });
  const base = cluster.server;
  return {
    request(method, path, body, contentType = 'application/json', headers = {}) {
      const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(
          `${base}${path}`,
          { method, agent, headers: { ...(payload !== undefined ? { 'content-type': contentType } : {}), accept: 'application/json', ...headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
              resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), headers, body: text, json });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
