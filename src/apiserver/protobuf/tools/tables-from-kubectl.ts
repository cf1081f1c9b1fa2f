/**
 * Regenerates `../messages/*.ts` from a kubectl binary, whose Go type information holds every
 * `k8s.io/api` struct with its fields' Go types and `json`/`protobuf` tags: the facts the tables
 * transcribe. Upstream's `generated.proto` files are derived from the same facts by
 * go-to-protobuf (field numbers from the tags, wire types from the Go types).
 *
 *     node src/apiserver/protobuf/tools/tables-from-kubectl.ts "$(dirname "$(readlink -f "$(command -v kubectl)")")/kubectl.1.33"
 *
 * The roots are the kinds of `../kinds.ts`; every message they reach is written. It reads
 * Go 1.22–1.24 linux/amd64 binaries (stripped ones too: it walks the `.typelink` section);
 * another Go release may move the runtime's type layout, which shows as garbage names.
 * Review the diff of the tables like any other change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageForKind, protobufKinds } from '../kinds.ts';

// ---- Go runtime type information (internal/abi) of an ELF binary ----

interface GoType {
  kind: string;
  /** `pkg/path.Name` for named types. */
  name: string | null;
  elem?: GoType;
  key?: GoType;
  fields?: { name: string; tag: string; embedded: boolean; type: GoType }[];
}

const KINDS = [
  'invalid', 'bool', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr',
  'float32', 'float64', 'complex64', 'complex128', 'array', 'chan', 'func', 'interface', 'map', 'ptr', 'slice', 'string',
  'struct', 'unsafeptr',
];
/** Size of each kind's abi type struct, after which an UncommonType follows (maps: see below). */
const KIND_SIZE: Record<string, number> = { array: 72, chan: 64, func: 56, interface: 80, map: 88, ptr: 56, slice: 56, struct: 80 };
/** Go 1.24's swiss-table MapType is larger. */
const SWISS_MAP_SIZE = 112;

function readGoTypes(path: string): Map<string, GoType> {
  const buf = readFileSync(path);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const base = shoff + i * shentsize;
    return {
      nameOffset: buf.readUInt32LE(base),
      addr: Number(buf.readBigUInt64LE(base + 16)),
      offset: Number(buf.readBigUInt64LE(base + 24)),
      size: Number(buf.readBigUInt64LE(base + 32)),
      name: '',
    };
  });
  const strtab = sections[shstrndx]!;
  for (const s of sections) s.name = buf.toString('latin1', strtab.offset + s.nameOffset, buf.indexOf(0, strtab.offset + s.nameOffset));
  const section = (name: string) => {
    const found = sections.find((s) => s.name === name);
    if (!found) throw new Error(`${path}: no ${name} section (not a Go ELF binary?)`);
    return found;
  };
  const off = (va: number) => {
    for (const s of sections) if (s.addr !== 0 && va >= s.addr && va < s.addr + s.size) return va - s.addr + s.offset;
    throw new Error(`address 0x${va.toString(16)} is in no section`);
  };
  const u64 = (va: number) => Number(buf.readBigUInt64LE(off(va)));
  const i32 = (va: number) => buf.readInt32LE(off(va));
  const rodata = section('.rodata').addr;
  const varint = (p: number): [number, number] => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[p++]!;
      value |= (b & 0x7f) << shift;
      if (b < 0x80) return [value, p];
    }
  };
  // abi.Name: flags byte, varint length, bytes, then (flag 2) a varint-length tag.
  const nameAt = (va: number) => {
    let p = off(va);
    const flags = buf[p++]!;
    const [length, start] = varint(p);
    const name = buf.toString('utf8', start, start + length);
    let tag = '';
    if (flags & 2) {
      const [tagLength, tagStart] = varint(start + length);
      tag = buf.toString('utf8', tagStart, tagStart + tagLength);
    }
    return { name, tag, embedded: (flags & 8) !== 0 };
  };
  const cache = new Map<number, GoType>();
  const named = new Map<string, GoType>();
  const typeAt = (t: number): GoType => {
    const cached = cache.get(t);
    if (cached) return cached;
    const tflag = buf[off(t) + 20]!;
    const kind = KINDS[buf[off(t) + 23]! & 31]!;
    let str = nameAt(rodata + i32(t + 40)).name;
    if (tflag & 2) str = str.slice(1); // tflagExtraStar
    let pkg = '';
    if (tflag & 1) {
      pkg = nameAt(rodata + i32(t + (KIND_SIZE[kind] ?? 48))).name;
      if (kind === 'map' && !/^[\w./-]*$/.test(pkg)) pkg = nameAt(rodata + i32(t + SWISS_MAP_SIZE)).name;
    }
    const type: GoType = { kind, name: tflag & 4 ? `${pkg}.${str.slice(str.lastIndexOf('.') + 1)}` : null };
    cache.set(t, type);
    if (type.name) named.set(type.name, type);
    if (kind === 'ptr' || kind === 'slice' || kind === 'array') type.elem = typeAt(u64(t + 48));
    if (kind === 'map') {
      type.key = typeAt(u64(t + 48));
      type.elem = typeAt(u64(t + 56));
    }
    if (kind === 'struct' && type.name?.startsWith('k8s.io/')) {
      const fields = u64(t + 56);
      type.fields = Array.from({ length: u64(t + 64) }, (_, i) => {
        const name = nameAt(u64(fields + i * 24));
        return { name: name.name, tag: name.tag, embedded: name.embedded, type: typeAt(u64(fields + i * 24 + 8)) };
      });
    }
    return type;
  };
  const typelink = section('.typelink');
  for (let i = 0; i < typelink.size / 4; i++) {
    try {
      typeAt(rodata + i32(typelink.addr + i * 4));
    } catch {
      // A few typelinks point at types this reader does not follow; the API types are reached.
    }
  }
  return named;
}

