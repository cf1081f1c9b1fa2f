/**
 * Decoding rules, on bodies built field by field: presence (pointer, omitempty, always), the
 * well-known types, inline structs, maps, unknown fields, and the errors a bad body gets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtobufBody, ProtobufError, type ProtobufErrorCode } from './index.ts';

// A minimal protobuf writer: each helper returns the bytes of one field.
type Bytes = number[];
function varint(value: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
/** A varint field (int32, int64, bool). */
const int = (field: number, value: number | bigint | boolean) => [...key(field, 0), ...varint(typeof value === 'boolean' ? Number(value) : value)];
/** A length-delimited field holding raw bytes. */
const raw = (field: number, bytes: Bytes | Uint8Array) => [...key(field, 2), ...varint(bytes.length), ...bytes];
const str = (field: number, text: string) => raw(field, [...Buffer.from(text)]);
/** An embedded message field. */
const msg = (field: number, ...parts: Bytes[]) => raw(field, parts.flat());
/** A map entry field. */
const entry = (field: number, k: string, value: Bytes) => msg(field, str(1, k), value);
/** A whole body: magic, then runtime.Unknown {typeMeta, raw}. */
const body = (apiVersion: string, kind: string, ...parts: Bytes[]) =>
  Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, apiVersion), str(2, kind)), ...msg(2, ...parts)]);

const decode = (bytes: Uint8Array) => decodeProtobufBody(bytes).object;

