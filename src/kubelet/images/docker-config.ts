/**
 * Registry credentials from `imagePullSecrets`: the `.dockerconfigjson` (`kubernetes.io/dockerconfigjson`)
 * and `.dockercfg` (`kubernetes.io/dockercfg`) Secret formats, and the keyring that matches an
 * image against their registry keys as upstream's `credentialprovider.BasicDockerKeyring`:
 * keys are schemeless URLs whose host parts may be globs (`*.example.com`), ports must be equal,
 * a key's path must be a prefix of the image's path, `/v1/` and `/v2/` suffixes mean the host,
 * and `index.docker.io` credentials apply to every Docker Hub image.
 */
import { ImageError } from './errors.ts';

/** One set of credentials for a registry. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An identity (refresh) token, sent to the token server in place of a password (OAuth2 refresh_token grant). */
  identityToken?: string;
  /** A registry token, sent as `Authorization: Bearer` as is. */
  registryToken?: string;
}

/** A Secret's `data` (base64 values, as in the API object) or `stringData` (plain values). */
export interface PullSecret {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  email?: string;
  identitytoken?: string;
  registrytoken?: string;
}

const DEFAULT_REGISTRY_HOST = 'index.docker.io';

/**
 * Parses one config document: `{"auths": {...}}` (`.dockerconfigjson`) or the bare map
 * (`.dockercfg`). An `auth` field is base64 `user:password` and fills username and password
 * when they are absent.
 * @throws ImageError (code `ERR_PULL_SECRET`) when the text is not such a document.
 */
export function parseDockerConfig(text: string): Map<string, RegistryCredentials> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new ImageError('ERR_PULL_SECRET', `pull secret is not JSON: ${(cause as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ImageError('ERR_PULL_SECRET', 'pull secret is not a JSON object');
  }
  const auths = 'auths' in doc ? (doc as { auths: unknown }).auths : doc;
  const result = new Map<string, RegistryCredentials>();
  if (auths === null || typeof auths !== 'object') return result;
  for (const [registry, value] of Object.entries(auths as Record<string, DockerConfigEntry>)) {
    if (value === null || typeof value !== 'object') continue;
    const creds: RegistryCredentials = {};
    if (value.username) creds.username = value.username;
    if (value.password) creds.password = value.password;
    if (value.auth && (creds.username === undefined || creds.password === undefined)) {
      const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) throw new ImageError('ERR_PULL_SECRET', `pull secret entry for "${registry}": auth is not base64 "user:password"`);
      creds.username = decoded.slice(0, colon);
      creds.password = decoded.slice(colon + 1);
    }
    if (value.identitytoken) creds.identityToken = value.identitytoken;
    if (value.registrytoken) creds.registryToken = value.registrytoken;
    result.set(registry, creds);
  }
  return result;
}

interface SchemelessUrl {
  hostParts: string[];
  port: string;
  path: string;
}

function parseSchemeless(text: string): SchemelessUrl | undefined {
  let url: URL;
  try {
    url = new URL(`https://${text}`);
  } catch {
    return undefined;
  }
  // URL drops a default port (443); upstream compares the literal port text.
  const hostText = text.split('/')[0]!;
  const portMatch = /:(\d+)$/.exec(hostText);
  return { hostParts: url.hostname.split('.'), port: portMatch ? portMatch[1]! : '', path: decodeURIComponent(url.pathname === '/' && !text.includes('/') ? '' : url.pathname) };
}

/** `filepath.Match` for one host label: `*`, `?` and `[...]` classes. */
function globMatch(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  try {
    return new RegExp(`^${re}$`).test(text);
  } catch {
    return false;
  }
}

function urlsMatch(glob: SchemelessUrl, target: SchemelessUrl): boolean {
  if (glob.port !== target.port) return false;
  if (glob.hostParts.length !== target.hostParts.length) return false;
  if (!glob.hostParts.every((part, i) => globMatch(part, target.hostParts[i]!))) return false;
  return target.path.startsWith(glob.path);
}

/** Whether an image name pulls from Docker Hub, as upstream's `isDefaultRegistryMatch`. */
function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash === -1 ? image : image.slice(0, slash);
  if (first === '') return false;
  if (slash === -1) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !/[.:]/.test(first);
}

/**
 * Credentials from pull secrets, looked up by image. Contract: `lookup` returns every matching
 * credential, most specific key first (keys sorted in reverse, as upstream), in the order they
 * were added within one key; the kubelet tries them in turn until a pull succeeds, and pulls
 * anonymously when the list is empty.
 */
export class DockerKeyring {
  readonly #creds = new Map<string, RegistryCredentials[]>();
  #index: string[] = [];

  /** A keyring from the Secrets a pod's `imagePullSecrets` name (wrong-typed or malformed entries are skipped). */
  static fromSecrets(secrets: PullSecret[]): DockerKeyring {
    const keyring = new DockerKeyring();
    for (const secret of secrets) {
      for (const [key, type] of [['.dockerconfigjson', 'kubernetes.io/dockerconfigjson'], ['.dockercfg', 'kubernetes.io/dockercfg']] as const) {
        if (secret.type !== undefined && secret.type !== type) continue;
        const text = secret.stringData?.[key] ?? (secret.data?.[key] !== undefined ? Buffer.from(secret.data[key]!, 'base64').toString('utf8') : undefined);
        if (text === undefined) continue;
        try {
          keyring.add(parseDockerConfig(text));
        } catch {
          // Upstream logs and skips a pull secret that does not parse.
        }
      }
    }
    return keyring;
  }

  /** Adds the entries of one parsed config document. */
  add(config: Map<string, RegistryCredentials>): void {
    for (const [location, creds] of config) {
      const value = location.replace(/^https?:\/\//, '');
      const parsed = parseSchemeless(value);
      if (parsed === undefined) continue;
      let path = parsed.path;
      // Docker treats host/v1/ and host/v2/ as the host itself.
      if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
      const host = value.split('/')[0]!;
      const key = path.length > 0 && path !== '/' ? host + path : host;
      const list = this.#creds.get(key) ?? [];
      list.push(creds);
      this.#creds.set(key, list);
      if (!this.#index.includes(key)) this.#index.push(key);
    }
    this.#index.sort().reverse();
  }

  /**
   * Credentials for an image, given as its repository name (`docker.io/library/busybox`,
   * `127.0.0.1:5000/app`; a tag or digest is ignored).
   */
  lookup(image: string): RegistryCredentials[] {
    const name = image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
    const target = parseSchemeless(name);
    const result: RegistryCredentials[] = [];
    if (target !== undefined) {
      for (const key of this.#index) {
        const glob = parseSchemeless(key);
        if (glob !== undefined && urlsMatch(glob, target)) result.push(...this.#creds.get(key)!);
      }
    }
    if (result.length > 0) return result;
    if (isDefaultRegistryMatch(name)) return [...(this.#creds.get(DEFAULT_REGISTRY_HOST) ?? [])];
    return [];
  }
}
