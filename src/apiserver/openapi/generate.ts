/**
 * Generates the OpenAPI schemas of every Kubernetes type from the `kubernetes-types` package's
 * declaration files, with the TypeScript compiler API: each exported interface becomes an
 * OpenAPI 3 component schema named as upstream names it (`io.k8s.api.apps.v1.Deployment`,
 * `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`), its TSDoc becomes the `description`, its
 * non-optional fields `required`, and a kind (an interface whose `apiVersion` and `kind` are
 * string literals) gets `x-kubernetes-group-version-kind`.
 *
 * Run by `scripts/generate-openapi.ts` at development time, never by the server (which only
 * reads the JSON it wrote): the compiler is a development dependency. The output is
 * deterministic, so a test can regenerate it and compare it with the committed files.
 *
 * Mapping of TypeScript to schemas:
 * - `string`, `boolean`, string literals → `string`, `boolean`;
 * - `number` → `integer` (`int32`, or `int64`/`double` per `formats.ts`);
 * - `number | string` → `$ref` to `io.k8s.apimachinery.pkg.util.intstr.IntOrString`;
 * - `Array<T>`, `T[]` → `array` with `items`; `{ [name: string]: T }` → `object` with
 *   `additionalProperties`;
 * - a named interface or type alias → `$ref` (wrapped in a one-element `allOf` when the field
 *   has its own description, since OpenAPI 3 ignores the siblings of `$ref`);
 * - aliases: `Quantity` → one of string or number, `Time`/`MicroTime` → `date-time` string,
 *   other unions (`JSONSchemaPropsOrBool`, …) → any value.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { BYTE_FIELDS, DOUBLE_FIELDS, INT64_FIELDS, UNTYPED_INTERFACES } from './formats.ts';
import { COMPONENT_REF_PREFIX, INT_OR_STRING, type Schema } from './schema.ts';

/** Options of {@link generateSchemas}. */
export interface GenerateOptions {
  /** The `kubernetes-types` package directory; default: the installed one. */
  typesDir?: string;
}

/**
 * Generates every schema. Returns output file name → file text: `apimachinery.json` for the
 * shared apimachinery types (meta/v1, runtime, resource, version, intstr) and one file per API
 * group-version module (`apps.v1.json`, `core.v1.json`, …). Each file is a JSON object from schema
 * name to schema, one schema per line, sorted by name.
 */
export function generateSchemas(options: GenerateOptions = {}): Map<string, string> {
  const typesDir = options.typesDir ?? dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
  const files = declarationFiles(typesDir).sort();
  const program = ts.createProgram(files, { noEmit: true, skipLibCheck: true, types: [], strict: true });
  const checker = program.getTypeChecker();
  const generator = new Generator(typesDir, checker);
  const byFile = new Map<string, Map<string, Schema>>();
  const add = (file: string, name: string, schema: Schema) => {
    let schemas = byFile.get(file);
    if (!schemas) byFile.set(file, (schemas = new Map()));
    schemas.set(name, schema);
  };
  for (const path of files) {
    const source = program.getSourceFile(path);
    if (!source) throw new Error(`cannot read ${path}`);
    const module = moduleOf(typesDir, path);
    for (const statement of source.statements) {
      if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
        add(outputFile(module), `${prefixOf(module)}.${statement.name.text}`, generator.declaration(statement, module));
      }
    }
  }
  add('apimachinery.json', INT_OR_STRING, {
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  });
  generator.checkFacts();
  const out = new Map<string, string>();
  for (const file of [...byFile.keys()].sort()) {
    const schemas = byFile.get(file)!;
    const lines = [...schemas.keys()].sort().map((name) => `${JSON.stringify(name)}:${JSON.stringify(schemas.get(name))}`);
    out.set(file, `{\n${lines.join(',\n')}\n}\n`);
  }
  return out;
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : declarationFiles(path);
    return entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `apps/v1`, `meta/v1`, `runtime`, `api/resource`: a declaration file's path in the package. */
function moduleOf(typesDir: string, path: string): string {
  return relative(typesDir, path).replace(/\.d\.ts$/, '');
}

/** Upstream's schema name prefix for the Go package behind a module. */
function prefixOf(module: string): string {
  switch (module) {
    case 'meta/v1':
      return 'io.k8s.apimachinery.pkg.apis.meta.v1';
    case 'runtime':
      return 'io.k8s.apimachinery.pkg.runtime';
    case 'api/resource':
      return 'io.k8s.apimachinery.pkg.api.resource';
    case 'version':
      return 'io.k8s.apimachinery.pkg.version';
    case 'apiextensions/v1':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
    default:
      return `io.k8s.api.${module.replaceAll('/', '.')}`;
  }
}

function outputFile(module: string): string {
  return ['meta/v1', 'runtime', 'api/resource', 'version'].includes(module) ? 'apimachinery.json' : `${module.replaceAll('/', '.')}.json`;
}

/**
 * Modules whose types with literal `apiVersion` and `kind` are not kinds of an API group:
 * meta/v1's discovery documents (`APIGroup`, …) say `apiVersion: v1` but are not core kinds.
 */
const KIND_MODULES_EXCLUDED = new Set(['meta/v1']);

class Generator {
  readonly #typesDir: string;
  readonly #checker: ts.TypeChecker;
  readonly #int64 = new Set(INT64_FIELDS);
  readonly #double = new Set(DOUBLE_FIELDS);
  readonly #byte = new Set(BYTE_FIELDS);
  readonly #untyped = new Set(UNTYPED_INTERFACES);
  /** Table entries that matched a field, to catch entries that match nothing. */
  readonly #used = new Set<string>();

  constructor(typesDir: string, checker: ts.TypeChecker) {
    this.#typesDir = typesDir;
    this.#checker = checker;
  }