function assertProtobufError(fn: () => unknown, code: ProtobufErrorCode, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtobufError, `expected a ProtobufError, got ${String(error)}`);
    assert.equal(error.name, 'ProtobufError');
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('decodeProtobufBody', () => {
  it('returns the envelope apiVersion and kind, first in the object', () => {
    const decoded = decodeProtobufBody(body('v1', 'Namespace', msg(1, str(1, 'n'))));
    assert.equal(decoded.apiVersion, 'v1');
    assert.equal(decoded.kind, 'Namespace');
    assert.deepEqual(Object.keys(decoded.object), ['apiVersion', 'kind', 'metadata']);
    assert.deepEqual(decoded.object, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
  });

  it('keeps pointer fields that are present, even when zero', () => {
    const deployment = decode(
      body('apps/v1', 'Deployment', msg(1, str(1, 'd')), msg(2, int(1, 0), int(6, 0), msg(4, str(1, 'Recreate')))),
    );
    assert.deepEqual(deployment.spec, { replicas: 0, revisionHistoryLimit: 0, strategy: { type: 'Recreate' } });
  });

  it('leaves out zero scalars of non-pointer omitempty fields, and keeps empty messages as Go JSON does', () => {
    // Upstream writes every non-pointer field; the zero metav1.Time is an empty message.
    const deployment = decode(
      body('apps/v1', 'Deployment', msg(1, str(1, 'd'), str(2, ''), int(7, 0), msg(8)), msg(2, int(5, 0), int(7, false), msg(4)), msg(3)),
    );
    assert.deepEqual(deployment, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { strategy: {} }, status: {} });
  });

  it('keeps zero values of fields without omitempty', () => {
    const pod = decode(
      body('v1', 'Pod', msg(2, msg(2, str(1, 'c'), msg(6, int(2, 0), int(3, 0)), msg(10, msg(1, msg(2, str(1, ''), msg(2, int(1, 0), int(2, 0), str(3, '')))))))),
    );
    assert.deepEqual(pod.spec, {
      containers: [{ name: 'c', ports: [{ containerPort: 0 }], livenessProbe: { httpGet: { port: 0 } } }],
    });
    const priorityClass = decode(body('scheduling.k8s.io/v1', 'PriorityClass', msg(1, str(1, 'p')), int(2, 0), int(3, false)));
    assert.deepEqual(priorityClass, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' }, value: 0 });
  });

  it('decodes negative and large integers', () => {
    const pod = decode(
      body(
        'v1',
        'Pod',
        msg(2, msg(14, int(2, -1), int(5, 2n ** 40n))),
        msg(3, msg(10, str(1, 'c'), msg(3, msg(3, int(1, -2))))),
      ),
    );
    assert.deepEqual(pod.spec, { securityContext: { runAsUser: -1, fsGroup: 2 ** 40 } });
    assert.deepEqual(pod.status, { initContainerStatuses: [{ name: 'c', lastState: { terminated: { exitCode: -2 } } }] });
  });

  it('accepts packed and unpacked repeated integers', () => {
    const packed = decode(body('v1', 'Pod', msg(2, msg(14, raw(4, [...varint(1), ...varint(2), ...varint(-3)])))));
    const unpacked = decode(body('v1', 'Pod', msg(2, msg(14, int(4, 1), int(4, 2), int(4, -3)))));
    assert.deepEqual(packed.spec, { securityContext: { supplementalGroups: [1, 2, -3] } });
    assert.deepEqual(unpacked.spec, packed.spec);
  });

  it('prints Time as RFC 3339 seconds and MicroTime with microseconds', () => {
    const lease = decode(
      body(
        'coordination.k8s.io/v1',
        'Lease',
        msg(1, str(1, 'l'), msg(8, int(1, 1704067200), int(2, 999_999_999)), msg(9)),
        msg(2, msg(3, int(1, 1704067200), int(2, 123_456_789)), msg(4, int(1, 0))),
      ),
    );
    assert.deepEqual(lease.metadata, { name: 'l', creationTimestamp: '2024-01-01T00:00:00Z' });
    assert.deepEqual(lease.spec, { acquireTime: '2024-01-01T00:00:00.123456Z', renewTime: '1970-01-01T00:00:00.000000Z' });
    assertProtobufError(() => decode(body('v1', 'Namespace', msg(1, msg(8, int(1, 2n ** 50n))))), 'MALFORMED', /outside the years/);
  });

  it('decodes IntOrString, Quantity and bytes', () => {
    const service = decode(
      body('v1', 'Service', msg(2, msg(1, int(3, 80), msg(4, int(1, 1), str(3, 'http'))), msg(1, int(3, 81), msg(4, int(1, 0), int(2, 0))))),
    );
    // IntOrString is a struct in Go, so omitempty keeps a zero targetPort (defaulting treats it as unset).
    assert.deepEqual(service.spec, { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 0 }] });
    assertProtobufError(() => decode(body('v1', 'Service', msg(2, msg(1, msg(4, int(1, 2)))))), 'MALFORMED', /at spec\.ports\[0\]\.targetPort: IntOrString has unknown type 2/);

    const quota = decode(body('v1', 'ResourceQuota', msg(2, entry(1, 'pods', msg(2, str(1, '10'))), entry(1, 'requests.cpu', msg(2, str(1, '500m'))))));
    assert.deepEqual(quota.spec, { hard: { pods: '10', 'requests.cpu': '500m' } });

    const secret = decode(body('v1', 'Secret', entry(2, 'k', raw(2, [0x76, 0x00, 0xff])), entry(2, 'empty', []), str(3, 'Opaque')));
    assert.deepEqual(secret, { apiVersion: 'v1', kind: 'Secret', data: { k: 'dgD/', empty: '' }, type: 'Opaque' });
  });

  it('merges inline structs into their parent and keeps present empty pointer messages', () => {
    const pod = decode(body('v1', 'Pod', msg(2, msg(1, str(1, 'scratch'), msg(2, msg(2))), msg(1, str(1, 'cfg'), msg(2, msg(19, msg(1, str(1, 'settings'))))))));
    assert.deepEqual(pod.spec, { volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'settings' } }] });
  });

  it('decodes RawExtension as JSON or as an embedded protobuf object, and FieldsV1 as JSON', () => {
    const embedded = [...body('v1', 'ConfigMap', msg(1, str(1, 'inner')), entry(2, 'a', str(2, 'b')))];
    const revisions = [
      decode(body('apps/v1', 'ControllerRevision', msg(1, str(1, 'r')), msg(2, raw(1, [...Buffer.from('{"spec":{"x":1}}')])), int(3, 2))),
      decode(body('apps/v1', 'ControllerRevision', msg(1, str(1, 'r')), msg(2, raw(1, embedded)), int(3, 2))),
    ];
    assert.deepEqual(revisions[0]!.data, { spec: { x: 1 } });
    assert.deepEqual(revisions[1]!.data, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inner' }, data: { a: 'b' } });
    assertProtobufError(() => decode(body('apps/v1', 'ControllerRevision', msg(2, raw(1, [0x7b])))), 'MALFORMED', /RawExtension is not valid JSON/);

    const configMap = decode(body('v1', 'ConfigMap', msg(1, msg(17, str(1, 'kubectl'), str(6, 'FieldsV1'), msg(7, raw(1, [...Buffer.from('{"f:data":{}}')]))))));
    assert.deepEqual(configMap.metadata, { managedFields: [{ manager: 'kubectl', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }] });
  });

  it('fills a map entry without a value with the zero value', () => {
    const configMap = decode(body('v1', 'ConfigMap', msg(2, str(1, 'a')), msg(3, str(1, 'b'))));
    assert.deepEqual(configMap, { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '' }, binaryData: { b: '' } });
  });

  it('makes every map key an own member, __proto__ included, as JSON.parse does', () => {
    const configMap = decode(body('v1', 'ConfigMap', entry(2, '__proto__', str(2, 'x')), entry(2, 'b', str(2, 'y'))));
    assert.deepStrictEqual(configMap.data, JSON.parse('{"__proto__":"x","b":"y"}'));
    assert.equal(Object.getPrototypeOf(configMap.data), Object.prototype);
  });

  it('skips unknown fields of every wire type', () => {
    const unknown = [
      ...int(90, 7),
      ...key(91, 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...str(92, 'x'),
      ...key(93, 5), 1, 2, 3, 4,
      ...key(94, 3), ...int(1, 1), ...key(94, 4),
    ];
    const namespace = decode(body('v1', 'Namespace', msg(1, str(1, 'n'), unknown), unknown));
    assert.deepEqual(namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
  });

  it('decodes DeleteOptions under any served group version', () => {
    for (const apiVersion of ['v1', 'apps/v1', 'meta.k8s.io/v1']) {
      const options = decode(body(apiVersion, 'DeleteOptions', int(1, 0), str(4, 'Foreground'), str(5, 'All'), msg(2, str(1, 'uid-1'))));
      assert.deepEqual(options, {
        apiVersion,
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        propagationPolicy: 'Foreground',
        dryRun: ['All'],
        preconditions: { uid: 'uid-1' },
      });
    }
    assert.deepEqual(decode(body('v1', 'DeleteOptions')), { apiVersion: 'v1', kind: 'DeleteOptions' });
  });

  it('decodes autoscaling/v1 Scale', () => {
    const scale = decode(body('autoscaling/v1', 'Scale', msg(1, str(1, 'web'), str(3, 'default')), msg(2, int(1, 0)), msg(3, int(1, 2), str(2, 'app=web'))));
    assert.deepEqual(scale, {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'default' },
      // ScaleSpec.replicas is a non-pointer omitempty int32: a JSON client leaves out 0 too.
      spec: {},
      status: { replicas: 2, selector: 'app=web' },
    });
  });

  it('rejects a body without the magic', () => {
    assertProtobufError(() => decodeProtobufBody(new Uint8Array(0)), 'BAD_MAGIC');
    assertProtobufError(() => decodeProtobufBody(Buffer.from('{"kind":"Pod"}')), 'BAD_MAGIC', /k8s\\x00/);
  });

  it('rejects a kind without a message table with UNSUPPORTED_KIND', () => {
    assertProtobufError(() => decodeProtobufBody(body('apps/v1', 'Widget')), 'UNSUPPORTED_KIND', /^no protobuf decoding for apps\/v1 Widget$/);
    assertProtobufError(() => decodeProtobufBody(body('example.com/v1', 'Deployment')), 'UNSUPPORTED_KIND');
    assertProtobufError(() => decodeProtobufBody(body('v1', '')), 'MALFORMED', /no kind/);
  });

  it('rejects wrong wire types, bad UTF-8 and field number 0 with the path of the field', () => {
    assertProtobufError(() => decode(body('apps/v1', 'Deployment', msg(2, str(1, 'three')))), 'MALFORMED', /apps\/v1 Deployment at spec: field replicas \(1\) of appsv1\.DeploymentSpec has wire type 2, expected 0/);
    assertProtobufError(() => decode(body('v1', 'Namespace', msg(1, raw(1, [0xc3, 0x28])))), 'MALFORMED', /at metadata\.name: string field is not valid UTF-8/);
    assertProtobufError(() => decode(body('v1', 'Namespace', [0x00, 0x00])), 'MALFORMED', /field number 0/);
    assertProtobufError(() => decode(body('v1', 'Namespace', [...key(1, 7)])), 'MALFORMED', /wire type 7/);
    // The inline VolumeSource adds no segment: the path is the JSON path.
    assertProtobufError(
      () => decode(body('v1', 'Pod', msg(2, msg(1, str(1, 'v'), msg(2, msg(2, int(1, 1))))))),
      'MALFORMED',
      /at spec\.volumes\[0\]\.emptyDir: field medium \(1\) of corev1\.EmptyDirVolumeSource has wire type 0, expected 2/,
    );
  });

  it('answers every truncation of a real body with a ProtobufError, never another exception', () => {
    const full = body('apps/v1', 'Deployment', msg(1, str(1, 'd'), entry(11, 'app', str(2, 'd'))), msg(2, int(1, 3), msg(3, msg(2, msg(2, str(1, 'c'), int(99, -1))))));
    decodeProtobufBody(full);
    let failures = 0;
    for (let length = 0; length < full.length; length++) {
      try {
        decodeProtobufBody(full.subarray(0, length));
      } catch (error) {
        assert.ok(error instanceof ProtobufError, `prefix of ${length} bytes: ${String(error)}`);
        failures++;
      }
    }
    assert.ok(failures > full.length / 2);
  });

  it('answers corrupted bytes with a ProtobufError or an object, never another exception', () => {
    const full = body('apps/v1', 'Deployment', msg(1, str(1, 'd'), msg(8, int(1, 1))), msg(2, int(1, 3), msg(3, msg(2, msg(2, str(1, 'c'), msg(6, int(3, 80)))))));
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 2000; round++) {
      const bytes = Uint8Array.from(full);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        bytes[4 + Math.floor(random() * (bytes.length - 4))] = Math.floor(random() * 256);
      }
      try {
        decodeProtobufBody(bytes);
      } catch (error) {
        assert.ok(error instanceof ProtobufError, `round ${round}: ${String(error)}`);
      }
    }
  });
});
