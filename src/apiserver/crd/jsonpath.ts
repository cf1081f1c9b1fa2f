/**
 * kubectl's JSONPath (client-go `util/jsonpath`) for CRD printer columns and selectable fields:
 * `.a.b`, `.a[0]`, `.a[-1]`, `.a[1:3]`, `.a[*].b`, `.a['b']`, `.a[0,2]`, `..b`, `.*`,
 * `.a[?(@.type=="Ready")].status`, `[?(@.x)]` (exists), with `<`, `>`, `<=`, `>=`, `!=` too.
 * Missing keys give no result rather than an error, as the CRD table convertor asks
 * (`AllowMissingKeys(true)`).
 *
 * Upstream quirks kept on purpose: `['a.b']` is parsed as `.a.b` (two fields), so a key with a
 * dot is written `['a\.b']` or `.a\.b`; comparing a missing field in a filter is an error
 * ("can only compare one element at a time"), which empties the whole column cell.
 */
import { humanDuration } from '../kinds/age.ts';
import { goPrint, goType } from './go-format.ts';

/** A parsed JSONPath step. */
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'slice'; start: number | undefined; end: number | undefined; step: number | undefined; single: boolean }
  | { kind: 'union'; branches: Step[][] }
  | { kind: 'filter'; left: Step[]; right: Step[]; operator: string }
  | { kind: 'text'; text: string }
  | { kind: 'number'; value: number; integer: boolean }
  | { kind: 'bool'; value: boolean }
  | { kind: 'identifier'; name: string };

/** A JSONPath that does not parse or cannot be evaluated on a value. */
class JsonPathError extends Error {
  override readonly name = 'JsonPathError';
}

const TERMINATORS = new Set([' ', '\t', '\r', '\n', '.', ',', '[', ']', '$', '@', '{', '}']);
const DICT_KEY = /^'([^']*)'$/;
const SLICE = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/;
const FILTER = /^([^!<>=]+)([!<>=]+)(.+?)$/;

function isAlphaNumeric(c: string): boolean {
  return c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);
}

