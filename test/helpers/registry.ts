/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a
 * temporary storage folder and a free port, optionally behind basic auth (htpasswd, bcrypt) or
 * token auth (with {@link startTokenServer}, a tiny token server issuing RS256 JWTs with an x5c
 * chain). Stopped by the PID it started; `stop()` removes the storage folder.
 * Also a tiny HTTP proxy that counts requests and can tamper with answers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, the domain part of image references. */
  host: string;
  /** Folder the registry stores into (blobs under `docker/registry/v2/blobs/sha256/`). */
  storageDir: string;
  /** Stops the process and removes its folders. */
  stop(): Promise<void>;
}

/** Options of {@link startRegistry}. */
export interface TestRegistryOptions {
  /** Require HTTP basic auth with this user. */
  basicAuth?: { username: string; password: string };
  /** Require bearer tokens from this token server. */
  tokenAuth?: TestTokenServer;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Path of a blob in a registry's storage (to corrupt it in a test). */
export function registryBlobPath(registry: TestRegistry, digest: string): string {
  const hex = digest.slice(7);
  return join(registry.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** Starts `docker-registry` and waits until it answers. */
export async function startRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-test-registry-'));
  const storageDir = join(dir, 'storage');
  const port = await freePort();
  let auth = '';
  if (options.basicAuth) {
    const line = execFileSync('htpasswd', ['-Bbn', options.basicAuth.username, options.basicAuth.password], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
    auth = `auth:\n  htpasswd:\n    realm: skiff-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (options.tokenAuth) {
    const t = options.tokenAuth;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certPath}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storageDir}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: ${randomBytes(16).toString('hex')}
${auth}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`);
    }
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on ${host} within 15 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, storageDir, stop };
}

/** A token server for a registry's `auth.token` configuration. */
export interface TestTokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Token requests served so far (granted or not). */
  requests: number;
  stop(): Promise<void>;
}

/** Starts a token server granting pull and push to `username`/`password` (and nothing to others). */
export async function startTokenServer(options: { username: string; password: string }): Promise<TestTokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-test-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=skiff-test-token', '-sha256'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyPath));
  const der = Buffer.from(readFileSync(certPath, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const service = 'skiff-test-registry';
  const issuer = 'skiff-test-issuer';
  const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const state = { requests: 0 };
  const server: Server = createServer((req: IncomingMessage, res) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    const [type, name, actions] = scope.split(':');
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] };
    const claims = { iss: issuer, sub: options.username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access: scope ? [{ type, name, actions: (actions ?? '').split(',') }] : [] };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    get requests() {
      return state.requests;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A proxy in front of a registry. */
export interface TestProxy {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `METHOD path` of every request so far. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Starts a proxy to `target` (`127.0.0.1:PORT`). `tamper` may replace a response body (return
 * undefined to pass it through); headers are kept except the length.
 */
export async function startProxy(target: string, options: { tamper?: (method: string, path: string, body: Buffer) => Buffer | undefined } = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const [targetHost, targetPort] = target.split(':');
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: target } }, (up) => {
      if (!options.tamper) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const replaced = options.tamper!(req.method ?? 'GET', req.url ?? '/', body) ?? body;
        const headers = { ...up.headers };
        delete headers['content-length'];
        if (req.method !== 'HEAD') headers['content-length'] = String(replaced.length);
        res.writeHead(up.statusCode ?? 502, headers);
        res.end(req.method === 'HEAD' ? undefined : replaced);
      });
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
