/**
 * The Kubernetes protobuf envelope: the magic `k8s\0`, then a `runtime.Unknown` message
 * {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4} whose
 * `raw` is the object's own message.
 */
import { MessageDecoder } from './decode.ts';
import { ProtobufError } from './errors.ts';
import { messageForKind } from './kinds.ts';
import { messageTables } from './messages/index.ts';
import { MessageRegistry } from './schema.ts';
import { WIRE_BYTES, WireReader } from './wire.ts';

/** The four bytes every Kubernetes protobuf body starts with: `k8s` and a NUL. */
export const PROTOBUF_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** A `RawExtension` may embed another protobuf object; this bounds how deep that may go. */
const MAX_NESTED_OBJECTS = 8;

const registry = new MessageRegistry(messageTables);

/** What {@link decodeProtobufBody} returns. */
export interface DecodedProtobufBody {
  apiVersion: string;
  kind: string;
  /** The object as its JSON body would have been, `apiVersion` and `kind` included. */
  object: Record<string, unknown>;
}

/**
 * Decodes an `application/vnd.kubernetes.protobuf` request body into the object a client would
 * have sent as JSON: JSON field names; non-pointer zero values left out where upstream's JSON
 * tag says `omitempty`, pointer fields kept whenever present (`replicas: 0`); times as RFC 3339
 * strings, quantities as strings, `IntOrString` as a number or a string, `[]byte` as base64,
 * `RawExtension` as its JSON. Unknown field numbers are skipped, as upstream does.
 *
 * Throws {@link ProtobufError}: `BAD_MAGIC`, `TRUNCATED` or `MALFORMED` for bytes that are not a
 * valid object (the server answers 400), `UNSUPPORTED_KIND` for an apiVersion and kind without
 * a message table (415). The result is not checked for nesting depth; the caller applies the
 * same limits as to a JSON body.
 */
export function decodeProtobufBody(bytes: Uint8Array): DecodedProtobufBody {
  return decodeEnvelope(bytes, 0);
}

function decodeEnvelope(bytes: Uint8Array, depth: number): DecodedProtobufBody {
  if (bytes.length < PROTOBUF_MAGIC.length || !PROTOBUF_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new ProtobufError('BAD_MAGIC', 'the body is not a Kubernetes protobuf object: it does not start with "k8s\\x00"');
  }
  const envelope = readUnknown(bytes.subarray(PROTOBUF_MAGIC.length));
  const { apiVersion, kind } = envelope;
  if (envelope.contentEncoding !== '') {
    throw new ProtobufError('MALFORMED', `unsupported contentEncoding "${envelope.contentEncoding}" in the protobuf envelope`);
  }
  if (kind === '') throw new ProtobufError('MALFORMED', 'the protobuf envelope has no kind');
  const message = messageForKind(apiVersion, kind);
  if (!message) throw new ProtobufError('UNSUPPORTED_KIND', `no protobuf decoding for ${apiVersion || '(no apiVersion)'} ${kind}`);

  const decoder = new MessageDecoder(registry, {
    nested: (raw) => {
      if (depth + 1 >= MAX_NESTED_OBJECTS) throw new ProtobufError('MALFORMED', 'embedded protobuf objects are nested too deeply');
      return decodeEnvelope(raw, depth + 1).object;
    },
  });
  let fields: Record<string, unknown>;
  try {
    fields = decoder.decode(envelope.raw, message);
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    const where = decoder.path ? ` at ${decoder.path}` : '';
    throw new ProtobufError(error.code, `invalid protobuf ${apiVersion} ${kind}${where}: ${error.message}`, { cause: error });
  }
  // A JSON body names apiVersion and kind first; keep that order for anyone who prints it.
  return { apiVersion, kind, object: { apiVersion, kind, ...fields } };
}

interface Unknown {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
}

function readUnknown(bytes: Uint8Array): Unknown {
  const unknown: Unknown = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '' };
  try {
    const reader = new WireReader(bytes);
    while (!reader.done) {
      const key = reader.key();
      if (key === ((1 << 3) | WIRE_BYTES)) readTypeMeta(reader.bytes(), unknown);
      else if (key === ((2 << 3) | WIRE_BYTES)) unknown.raw = reader.bytes();
      else if (key === ((3 << 3) | WIRE_BYTES)) unknown.contentEncoding = reader.string();
      else reader.skip(key);
    }
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    throw new ProtobufError(error.code, `invalid protobuf envelope: ${error.message}`, { cause: error });
  }
  return unknown;
}

function readTypeMeta(bytes: Uint8Array, into: Unknown): void {
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const key = reader.key();
    if (key === ((1 << 3) | WIRE_BYTES)) into.apiVersion = reader.string();
    else if (key === ((2 << 3) | WIRE_BYTES)) into.kind = reader.string();
    else reader.skip(key);
  }
}