// ---- Go types → table rows ----

const META = 'k8s.io/apimachinery/pkg/apis/meta/v1';
const WELL_KNOWN: Record<string, string> = {
  [`${META}.Time`]: 'Time',
  [`${META}.MicroTime`]: 'MicroTime',
  [`${META}.FieldsV1`]: 'FieldsV1',
  'k8s.io/apimachinery/pkg/api/resource.Quantity': 'Quantity',
  'k8s.io/apimachinery/pkg/util/intstr.IntOrString': 'IntOrString',
  'k8s.io/apimachinery/pkg/runtime.RawExtension': 'RawExtension',
};
const SCALARS: Record<string, string> = { string: 'string', int32: 'int32', int64: 'int64', int: 'int64', bool: 'bool' };

function goPackage(alias: string): string {
  if (alias === 'metav1') return META;
  const match = /^([a-z]+)(v\d+(?:(?:alpha|beta)\d+)?)$/.exec(alias);
  if (!match) throw new Error(`cannot map table alias ${alias} to a Go package`);
  return `k8s.io/api/${match[1]}/${match[2]}`;
}

function aliasOf(pkg: string): string {
  if (pkg === META) return 'metav1';
  const match = /^k8s\.io\/api\/([a-z]+)\/(v\w+)$/.exec(pkg);
  if (!match) throw new Error(`no table alias for Go package ${pkg}`);
  return match[1]! + match[2]!;
}

