/**
 * Request body decoding: JSON or YAML into a plain object, with the limits that keep a bad
 * body from hurting the server (nesting depth; size is capped by the transport).
 */
import { badRequest, StatusError, unsupportedMediaType } from './errors.ts';
import { bodyFormat, type BodyFormat } from './negotiate.ts';
import type * as Protobuf from './protobuf/index.ts';
import { yaml } from '../client/index.ts';

/** The protobuf decoder, loaded by the first protobuf request (its message tables are large). */
let protobuf: typeof Protobuf | undefined;

/**
 * Readies body decoding for a request: loads the protobuf decoder the first time a protobuf
 * body arrives, so that servers whose clients speak JSON never hold its tables in memory.
 */
export async function prepareBody(contentType: string | undefined): Promise<void> {
  if (!protobuf && bodyFormat(contentType) === 'protobuf') protobuf = await import('./protobuf/index.ts');
}
import { depthExceeds, MAX_DEPTH } from './object-meta.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The body as text; 400 when it is not UTF-8. */
export function text(body: Uint8Array | string | undefined): string {
  if (!body || body.length === 0) throw badRequest('the request body is empty');
  if (typeof body === 'string') return body;
  try {
    return decoder.decode(body);
  } catch {
    throw badRequest('the request body is not valid UTF-8');
  }
}

/** Parses JSON or YAML text into a value; `what` names the body in messages. */
export function parseDocument(body: Uint8Array | string | undefined, format: BodyFormat, what = 'object'): unknown {
  const source = text(body);
  let value: unknown;
  if (format === 'yaml' || format === 'apply-patch') {
    try {
      // Aliases are bounded so that a "billion laughs" document cannot blow up memory.
      value = yaml().parse(source, { maxAliasCount: 100, uniqueKeys: false });
    } catch (error) {
      throw badRequest(`error decoding YAML ${what}: ${(error as Error).message.split('\n')[0]}`);
    }
  } else {
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
    }
  }
  // Each level of nesting takes at least two characters, so short bodies need no walk.
  if (source.length > 2 * MAX_DEPTH && depthExceeds(value, MAX_DEPTH)) {
    throw badRequest(`the ${what} is nested too deeply (more than ${MAX_DEPTH} levels)`);
  }
  return value;
}

/** Decodes a create/update body into an object. */
export function decodeObject(body: Uint8Array | string | undefined, contentType: string | undefined): Record<string, unknown> {
  const format = bodyFormat(contentType);
  if (format === 'protobuf') return decodeProtobuf(body);
  if (format !== 'json' && format !== 'yaml') throw unsupportedMediaType(contentType ?? '');
  const value = parseDocument(body, format);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`Object 'Kind' is missing in '${truncate(text(body))}'`);
  }
  return value as Record<string, unknown>;
}

/** A protobuf body, as the object its JSON form would be. */
function decodeProtobuf(body: Uint8Array | string | undefined): Record<string, unknown> {
  if (!body || body.length === 0) throw badRequest('the request body is empty');
  try {
    if (!protobuf) throw new Error('prepareBody() was not awaited before a protobuf body was decoded');
    const { object } = protobuf.decodeProtobufBody(typeof body === 'string' ? Buffer.from(body) : body);
    // Messages bound the nesting, but JSON carried inside a RawExtension is not bounded.
    if (depthExceeds(object, MAX_DEPTH)) throw badRequest(`the object is nested too deeply (more than ${MAX_DEPTH} levels)`);
    return object;
  } catch (error) {
    if (!(error instanceof protobuf!.ProtobufError)) throw error;
    // A kind without protobuf support may be sent again as JSON; broken bytes may not.
    if (error.code === 'UNSUPPORTED_KIND') throw new StatusError(415, 'UnsupportedMediaType', error.message);
    throw badRequest(`error decoding protobuf body: ${error.message}`);
  }
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