  declaration(node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration, module: string): Schema {
    const description = this.#doc(node.name);
    if (ts.isTypeAliasDeclaration(node)) return { ...(description ? { description } : {}), ...this.#alias(node) };
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    let apiVersion: string | undefined;
    let kind: string | undefined;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !member.type) {
        throw new Error(`${module}: ${node.name.text}: unexpected member ${member.getText()}`);
      }
      const name = propertyName(member.name);
      const literal = stringLiteral(member.type);
      if (name === 'apiVersion' && literal !== undefined) apiVersion = literal;
      if (name === 'kind' && literal !== undefined) kind = literal;
      properties[name] = this.#property(member, `${node.name.text}.${name}`);
      if (!member.questionToken) required.push(name);
    }
    if (node.members.length === 0) {
      return { ...(description ? { description } : {}), ...(this.#untyped.has(node.name.text) ? {} : { type: 'object' }) };
    }
    const schema: Schema = { ...(description ? { description } : {}), type: 'object', properties };
    if (required.length > 0) schema.required = required;
    if (apiVersion !== undefined && kind !== undefined && !KIND_MODULES_EXCLUDED.has(module)) {
      const slash = apiVersion.lastIndexOf('/');
      schema['x-kubernetes-group-version-kind'] = [
        { group: slash < 0 ? '' : apiVersion.slice(0, slash), kind, version: apiVersion.slice(slash + 1) },
      ];
    }
    return schema;
  }

  /** Every table entry must have matched a field: a typo or a renamed field fails generation. */
  checkFacts(): void {
    const unused = [...this.#int64, ...this.#double, ...this.#byte].filter((entry) => !this.#used.has(entry));
    if (unused.length > 0) throw new Error(`formats.ts names fields that kubernetes-types does not have: ${unused.join(', ')}`);
  }

  #alias(node: ts.TypeAliasDeclaration): Schema {
    switch (node.name.text) {
      case 'Quantity':
        // Upstream's OpenAPI 3 form: a Quantity is written as a string or a number.
        return { oneOf: [{ type: 'string' }, { type: 'number' }] };
      case 'Time':
      case 'MicroTime':
        return { type: 'string', format: 'date-time' };
    }
    // The other aliases are unions (`JSONSchemaProps | boolean`): any value.
    if (ts.isUnionTypeNode(node.type)) return {};
    return this.#type(node.type, node.name.text);
  }

  #property(member: ts.PropertySignature, field: string): Schema {
    const description = this.#doc(member.name);
    const schema = this.#type(member.type!, field);
    if (typeof schema.$ref === 'string' && description) return { allOf: [schema], description };
    return description ? { ...schema, description } : schema;
  }

  #type(node: ts.TypeNode, field: string): Schema {
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        if (!this.#byte.has(field)) return { type: 'string' };
        this.#used.add(field);
        return { type: 'string', format: 'byte' };
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' };
      case ts.SyntaxKind.NumberKeyword:
        return this.#number(field);
      case ts.SyntaxKind.LiteralType:
        if (stringLiteral(node) !== undefined) return { type: 'string' };
        break;
      case ts.SyntaxKind.ArrayType:
        return { type: 'array', items: this.#type((node as ts.ArrayTypeNode).elementType, field) };
      case ts.SyntaxKind.UnionType: {
        const kinds = (node as ts.UnionTypeNode).types.map((t) => t.kind).sort();
        if (kinds.length === 2 && kinds[0] === ts.SyntaxKind.NumberKeyword && kinds[1] === ts.SyntaxKind.StringKeyword) {
          return { $ref: COMPONENT_REF_PREFIX + INT_OR_STRING };
        }
        break;
      }
      case ts.SyntaxKind.TypeLiteral: {
        const members = (node as ts.TypeLiteralNode).members;
        const index = members[0];
        if (members.length === 1 && index && ts.isIndexSignatureDeclaration(index)) {
          return { type: 'object', additionalProperties: this.#type(index.type, field) };
        }
        break;
      }
      case ts.SyntaxKind.TypeReference: {
        const ref = node as ts.TypeReferenceNode;
        const [argument] = ref.typeArguments ?? [];
        if (ts.isIdentifier(ref.typeName) && ref.typeName.text === 'Array' && argument) {
          return { type: 'array', items: this.#type(argument, field) };
        }
        return { $ref: COMPONENT_REF_PREFIX + this.#referencedName(ref) };
      }
    }
    throw new Error(`${field}: unsupported type ${node.getText()}`);
  }

  #number(field: string): Schema {
    if (this.#double.has(field)) {
      this.#used.add(field);
      return { type: 'number', format: 'double' };
    }
    if (this.#int64.has(field)) {
      this.#used.add(field);
      return { type: 'integer', format: 'int64' };
    }
    return { type: 'integer', format: 'int32' };
  }

  /** The upstream name of the interface or alias a type reference points at. */
  #referencedName(node: ts.TypeReferenceNode): string {
    let symbol = this.#checker.getSymbolAtLocation(node.typeName);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.#checker.getAliasedSymbol(symbol);
    const declaration = symbol?.declarations?.[0];
    if (!symbol || !declaration) throw new Error(`cannot resolve type ${node.getText()}`);
    const module = moduleOf(this.#typesDir, declaration.getSourceFile().fileName);
    return `${prefixOf(module)}.${symbol.name}`;
  }

  #doc(name: ts.Node): string {
    const symbol = this.#checker.getSymbolAtLocation(name);
    return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(this.#checker)).trim() : '';
  }
}

function propertyName(name: ts.PropertyName): string {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  throw new Error(`unsupported property name ${name.getText()}`);
}

function stringLiteral(node: ts.TypeNode): string | undefined {
  return ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal) ? node.literal.text : undefined;
}
