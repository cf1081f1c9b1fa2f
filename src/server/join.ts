/**
 * Joining nodes with the cluster token, as k3s's supervisor does it, on the API server's port:
 *
 * - `GET /cacerts` (no authentication): the cluster CA bundle, byte for byte the file the
 *   token's CA hash was computed from, so a joining node can check it against its token before
 *   trusting it.
 * - `POST /v1-skiff/client-kubelet.crt`: the token's password, the node's name and node password,
 *   and a PKCS#10 CSR; answers a client certificate for `system:node:<name>` in `system:nodes`
 *   followed by the CA bundle (k3s's answer). The node keeps its private key.
 * - `POST /v1-skiff/client-sim.crt`: the same for `skiff sim`, which acts for many simulated
 *   nodes through one connection: `system:skiff-sim` (as kwok and k3s's own controllers run
 *   under an identity of their own).
 *
 * k3s sends the password as HTTP basic auth and the node's name and password as headers; Skiff's
 * listener hands the handler no headers yet, so they travel in the JSON body
 * (`{ "password", "nodeName", "nodePassword", "csr" }`).
 *
 * Node passwords (k3s's `node-password.k3s` Secrets): the first join of a node name stores a hash
 * of the node's password in the Secret `kube-system/<name>.node-password.skiff`; a later join of
 * that name must present the same password while the Node exists, so a second machine cannot take
 * over a node's identity with the shared token alone. Once the Node is deleted its name is free.
 *
 * The API server does not authenticate requests yet (it listens on loopback by default): the
 * certificates issued here carry the identities that authentication will check when it lands.
 */
import { randomBytes, scrypt, timingSafeEqual, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, type ApiRequest, type ApiResponse, type Client } from '../client/index.ts';
import { InvalidCsrError, parseJoinToken, signClientCertificate } from '../pki/index.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

/** Paths of the join endpoints. */
export const JOIN_PATHS = {
  cacerts: '/cacerts',
  kubelet: '/v1-skiff/client-kubelet.crt',
  sim: '/v1-skiff/client-sim.crt',
} as const;

/** The identity `skiff sim` joins as. */
export const SIM_USER = 'system:skiff-sim';

/** The body a joining node posts. */
export interface JoinRequestBody {
  /** The password part of the join token. */
  password: string;
  /** The node's name (kubelet certificates only). */
  nodeName?: string;
  /** The node's own password, kept on the node (kubelet certificates only). */
  nodePassword?: string;
  /** PEM PKCS#10 certificate signing request. */
  csr: string;
}

/** Options of {@link joinHandlers}. */
export interface JoinOptions {
  /** The server's data dir: the CA is read from `<dataDir>/server/tls`. */
  dataDir: string;
  /** The CA bundle as written to `server-ca.crt` (served at `/cacerts`). */
  caCert: string;
  /** The full join token (its password is what joining nodes must know). */
  token: string;
  /** Reads and writes node-password Secrets. */
  client: Client;
  log?: (line: string) => void;
}

type Handler = (request: ApiRequest) => Promise<ApiResponse>;