function splitName(name: string): [pkg: string, type: string] {
  const dot = name.lastIndexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

function generate(types: Map<string, GoType>): Map<string, Map<string, string[]>> {
  const tables = new Map<string, Map<string, string[]>>();
  const queue = protobufKinds().map(({ apiVersion, kind }) => {
    const [alias, message] = messageForKind(apiVersion, kind)!.split('.') as [string, string];
    return `${goPackage(alias)}.${message}`;
  });
  const ref = (from: string, type: GoType): string => {
    if (type.name && WELL_KNOWN[type.name]) return WELL_KNOWN[type.name]!;
    if (SCALARS[type.kind]) return SCALARS[type.kind]!;
    if (type.kind === 'slice' && type.elem?.kind === 'uint8') return 'bytes';
    // A named []string (authentication's ExtraValue) is a message {repeated string items = 1}.
    if (type.kind === 'slice' && type.name && type.elem?.kind === 'string') return 'StringList';
    if (type.kind !== 'struct' || !type.name) throw new Error(`cannot describe Go type ${type.kind} ${type.name ?? ''}`);
    queue.push(type.name);
    const [pkg, name] = splitName(type.name);
    return pkg === from ? name : `${aliasOf(pkg)}.${name}`;
  };
  while (queue.length > 0) {
    const full = queue.shift()!;
    const [pkg, name] = splitName(full);
    const alias = aliasOf(pkg);
    if (!tables.has(alias)) tables.set(alias, new Map());
    const table = tables.get(alias)!;
    if (table.has(name)) continue;
    const struct = types.get(full);
    if (!struct?.fields) throw new Error(`the binary has no struct ${full}`);
    const row: string[] = [];
    table.set(name, row);
    for (const field of struct.fields) {
      const protobuf = /protobuf:"([^"]*)"/.exec(field.tag)?.[1];
      if (!protobuf || protobuf === '-') continue; // TypeMeta and Go-only fields
      const parts = protobuf.split(',');
      const json = (/json:"([^"]*)"/.exec(field.tag)?.[1] ?? '').split(',');
      const inline = json.includes('inline');
      const protoName = parts.find((p) => p.startsWith('name='))?.slice(5) ?? field.name[0]!.toLowerCase() + field.name.slice(1);
      // Wire types come from the Go type, as go-to-protobuf does: some hand-written tags disagree.
      let type = field.type;
      const pointer = type.kind === 'ptr';
      if (pointer) type = type.elem!;
      let body: string;
      if (type.kind === 'map') body = `{${ref(pkg, type.elem!)}}`;
      else if (type.kind === 'slice' && type.elem!.kind !== 'uint8') body = `[]${ref(pkg, type.elem!)}`;
      else body = ref(pkg, type);
      const scalarOrWellKnown = !body.startsWith('[]') && !body.startsWith('{') && !['Time', 'MicroTime'].includes(body);
      const mark = pointer ? '*' : !json.includes('omitempty') && !inline && scalarOrWellKnown ? '!' : '';
      row.push(`${inline ? `...${protoName}` : json[0]}=${parts[1]}:${mark}${body}`);
    }
  }
  return tables;
}

// ---- table rows → TypeScript ----

function write(tables: Map<string, Map<string, string[]>>, dir: string): void {
  for (const [alias, table] of tables) {
    const pkg = goPackage(alias);
    const [, group, version] = /^([a-z]+)(v\w+)$/.exec(alias)!;
    const ident = `${group}${version![0]!.toUpperCase()}${version!.slice(1)}`;
    const protoPackage = pkg.replace(/^k8s\.io\//, 'k8s.io.').replaceAll('/', '.');
    const lines = [
      '/**',
      ` * The messages of \`${pkg}\` (protobuf package \`${protoPackage}\`) that`,
      ' * Skiff decodes, transcribed from the `json` and `protobuf` struct tags and Go field types of',
      " * upstream's `types.go` (k8s.io/api v0.33). Field syntax: see `../schema.ts`.",
      ' */',
      "import type { MessageTable } from '../schema.ts';",
      '',
      `/** \`${pkg}\`, referenced from other tables as \`${alias}.Name\`. */`,
      `export const ${ident}: MessageTable = {`,
    ];
    for (const name of [...table.keys()].sort()) {
      const fields = table.get(name)!;
      const one = `  ${name}: '${fields.join(' ')}',`;
      if (one.length <= 110) {
        lines.push(one);
        continue;
      }
      const rows: string[] = [];
      let current = '';
      for (const field of fields) {
        if (current && current.length + 1 + field.length > 104) {
          rows.push(current);
          current = field;
        } else current = current ? `${current} ${field}` : field;
      }
      rows.push(current);
      lines.push(`  ${name}: \``, ...rows.map((row) => `    ${row}`), '  `,');
    }
    lines.push('};', '');
    writeFileSync(join(dir, `${group}-${version}.ts`), lines.join('\n'));
  }
}

const binary = process.argv[2];
if (!binary) {
  console.error('usage: tables-from-kubectl.ts <kubectl binary>');
  process.exit(2);
}
write(generate(readGoTypes(binary)), join(import.meta.dirname, '..', 'messages'));
