/**
 * Joining with `--server URL --token TOKEN`, as k3s agents do:
 *
 * 1. The token `K10<CA hash>::<user>:<password>` names the cluster CA by its hash. The CA bundle
 *    is fetched from the server's unauthenticated `/cacerts` without trusting the connection, and
 *    nothing more is done unless its hash is the token's (see `src/pki/join-token.ts`).
 * 2. From then on the server is trusted only through that CA: a new key and a CSR are posted
 *    with the token's password to the server's join endpoint (`src/server/join.ts`), which signs
 *    a client certificate — `system:node:<name>` in `system:nodes` for an agent, one identity of
 *    its own for `skiff sim`. The private key never leaves this process.
 * 3. The returned credentials (CA, certificate, key) are the node's from then on; the token is
 *    not sent to the Kubernetes API.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname } from 'node:path';
import type { Credentials } from '../client/index.ts';
import { caBundleHash, caBundleMatches, createKeyAndCsr, parseJoinToken, pemCertificates } from '../pki/index.ts';
import { SimError } from './errors.ts';

/** Who joins: an agent for one node, or the simulator for many. */
export type JoinIdentity = { kind: 'node'; nodeName: string; nodePassword: string } | { kind: 'sim' };

/** Paths of the server's join endpoints (`src/server/join.ts`). */
const CACERTS = '/cacerts';
const ISSUE = { node: '/v1-skiff/client-kubelet.crt', sim: '/v1-skiff/client-sim.crt' } as const;

/**
 * Checks the server's CA against the token, then has the server sign this joiner a client
 * certificate, and returns credentials with it. Throws {@link SimError} (`ERR_SIM_TOKEN`) when the
 * token has no CA hash, the server's CA does not match it, or the server refuses the token or the
 * node password — with the server's own message.
 */
export async function credentialsFromToken(server: string, token: string, identity: JoinIdentity = { kind: 'sim' }): Promise<Credentials> {
  let parsed;
  try {
    parsed = parseJoinToken(token);
  } catch (error) {
    throw new SimError('ERR_SIM_TOKEN', `--token: ${(error as Error).message}`);
  }
  if (parsed.caHash === undefined) {
    throw new SimError('ERR_SIM_TOKEN', 'the token carries no CA hash (K10<sha256>::server:<password>), so the server cannot be checked: use the full token from the server\'s <data-dir>/server/token');
  }
  const base = new URL(server);
  if (base.protocol !== 'https:') throw new SimError('ERR_SIM_TOKEN', `--server: only https:// URLs are supported, not ${server}`);

  // 1. The CA, over a connection nothing is trusted on yet.
  const cacerts = await call(new URL(CACERTS, base), { method: 'GET', trust: 'nothing' }).catch((error: Error) => {
    throw new SimError('ERR_SIM_TOKEN', `cannot fetch the cluster CA from ${base.origin}${CACERTS}: ${error.message}`, { cause: error });
  });
  if (cacerts.status !== 200 || pemCertificates(cacerts.body).length === 0) {
    throw new SimError('ERR_SIM_TOKEN', `${base.origin}${CACERTS} answered ${cacerts.status} without a CA certificate: is ${server} a Skiff server?`);
  }
  const ca = cacerts.body;
  if (!caBundleMatches(ca, parsed.caHash)) {
    throw new SimError(
      'ERR_SIM_TOKEN',
      `refusing to connect: the CA of ${base.origin} (hash ${caBundleHash(ca)}) is not the one the token names (${parsed.caHash}); check --server and --token`,
    );
  }

  // 2. A client certificate, with the server now trusted through that CA only.
  const commonName = identity.kind === 'node' ? `system:node:${identity.nodeName}` : 'system:skiff-sim';
  const { key, csr } = await createKeyAndCsr(commonName);
  const body = JSON.stringify({
    password: parsed.password,
    csr,
    ...(identity.kind === 'node' ? { nodeName: identity.nodeName, nodePassword: identity.nodePassword } : {}),
  });
  const issued = await call(new URL(ISSUE[identity.kind], base), { method: 'POST', trust: ca, body }).catch((error: Error) => {
    throw new SimError('ERR_SIM_TOKEN', `cannot reach ${base.origin} through the cluster CA: ${error.message}`, { cause: error });
  });
  if (issued.status !== 200) {
    let message = issued.body.trim();
    try {
      message = (JSON.parse(issued.body) as { message?: string }).message ?? message;
    } catch {
      // not a Status: the body as it is
    }
    throw new SimError('ERR_SIM_TOKEN', `${base.origin} refused to join ${identity.kind === 'node' ? `node ${identity.nodeName}` : 'the simulator'} (${issued.status}): ${message}`);
  }
  const [cert] = pemCertificates(issued.body);
  if (!cert) throw new SimError('ERR_SIM_TOKEN', `${base.origin} answered the join without a certificate`);
  return { server, ca, cert: `${cert}\n`, key };
}

/**
 * The node's own password (k3s's `/etc/rancher/node/password`): made at the first join and kept
 * in `file` (mode 0600); the server remembers it for the node's name.
 */
export async function ensureNodePassword(file: string): Promise<string> {
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const password = randomBytes(16).toString('hex');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** One HTTPS request; `trust` is the CA bundle to verify the server with, or 'nothing'. */
function call(url: URL, options: { method: string; trust: string | 'nothing'; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        timeout: 10_000,
        ...(options.trust === 'nothing' ? { rejectUnauthorized: false } : { ca: options.trust }),
        headers: options.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end(options.body);
  });
}