/** Go's `%#U` of a character, as upstream's parse errors print it: `U+0021 '!'`. */
function unicodeName(c: string): string {
  const code = c.codePointAt(0)!;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

/** Parses the inside of one `{…}` action into steps. */
class Parser {
  #input: string;
  #pos = 0;

  constructor(input: string) {
    this.#input = input;
  }

  parse(): Step[] {
    const steps: Step[] = [];
    while (this.#pos < this.#input.length) {
      const rest = this.#input.slice(this.#pos);
      if (rest.startsWith('[?(')) {
        steps.push(this.#filter());
        continue;
      }
      if (rest.startsWith('..')) {
        if (steps.at(-1)?.kind === 'recursive') throw new JsonPathError('invalid multiple recursive descent');
        this.#pos += 2;
        steps.push({ kind: 'recursive' });
        if (this.#pos < this.#input.length && isAlphaNumeric(this.#input[this.#pos]!)) steps.push(this.#field());
        continue;
      }
      const c = this.#input[this.#pos]!;
      if (c === ' ' || c === '@' || c === '$') {
        this.#pos++;
      } else if (c === '[') {
        steps.push(...this.#array());
      } else if (c === '"' || c === "'") {
        steps.push(this.#quote(c));
      } else if (c === '.') {
        this.#pos++;
        steps.push(this.#field());
      } else if (c === '+' || c === '-' || /\d/.test(c)) {
        steps.push(this.#number());
      } else if (isAlphaNumeric(c)) {
        steps.push(this.#identifier());
      } else if (c === '\r' || c === '\n') {
        throw new JsonPathError('unclosed action');
      } else {
        throw new JsonPathError(`unrecognized character in action: ${unicodeName(c)}`);
      }
    }
    return steps;
  }

  /** A field name up to the next unescaped terminator; `\` escapes (e.g. `\.`) are dropped. */
  #field(): Step {
    let raw = '';
    while (this.#pos < this.#input.length) {
      const c = this.#input[this.#pos]!;
      if (c === '\\') {
        raw += c + (this.#input[this.#pos + 1] ?? '');
        this.#pos += 2;
        continue;
      }
      if (TERMINATORS.has(c)) break;
      raw += c;
      this.#pos++;
    }
    if (raw === '*') return { kind: 'wildcard' };
    return { kind: 'field', name: raw.replaceAll('\\', '') };
  }

  #array(): Step[] {
    const close = this.#input.indexOf(']', this.#pos);
    const newline = this.#input.indexOf('\n', this.#pos);
    if (close < 0 || (newline >= 0 && newline < close)) throw new JsonPathError('unterminated array');
    let text = this.#input.slice(this.#pos + 1, close);
    this.#pos = close + 1;
    if (text === '*') text = ':';

    const parts = text.split(',');
    if (parts.length > 1) {
      return [{ kind: 'union', branches: parts.map((part) => new Parser(`[${part.trim()}]`).parse()) }];
    }
    const key = DICT_KEY.exec(text);
    // Upstream re-parses the key as `.key`, so dots inside split it into fields.
    if (key) return new Parser(`.${key[1]}`).parse();

    const slice = SLICE.exec(text);
    if (!slice) throw new JsonPathError(`invalid array index ${text}`);
    const number = (s: string): number => {
      if (!/^-?\d+$/.test(s)) throw new JsonPathError(`array index ${s} is not a number`);
      return Number(s);
    };
    const start = slice[1] ? number(slice[1]) : undefined;
    const end = slice[2] === undefined ? undefined : slice[2] === ':' ? undefined : number(slice[2].slice(1));
    const step = slice[3] === undefined || slice[3] === ':' ? undefined : number(slice[3].slice(1));
    return [{ kind: 'slice', start, end, step, single: slice[2] === undefined }];
  }

  #filter(): Step {
    this.#pos += 3;
    const begin = this.#pos;
    let open: string | undefined;
    let closed = false;
    for (;;) {
      const c = this.#input[this.#pos++];
      if (c === undefined || c === '\n') throw new JsonPathError('unterminated filter');
      if (c === '"' || c === "'") {
        if (open === undefined) open = c;
        else if (c === open && this.#input[this.#pos - 2] !== '\\') closed = true;
      } else if (c === ')' && (open === undefined || closed)) {
        // A ')' inside the quoted operand does not end the filter.
        break;
      }
    }
    if (this.#input[this.#pos++] !== ']') throw new JsonPathError('unclosed array expect ]');
    const text = this.#input.slice(begin, this.#pos - 2);
    const comparison = FILTER.exec(text);
    if (!comparison) return { kind: 'filter', left: new Parser(text).parse(), right: [], operator: 'exists' };
    return {
      kind: 'filter',
      left: new Parser(comparison[1]!).parse(),
      right: new Parser(comparison[3]!).parse(),
      operator: comparison[2]!,
    };
  }

  #quote(quote: string): Step {
    const begin = this.#pos;
    this.#pos++;
    for (;;) {
      const c = this.#input[this.#pos++];
      if (c === undefined || c === '\n') throw new JsonPathError('unterminated quoted string');
      if (c === quote && this.#input[this.#pos - 2] !== '\\') break;
    }
    const body = this.#input.slice(begin + 1, this.#pos - 1);
    return { kind: 'text', text: unquote(body, quote) };
  }

  #number(): Step {
    const begin = this.#pos;
    if (this.#input[this.#pos] === '+' || this.#input[this.#pos] === '-') this.#pos++;
    while (this.#pos < this.#input.length && /[\d.]/.test(this.#input[this.#pos]!)) this.#pos++;
    const text = this.#input.slice(begin, this.#pos);
    if (/^[+-]?\d+$/.test(text)) return { kind: 'number', value: Number(text), integer: true };
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return { kind: 'number', value: Number(text), integer: false };
    throw new JsonPathError(`cannot parse number ${text}`);
  }

  #identifier(): Step {
    const begin = this.#pos;
    while (this.#pos < this.#input.length && !TERMINATORS.has(this.#input[this.#pos]!)) this.#pos++;
    const name = this.#input.slice(begin, this.#pos);
    if (name === 'true' || name === 'false') return { kind: 'bool', value: name === 'true' };
    return { kind: 'identifier', name };
  }
}

/** Go's `strconv.Unquote`, extended to single quotes, for the escapes JSONPath filters use. */
function unquote(body: string, quote: string): string {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '/': '/' };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === quote) throw new JsonPathError(`unquote string ${quote}${body}${quote} error invalid syntax`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = body[++i];
    if (next === undefined || escapes[next] === undefined) {
      throw new JsonPathError(`unquote string ${quote}${body}${quote} error invalid syntax`);
    }
    out += escapes[next];
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The children of a container, in order; nothing for scalars. */
function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) return Object.values(value);
  return [];
}

function evalSteps(input: unknown[], steps: Step[]): unknown[] {
  let current = input;
  for (const step of steps) current = evalStep(current, step);
  return current;
}

function evalStep(input: unknown[], step: Step): unknown[] {
  switch (step.kind) {
    case 'text':
      return [step.text];
    case 'number':
    case 'bool':
      return input.map(() => step.value);
    case 'identifier':
      throw new JsonPathError(`unrecognized identifier ${step.name}`);
    case 'field': {
      const out: unknown[] = [];
      for (const value of input) {
        if (isPlainObject(value) && Object.hasOwn(value, step.name)) out.push(value[step.name]);
      }
      return out;
    }
    case 'wildcard':
      return input.flatMap(children);
    case 'recursive': {
      const out: unknown[] = [];
      const visit = (value: unknown): void => {
        const kids = children(value);
        if (kids.length === 0) return;
        out.push(value);
        for (const kid of kids) visit(kid);
      };
      for (const value of input) visit(value);
      return out;
    }
    case 'union':
      return step.branches.flatMap((branch) => evalSteps(input, branch));
    case 'slice':
      return input.flatMap((value) => slice(value, step));
    case 'filter':
      return input.flatMap((value) => filter(value, step));
  }
}

function slice(value: unknown, step: Extract<Step, { kind: 'slice' }>): unknown[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new JsonPathError(`${goType(value)} is not array or slice`);
  const length = value.length;
  let start = step.start ?? 0;
  if (start < 0) start += length;
  let end: number;
  if (step.single) {
    end = start + 1;
  } else {
    end = step.end ?? length;
    if (end < 0) end += length;
  }
  if (end !== start) {
    if (start >= length || start < 0) throw new JsonPathError(`array index out of bounds: index ${start}, length ${length}`);
    if (end > length) throw new JsonPathError(`array index out of bounds: index ${end - 1}, length ${length}`);
  }
  const by = step.step ?? 1;
  if (by <= 0) return [];
  const out: unknown[] = [];
  for (let i = start; i < end; i += by) out.push(value[i]);
  return out;
}

function filter(value: unknown, step: Extract<Step, { kind: 'filter' }>): unknown[] {
  if (!Array.isArray(value)) throw new JsonPathError(`${goPrint(value)} is not array or slice and cannot be filtered`);
  const out: unknown[] = [];
  for (const item of value) {
    if (step.operator === 'exists') {
      let lefts: unknown[] = [];
      try {
        lefts = evalSteps([item], step.left);
      } catch {
        // An error reads as "does not exist", as upstream.
      }
      if (lefts.length > 0) out.push(item);
      continue;
    }
    const lefts = evalSteps([item], step.left);
    if (lefts.length !== 1) throw new JsonPathError('can only compare one element at a time');
    const rights = evalSteps([item], step.right);
    if (rights.length !== 1) throw new JsonPathError('can only compare one element at a time');
    if (compare(lefts[0], rights[0], step.operator)) out.push(item);
  }
  return out;
}

type BasicKind = 'bool' | 'int' | 'float' | 'string';

/** Go template's comparison kinds; JSON integers are Go ints, other numbers floats. */
function basicKind(value: unknown): BasicKind {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'int' : 'float';
  throw new JsonPathError('invalid type for comparison');
}

/** Go template's `eq`, `ne`, `lt`, `le`, `gt`, `ge`, which refuse to compare across kinds. */
function compare(left: unknown, right: unknown, operator: string): boolean {
  const lk = basicKind(left);
  const rk = basicKind(right);
  if (lk !== rk) throw new JsonPathError('incompatible types for comparison');
  const l = left as string | number | boolean;
  const r = right as string | number | boolean;
  switch (operator) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (lk === 'bool') throw new JsonPathError('invalid type for comparison');
      if (operator === '<') return l < r;
      if (operator === '>') return l > r;
      if (operator === '<=') return l <= r;
      return l >= r;
    }
    default:
      throw new JsonPathError(`unrecognized filter operator ${operator}`);
  }
}

/** The path without the `{…}` a template wraps it in. */
function actionText(path: string): string {
  const trimmed = path.trim();
  return trimmed.startsWith('{') && trimmed.endsWith('}') ? trimmed.slice(1, -1) : trimmed;
}

/**
 * Parses a JSONPath once and returns its evaluator, which returns the values found (an empty
 * list when nothing matches or the path cannot be applied to the value). Throws a `TypeError`
 * with upstream's parser message when the path does not parse.
 */
export function compileJsonPath(path: string): (object: unknown) => unknown[] {
  let steps: Step[];
  try {
    steps = new Parser(actionText(path)).parse();
  } catch (error) {
    throw new TypeError((error as Error).message);
  }
  return (object) => {
    try {
      return evalSteps([object], steps);
    } catch (error) {
      if (error instanceof JsonPathError) return [];
      throw error;
    }
  };
}

/** Upstream's parse error for a JSONPath, or `undefined` when it parses. */
export function jsonPathError(path: string): string | undefined {
  try {
    compileJsonPath(path);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const compiled = new Map<string, (object: unknown) => unknown[]>();
const MAX_CACHED_PATHS = 1024;

/**
 * The values `path` selects in `object` (kubectl's JSONPath; `{…}` around it is optional).
 * An empty list when nothing matches, the path does not apply (an index out of bounds, a filter
 * on a non-list) or does not parse.
 */
export function evaluateJsonPath(object: unknown, path: string): unknown[] {
  let evaluate = compiled.get(path);
  if (!evaluate) {
    try {
      evaluate = compileJsonPath(path);
    } catch {
      return [];
    }
    if (compiled.size >= MAX_CACHED_PATHS) compiled.clear();
    compiled.set(path, evaluate);
  }
  return evaluate(object);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A printer-column cell from the values a column's JSONPath found, as upstream's CRD table
 * convertor makes it: the first value only; `null` when there is none. `string` columns print
 * any value the way kubectl's JSONPath does (`map[k:v]`, `[a b]`, `<no value>` for null);
 * `integer` truncates numbers; `number` and `boolean` pass matching values; `date` turns an
 * RFC 3339 timestamp into an age relative to `now` (`5m`), `<invalid>` when it does not parse
 * and `<unknown>` when empty. A value of the wrong type is `null`.
 */
export function formatCell(values: unknown[], type: string, now: Date = new Date()): string | number | boolean | null {
  if (values.length === 0) return null;
  const value = values[0];
  if (type === 'string') return value === null || value === undefined ? '<no value>' : goPrint(value);
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === '' || value === 'null') return '<unknown>';
      const time = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(time)) return '<invalid>';
      return humanDuration(now.getTime() - time);
    }
    default:
      return null;
  }
}
