/**
 * A client of the OCI distribution spec (v2 API): manifests and blobs by tag or digest, with
 * authentication (see `auth.ts`), and the push half (blob upload, manifest PUT) that the image
 * build script uses. Registries on loopback addresses and those listed as insecure are spoken to
 * over plain HTTP, as Docker and containerd allow; every other over HTTPS.
 */
import { isIP } from 'node:net';
import { describeNetworkError, parseChallenges, TokenCache } from './auth.ts';
import type { RegistryCredentials } from './docker-config.ts';
import {
  ManifestNotFoundError,
  RegistryAuthError,
  RegistryResponseError,
  RegistryUnreachableError,
} from './errors.ts';
import { MANIFEST_ACCEPT } from './media-types.ts';
import { DOCKER_HUB_DOMAIN, DOCKER_HUB_REGISTRY } from './reference.ts';

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Registries (`host[:port]`) spoken to over plain HTTP although not on loopback. Default none. */
  insecureRegistries?: string[];
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch, for token expiry (default `Date.now`). */
  clock?: () => number;
  /** Time-out of a manifest or token request, in ms (default 30 000). Blob bodies have none. */
  requestTimeoutMs?: number;
}

/** Where a repository lives. */
export interface RepositoryLocation {
  /** Registry host[:port] as in the reference (`docker.io`, `127.0.0.1:5000`). */
  domain: string;
  /** Repository path (`library/busybox`). */
  path: string;
}

/** A fetched manifest or index. */
export interface FetchedManifest {
  mediaType: string;
  /** The digest the registry claims (`Docker-Content-Digest`); the caller verifies the bytes. */
  digest: string | undefined;
  bytes: Buffer;
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  actions?: string;
  credentials?: RegistryCredentials;
  timeout?: boolean;
  redirect?: 'follow' | 'manual';
}

