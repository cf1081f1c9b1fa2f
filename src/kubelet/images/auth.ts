/**
 * Registry authentication as the distribution spec's token flow and Docker's clients do it:
 * a `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` sends the client to the
 * token server (with Basic credentials when it has some, or an OAuth2 refresh-token grant for an
 * identity token), whose token then goes in `Authorization: Bearer`; a `Basic` challenge is
 * answered with the credentials themselves. Tokens are cached until shortly before they expire.
 */
import { RegistryAuthError, RegistryResponseError, RegistryUnreachableError } from './errors.ts';
import type { RegistryCredentials } from './docker-config.ts';

/** One parsed `WWW-Authenticate` challenge. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header (one or more challenges; quoted and token parameter values). */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  let i = 0;
  const n = header.length;
  const skipSpaces = (k: number) => {
    while (k < n && header[k] === ' ') k++;
    return k;
  };
  while (i < n) {
    while (i < n && /[\s,]/.test(header[i]!)) i++;
    const token = /^[\w!#$%&'*+.^`|~-]+/.exec(header.slice(i));
    if (token === null) break;
    let k = skipSpaces(i + token[0].length);
    if (header[k] === '=' && current !== undefined) {
      k = skipSpaces(k + 1);
      let value = '';
      if (header[k] === '"') {
        k++;
        while (k < n && header[k] !== '"') {
          if (header[k] === '\\') k++;
          value += header[k] ?? '';
          k++;
        }
        k++;
      } else {
        value = /^[^\s,]*/.exec(header.slice(k))![0];
        k += value.length;
      }
      current.params[token[0].toLowerCase()] = value;
      i = k;
    } else {
      current = { scheme: token[0].toLowerCase(), params: {} };
      challenges.push(current);
      i += token[0].length;
    }
  }
  return challenges;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
}

/**
 * Turns challenges into `Authorization` headers and caches them. Contract: `authorize` returns a
 * header for the challenge, asking the token server at most once per (realm, service, scope,
 * user) while a token is valid; concurrent callers for the same key share one token request.
 * A token server that refuses the credentials gives {@link RegistryAuthError}.
 */
export class TokenCache {
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(options: TokenCacheOptions = {}) {
    this.#fetch = options.fetch ?? fetch;
    this.#clock = options.clock ?? Date.now;
  }

  /** A cached header for the key, if still valid. */
  cached(key: string): string | undefined {
    const entry = this.#tokens.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock()) {
      this.#tokens.delete(key);
      return undefined;
    }
    return entry.header;
  }

  /**
   * The header answering `challenge` for `scope` (`repository:name:pull[,push]`), fetching a
   * token when needed. `registry` names the registry in messages.
   */
  async authorize(registry: string, challenge: AuthChallenge, scope: string, creds: RegistryCredentials | undefined): Promise<{ key: string; header: string }> {
    if (challenge.scheme === 'basic') {
      if (creds?.username === undefined) throw new RegistryAuthError(`registry ${registry} requires credentials (Basic auth) and none were given`);
      const header = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      return { key: `basic|${registry}|${creds.username}`, header };
    }
    if (challenge.scheme !== 'bearer') throw new RegistryAuthError(`registry ${registry} asks for unsupported authentication scheme "${challenge.scheme}"`);
    if (creds?.registryToken !== undefined) return { key: `registrytoken|${registry}`, header: `Bearer ${creds.registryToken}` };
    const realm = challenge.params.realm;
    if (realm === undefined) throw new RegistryAuthError(`registry ${registry} sent a Bearer challenge without a realm`);
    const service = challenge.params.service ?? '';
    const key = `bearer|${realm}|${service}|${scope}|${creds?.username ?? ''}|${creds?.identityToken ? 'id' : ''}`;
    const cached = this.cached(key);
    if (cached !== undefined) return { key, header: cached };
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#fetchToken(registry, realm, service, scope, creds, key).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return { key, header: await pending };
  }

  async #fetchToken(registry: string, realm: string, service: string, scope: string, creds: RegistryCredentials | undefined, key: string): Promise<string> {
    let response: Response;
    try {
      if (creds?.identityToken !== undefined) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', service, scope, refresh_token: creds.identityToken, client_id: 'skiff' });
        response = await this.#fetch(realm, { method: 'POST', body: form, signal: AbortSignal.timeout(30_000) });
      } else {
        const url = new URL(realm);
        if (service !== '') url.searchParams.set('service', service);
        if (scope !== '') url.searchParams.set('scope', scope);
        const headers: Record<string, string> = {};
        if (creds?.username !== undefined) {
          headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
        }
        response = await this.#fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
      }
    } catch (cause) {
      throw new RegistryUnreachableError(`cannot reach the token server ${realm} of registry ${registry}: ${describeNetworkError(cause)}`, { cause });
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new RegistryAuthError(`token server ${realm} of registry ${registry} refused the credentials${creds?.username ? ` of user "${creds.username}"` : ' (anonymous)'} for ${scope}: HTTP ${response.status}`);
    }
    if (!response.ok) throw new RegistryResponseError(`token server ${realm} of registry ${registry} answered HTTP ${response.status}: ${text.slice(0, 200)}`, { status: response.status });
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new RegistryResponseError(`token server ${realm} of registry ${registry} answered with something that is not JSON`, { cause });
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryResponseError(`token server ${realm} of registry ${registry} answered without a token`);
    // The spec's default lifetime is 60 s; renew 10 s early so a request never carries a stale one.
    const lifetime = Math.max(1, body.expires_in ?? 60);
    const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
    const start = Number.isFinite(issued) ? Math.min(issued, this.#clock()) : this.#clock();
    const header = `Bearer ${token}`;
    this.#tokens.set(key, { header, expiresAt: start + lifetime * 1000 - Math.min(10_000, lifetime * 500) });
    return header;
  }
}

/** Go's wording for the common socket errors, as containerd reports them (`connect: connection refused`). */
const GO_SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ETIMEDOUT: 'connect: connection timed out',
};

/**
 * A short text for a fetch failure: Node's message with Go's wording added where the two differ
 * (`connect ECONNREFUSED 127.0.0.1:5000 (dial tcp 127.0.0.1:5000: connect: connection refused)`).
 */
export function describeNetworkError(error: unknown): string {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const errno = e as NodeJS.ErrnoException & { address?: string; port?: number };
    const code = errno.code;
    if (code !== undefined && e.message) {
      const go = GO_SOCKET_ERRORS[code];
      if (go === undefined) return e.message;
      const target = errno.address !== undefined ? ` ${errno.address.includes(':') ? `[${errno.address}]` : errno.address}${errno.port !== undefined ? `:${errno.port}` : ''}` : '';
      return `${e.message} (dial tcp${target}: ${go})`;
    }
    if (e.cause === undefined) return e.message;
    if (e.cause instanceof AggregateError && e.cause.errors.length > 0) e = e.cause.errors[0];
    else e = e.cause;
  }
  return e instanceof Error ? e.message : String(e);
}
