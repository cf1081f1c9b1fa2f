/**
 * Content negotiation: what the client asked for in `Accept` (plain JSON, YAML, a Table, or
 * PartialObjectMetadata) and what it sent in `Content-Type`.
 */

/** The response shape a client accepts. */
export type Rendering =
  | { as: 'object'; yaml: boolean }
  | { as: 'Table'; version: 'v1' | 'v1beta1' }
  | { as: 'PartialObjectMetadata'; version: 'v1' | 'v1beta1' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const parsed: Record<string, string> = {};
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq > 0) parsed[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: parsed };
  });
}

/**
 * The first acceptable rendering in the client's order of preference. Returns undefined when
 * nothing in `Accept` can be served (a 406).
 */
export function negotiate(accept: string | undefined): Rendering | undefined {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { as: 'object', yaml: false };
  for (const range of ranges) {
    const jsonish = range.type === 'application/json' || range.type === '*/*' || range.type === 'application/*';
    if (range.params.as !== undefined) {
      if (!jsonish || range.params.g !== 'meta.k8s.io') continue;
      const version = range.params.v === 'v1beta1' ? 'v1beta1' : range.params.v === 'v1' ? 'v1' : undefined;
      if (!version) continue;
      if (range.params.as === 'Table') return { as: 'Table', version };
      if (range.params.as === 'PartialObjectMetadata' || range.params.as === 'PartialObjectMetadataList') {
        return { as: 'PartialObjectMetadata', version };
      }
      continue;
    }
    if (jsonish) return { as: 'object', yaml: false };
    if (range.type === 'application/yaml') return { as: 'object', yaml: true };
  }
  return undefined;
}

/** The body format a request declares. */
export type BodyFormat = 'json' | 'yaml' | 'merge-patch' | 'json-patch' | 'strategic-merge-patch' | 'apply-patch' | 'protobuf' | 'unknown';

/** Reads `Content-Type`. A missing header counts as JSON, as upstream does. */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  switch (type) {
    case '':
    case 'application/json':
      return 'json';
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return 'yaml';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/apply-patch+yaml':
      return 'apply-patch';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    default:
      return 'unknown';
  }
}