/** Whether a `host[:port]` is a loopback address (`localhost`, 127.0.0.0/8, `::1`). */
export function isLoopbackRegistry(domain: string): boolean {
  let host = domain;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(domain);
  if (bracket) host = bracket[1]!;
  else if (/:\d+$/.test(domain) && isIP(domain) !== 6) host = domain.replace(/:\d+$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * Speaks the distribution API. Contract: every method resolves only on a 2xx answer; a network
 * failure is {@link RegistryUnreachableError}, a refused or missing credential
 * {@link RegistryAuthError}, an unknown manifest {@link ManifestNotFoundError}, anything else
 * {@link RegistryResponseError}. A `401` is answered once per request by authenticating; the
 * resulting header is reused for the same repository and credentials.
 */
export class RegistryClient {
  readonly #insecure: Set<string>;
  readonly #fetch: typeof fetch;
  readonly #tokens: TokenCache;
  readonly #timeout: number;
  /** Last auth header per (registry, scope, credentials), so later requests skip the 401. */
  readonly #authKeys = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#insecure = new Set(options.insecureRegistries ?? []);
    this.#fetch = options.fetch ?? fetch;
    this.#tokens = new TokenCache({ fetch: this.#fetch, ...(options.clock ? { clock: options.clock } : {}) });
    this.#timeout = options.requestTimeoutMs ?? 30_000;
  }

  /** The base URL of a registry's API (`http://127.0.0.1:5000/v2/`, `https://registry-1.docker.io/v2/`). */
  baseUrl(domain: string): string {
    const host = domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_REGISTRY : domain;
    const scheme = isLoopbackRegistry(domain) || this.#insecure.has(domain) ? 'http' : 'https';
    return `${scheme}://${host}/v2/`;
  }

  /** Fetches a manifest or index by tag or digest, accepting every type the service reads. */
  async getManifest(repo: RepositoryLocation, reference: string, credentials?: RegistryCredentials): Promise<FetchedManifest> {
    const response = await this.#request(repo, `manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, credentials, timeout: true });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ManifestNotFoundError(`manifest for ${repo.domain}/${repo.path}${reference.includes(':') ? '@' : ':'}${reference} not found in the registry`);
    }
    await this.#expectOk(response, `GET manifest ${repo.domain}/${repo.path}:${reference}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    let mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
      if (parsed.mediaType) mediaType = parsed.mediaType;
    } catch (cause) {
      throw new RegistryResponseError(`manifest ${repo.domain}/${repo.path}:${reference} is not JSON`, { cause });
    }
    return { mediaType, digest: response.headers.get('docker-content-digest') ?? undefined, bytes };
  }

  /** Starts a blob download; the caller reads (and verifies) the body. */
  async getBlob(repo: RepositoryLocation, digest: string, credentials?: RegistryCredentials): Promise<Response> {
    const response = await this.#request(repo, `blobs/${digest}`, { credentials });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryResponseError(`blob ${digest} of ${repo.domain}/${repo.path} not found in the registry`, { status: 404 });
    }
    await this.#expectOk(response, `GET blob ${digest} of ${repo.domain}/${repo.path}`);
    return response;
  }

  /** Whether the registry has a blob in the repository (HEAD). */
  async hasBlob(repo: RepositoryLocation, digest: string, credentials?: RegistryCredentials): Promise<boolean> {
    const response = await this.#request(repo, `blobs/${digest}`, { method: 'HEAD', credentials, actions: 'pull,push', timeout: true });
    await response.body?.cancel();
    if (response.status === 404) return false;
    await this.#expectOk(response, `HEAD blob ${digest}`);
    return true;
  }

  /** Uploads a blob in one piece (POST to open an upload, then PUT with the digest), unless present. */
  async pushBlob(repo: RepositoryLocation, digest: string, data: Buffer, credentials?: RegistryCredentials): Promise<void> {
    if (await this.hasBlob(repo, digest, credentials)) return;
    const start = await this.#request(repo, 'blobs/uploads/', { method: 'POST', credentials, actions: 'pull,push', timeout: true, body: '' });
    await this.#expectOk(start, `POST blob upload to ${repo.domain}/${repo.path}`);
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (location === null) throw new RegistryResponseError(`registry ${repo.domain} opened an upload without a Location`);
    const url = new URL(location, this.baseUrl(repo.domain));
    url.searchParams.set('digest', digest);
    const done = await this.#request(repo, url.toString(), {
      method: 'PUT',
      credentials,
      actions: 'pull,push',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
    });
    await this.#expectOk(done, `PUT blob ${digest} to ${repo.domain}/${repo.path}`);
    await done.body?.cancel();
  }

  /** Stores a manifest or index under a tag or its digest. */
  async pushManifest(repo: RepositoryLocation, reference: string, mediaType: string, bytes: Buffer, credentials?: RegistryCredentials): Promise<void> {
    const response = await this.#request(repo, `manifests/${reference}`, {
      method: 'PUT',
      credentials,
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: bytes,
      timeout: true,
    });
    await this.#expectOk(response, `PUT manifest ${repo.domain}/${repo.path}:${reference}`);
    await response.body?.cancel();
  }

  async #request(repo: RepositoryLocation, pathOrUrl: string, options: RequestOptions): Promise<Response> {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl(repo.domain)}${repo.path}/${pathOrUrl}`;
    const scope = `repository:${repo.path}:${options.actions ?? 'pull'}`;
    const credsId = options.credentials ? `${options.credentials.username ?? ''}|${options.credentials.identityToken ?? ''}|${options.credentials.registryToken ?? ''}|${options.credentials.password ?? ''}` : '';
    const authKey = `${repo.domain}|${scope}|${credsId}`;
    const send = async (authorization: string | undefined): Promise<Response> => {
      const headers: Record<string, string> = { ...options.headers };
      if (authorization !== undefined) headers.authorization = authorization;
      try {
        return await this.#fetch(url, {
          method: options.method ?? 'GET',
          headers,
          ...(options.body !== undefined ? { body: options.body } : {}),
          redirect: options.redirect ?? 'follow',
          ...(options.timeout ? { signal: AbortSignal.timeout(this.#timeout) } : {}),
        });
      } catch (cause) {
        throw new RegistryUnreachableError(`cannot reach registry ${repo.domain} (${new URL(url).origin}): ${describeNetworkError(cause)}`, { cause });
      }
    };
    const known = this.#authKeys.get(authKey);
    let header = known !== undefined ? this.#tokens.cached(known) ?? (known.startsWith('basic|') ? this.#basicHeader(options.credentials) : undefined) : undefined;
    let response = await send(header);
    if (response.status !== 401) return response;
    const challengeHeader = response.headers.get('www-authenticate');
    const refusal = await response.text().catch(() => '');
    const challenges = challengeHeader ? parseChallenges(challengeHeader) : [];
    const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (challenge === undefined) throw new RegistryAuthError(`registry ${repo.domain} answered 401 Unauthorized without a usable challenge`);
    // Basic auth without credentials: the registry's own refusal is the clearest message.
    if (challenge.scheme === 'basic' && options.credentials?.username === undefined) {
      throw new RegistryAuthError(`registry ${repo.domain} refused access to ${repo.path} without credentials: HTTP 401 Unauthorized${errorSummary(refusal)}`);
    }
    const authorized = await this.#tokens.authorize(repo.domain, challenge, challenge.params.scope ?? scope, options.credentials);
    this.#authKeys.set(authKey, authorized.key);
    header = authorized.header;
    response = await send(header);
    if (response.status === 401 || response.status === 403) {
      const text = await response.text();
      throw new RegistryAuthError(
        `registry ${repo.domain} refused access to ${repo.path}${options.credentials?.username ? ` for user "${options.credentials.username}"` : ' without credentials'}: HTTP ${response.status} ${response.status === 401 ? 'Unauthorized' : 'Forbidden'}${errorSummary(text)}`,
      );
    }
    return response;
  }

  #basicHeader(creds: RegistryCredentials | undefined): string | undefined {
    return creds?.username !== undefined ? `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}` : undefined;
  }

  async #expectOk(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    const text = await response.text().catch(() => '');
    if (response.status === 401 || response.status === 403) throw new RegistryAuthError(`${what}: HTTP ${response.status}${errorSummary(text)}`);
    throw new RegistryResponseError(`${what}: HTTP ${response.status}${errorSummary(text)}`, { status: response.status });
  }
}

/** The distribution spec's error body (`{"errors":[{"code","message"}]}`) as a short suffix. */
function errorSummary(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) return ` (${body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')})`;
  } catch {
    // Not the spec's error body.
  }
  return text ? ` (${text.slice(0, 200).trim()})` : '';
}
