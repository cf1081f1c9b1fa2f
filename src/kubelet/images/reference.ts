/**
 * Image references as upstream's `distribution/reference` parses them (the grammar the kubelet
 * and containerd use): `[domain[:port]/]path[:tag][@digest]`, with Docker Hub normalization —
 * `busybox` is `docker.io/library/busybox:latest`.
 */
import { InvalidImageNameError } from './errors.ts';

/** The registry host Docker Hub names are normalized to (as `distribution/reference`). */
export const DOCKER_HUB_DOMAIN = 'docker.io';
/** The host that actually serves Docker Hub's distribution API. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

/** A parsed, normalized image reference. */
export interface ImageReference {
  /** Registry host with optional port, e.g. `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  /** `domain/path`, e.g. `docker.io/library/busybox`. */
  name: string;
  /** The tag; `latest` when the input had neither tag nor digest. */
  tag?: string;
  /** The digest (`sha256:…`), when the input named one. */
  digest?: string;
}

/**
 * Parses and normalizes a reference. A reference with neither tag nor digest gets `:latest`, as
 * the kubelet does before pulling; with a digest, the digest decides what is pulled.
 * @throws InvalidImageNameError when it does not parse.
 */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input === '') throw new InvalidImageNameError('image reference is empty');
  if (/^[a-f0-9]{64}$/.test(input)) {
    throw new InvalidImageNameError(`invalid reference "${input}": a 64-character hexadecimal string is an image id, not a name`);
  }
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidImageNameError(`invalid reference "${input}": bad digest "${digest}"`);
    if (digest.startsWith('sha256:') && !SHA256_DIGEST.test(digest)) {
      throw new InvalidImageNameError(`invalid reference "${input}": a sha256 digest has 64 lower-case hex characters`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidImageNameError(`invalid reference "${input}": bad tag "${tag}"`);
  }
  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  // As `splitDockerDomain`: the first component is a host only if it looks like one.
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DOCKER_HUB_DOMAIN;
    path = rest;
  } else {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB_DOMAIN;
  if (domain === DOCKER_HUB_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (!DOMAIN.test(domain)) throw new InvalidImageNameError(`invalid reference "${input}": bad registry host "${domain}"`);
  if (path !== path.toLowerCase()) throw new InvalidImageNameError(`invalid reference "${input}": repository name must be lowercase`);
  if (path === '' || !path.split('/').every((c) => PATH_COMPONENT.test(c))) {
    throw new InvalidImageNameError(`invalid reference "${input}": bad repository name "${path}"`);
  }
  const name = `${domain}/${path}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidImageNameError(`invalid reference "${input}": repository name longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, path, name, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The canonical text of a reference: `name:tag`, `name@digest` or `name:tag@digest`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/**
 * The short form people type (`busybox:1.36` for `docker.io/library/busybox:1.36`), as
 * `reference.FamiliarString`.
 */
export function familiarName(name: string): string {
  if (name.startsWith(`${DOCKER_HUB_DOMAIN}/library/`)) return name.slice(DOCKER_HUB_DOMAIN.length + 9);
  if (name.startsWith(`${DOCKER_HUB_DOMAIN}/`)) return name.slice(DOCKER_HUB_DOMAIN.length + 1);
  return name;
}

/** Whether `text` is a well-formed sha256 digest (`sha256:` + 64 lower-case hex). */
export function isSha256Digest(text: string): boolean {
  return SHA256_DIGEST.test(text);
}