/** The handlers of the join endpoints, by path, for `ApiServerOptions.pathHandlers`. */
export function joinHandlers(options: JoinOptions): Record<string, Handler> {
  const expected = createHash('sha256').update(parseJoinToken(options.token).password).digest();
  const caKeyFile = join(options.dataDir, 'server', 'tls', 'server-ca.key');
  const log = options.log ?? (() => {});

  const issue = async (request: ApiRequest, kind: 'kubelet' | 'sim'): Promise<ApiResponse> => {
    if (request.method !== 'POST') return status(405, 'MethodNotAllowed', `${request.method} is not supported here; POST a certificate signing request`);
    let body: Partial<JoinRequestBody>;
    try {
      body = JSON.parse(Buffer.from(request.body ?? new Uint8Array()).toString('utf8')) as Partial<JoinRequestBody>;
    } catch {
      return status(400, 'BadRequest', 'the body is not JSON: expected {"password", "nodeName", "nodePassword", "csr"}');
    }
    const given = createHash('sha256').update(typeof body.password === 'string' ? body.password : '').digest();
    if (!timingSafeEqual(given, expected)) {
      log(`skiff: refused a ${kind === 'sim' ? 'simulator' : `node${typeof body.nodeName === 'string' ? ` (${body.nodeName})` : ''}`} join: wrong token`);
      return status(401, 'Unauthorized', 'the join token is not valid for this cluster: use the token in <data-dir>/server/token of the server');
    }
    if (typeof body.csr !== 'string') return status(400, 'BadRequest', 'csr: a PEM certificate signing request is required');
    let commonName = SIM_USER;
    let organizations: string[] = [];
    if (kind === 'kubelet') {
      const nodeName = body.nodeName;
      if (typeof nodeName !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName)) {
        return status(400, 'BadRequest', `nodeName: ${JSON.stringify(nodeName)} is not a valid node name (a lowercase DNS subdomain)`);
      }
      if (typeof body.nodePassword !== 'string' || body.nodePassword.length < 16) {
        return status(400, 'BadRequest', 'nodePassword: the node\'s password (at least 16 characters) is required');
      }
      const refusal = await checkNodePassword(options.client, nodeName, body.nodePassword);
      if (refusal) {
        log(`skiff: refused node ${nodeName}: ${refusal}`);
        return status(403, 'Forbidden', refusal);
      }
      commonName = `system:node:${nodeName}`;
      organizations = ['system:nodes'];
    }
    let cert: string;
    try {
      cert = await signClientCertificate({ caCert: options.caCert, caKey: await readFile(caKeyFile, 'utf8'), csr: body.csr, commonName, organizations });
    } catch (error) {
      if (error instanceof InvalidCsrError) return status(400, 'BadRequest', `csr: ${error.message}`);
      throw error;
    }
    log(`skiff: issued a client certificate for ${commonName}`);
    return { status: 200, contentType: 'text/plain', body: `${cert}${options.caCert}` };
  };

  return {
    [JOIN_PATHS.cacerts]: async (request) =>
      request.method === 'GET' || request.method === 'HEAD'
        ? { status: 200, contentType: 'text/plain', body: options.caCert }
        : status(405, 'MethodNotAllowed', `${request.method} is not supported on /cacerts`),
    [JOIN_PATHS.kubelet]: (request) => issue(request, 'kubelet'),
    [JOIN_PATHS.sim]: (request) => issue(request, 'sim'),
  };
}

/**
 * Checks (and on a first join stores) the node's password; returns why it is refused, if it is.
 */
async function checkNodePassword(client: Client, nodeName: string, password: string): Promise<string | undefined> {
  const secrets = client.resource(kinds.secrets);
  const name = `${nodeName}.node-password.skiff`;
  const existing = await secrets.get('kube-system', name).catch((error: unknown) => {
    if (isApiError(error, 404)) return undefined;
    throw error;
  });
  const stored = existing?.data?.hash ? Buffer.from(existing.data.hash, 'base64').toString('utf8') : undefined;
  if (stored !== undefined && (await passwordMatches(password, stored))) return undefined;
  if (existing) {
    const node = await client.resource(kinds.nodes).get(undefined, nodeName).catch(() => undefined);
    if (node) {
      return `node password rejected: a node named "${nodeName}" already joined with another node password (a duplicate node name, or the agent's <data-dir>/agent/node-password changed); pick another --node-name or delete the Node first`;
    }
  }
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'kube-system' },
    type: 'skiff.io/node-password',
    immutable: false,
    data: { hash: Buffer.from(await hashPassword(password)).toString('base64') },
  };
  if (existing) await secrets.update({ ...secret, metadata: { ...secret.metadata, resourceVersion: existing.metadata!.resourceVersion! } });
  else await secrets.create(secret);
  return undefined;
}

/** `scrypt$<salt hex>$<hash hex>`. */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${(await scryptAsync(password, salt, 32)).toString('hex')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const computed = await scryptAsync(password, Buffer.from(salt, 'hex'), 32);
  const want = Buffer.from(hash, 'hex');
  return want.length === computed.length && timingSafeEqual(want, computed);
}

/** A `Status` answer, as the API server's errors look. */
function status(code: number, reason: string, message: string): ApiResponse {
  return {
    status: code,
    contentType: 'application/json',
    body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }),
  };
}
