/**
 * Parses a request path into what it addresses, as upstream's `RequestInfoFactory` does:
 * `/apis/apps/v1/namespaces/default/deployments/web/scale` →
 * group `apps`, version `v1`, namespace `default`, resource `deployments`, name `web`,
 * subresource `scale`. Verbs follow from the method and whether a name is present.
 */

/** What a resource request addresses. */
export interface ResourceRequest {
  group: string;
  version: string;
  /** The namespace from the path; undefined for cluster-scoped and all-namespace requests. */
  namespace: string | undefined;
  resource: string;
  name: string | undefined;
  subresource: string | undefined;
  /** True for the legacy `/api/v1/watch/…` form. */
  legacyWatch: boolean;
  /** For the `proxy` subresource: the path after it (`stats/summary` of `nodes/n1/proxy/stats/summary`), without a leading slash. */
  subpath?: string;
}

/**
 * Resource request info for `/api/v1/…` and `/apis/<group>/<version>/…` paths with at least a
 * resource segment; undefined for anything else (discovery, health, unknown paths).
 */
export function parseResourcePath(path: string): ResourceRequest | undefined {
  const parts = path.split('/');
  parts.shift(); // the empty segment before the leading slash
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (rest.includes('')) {
    // A trailing slash (`/api/v1/pods/`) is tolerated; empty inner segments are not.
    if (rest[rest.length - 1] === '' && !rest.slice(0, -1).includes('')) rest = rest.slice(0, -1);
    else return undefined;
  }
  const legacyWatch = rest[0] === 'watch';
  if (legacyWatch) rest = rest.slice(1);
  if (rest.length === 0) return undefined;
  if (path.includes('%')) {
    try {
      rest = rest.map((p) => decodeURIComponent(p));
    } catch {
      return undefined; // malformed percent-encoding addresses nothing
    }
  }
  // `namespaces/<ns>/<resource>…` is a namespaced request; `namespaces`, `namespaces/<name>`
  // and `namespaces/<name>/<subresource of a namespace>` address namespaces themselves.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    return request(group, version, rest[1], rest, 2, legacyWatch);
  }
  return request(group, version, undefined, rest, 0, legacyWatch);
}

/** The request for `<resource>[/<name>[/<subresource>[/<path>]]]` at `rest[at]` onwards;
 * undefined when more follows a subresource other than `proxy`. */
function request(group: string, version: string, namespace: string | undefined, rest: string[], at: number, legacyWatch: boolean): ResourceRequest | undefined {
  const subresource = rest[at + 2];
  const info: ResourceRequest = { group, version, namespace, resource: rest[at]!, name: rest[at + 1], subresource, legacyWatch };
  if (rest.length > at + 3) {
    // Only `proxy` takes a path of its own after it (`nodes/<name>/proxy/<path>`).
    if (subresource !== 'proxy') return undefined;
    info.subpath = rest.slice(at + 3).join('/');
  } else if (subresource === 'proxy') {
    info.subpath = '';
  }
  return info;
}
