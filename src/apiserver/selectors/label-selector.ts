/**
 * Label selectors: the `labelSelector` query-string syntax (`app=web,tier in (a,b),!canary`)
 * and the structured `metav1.LabelSelector` (`matchLabels` + `matchExpressions`) that
 * Deployments, Services and friends carry. Both produce the same {@link LabelSelector}, with
 * upstream's matching rules, canonical string form and error messages
 * (apimachinery `pkg/labels/selector.go`, `pkg/apis/meta/v1/helpers.go`).
 */
import { invalid, labelValueErrors, notSupported, qualifiedNameErrors } from '../validation/index.ts';
import type { FieldError } from '../resource.ts';
import { SelectorError } from './errors.ts';

/**
 * A compiled label selector.
 *
 * Contract: `matches` is a pure function of the labels passed (missing labels are an empty
 * set); all requirements must hold (AND). `empty` is true only for a selector that selects
 * everything (`""` or `{}`); the "select nothing" selector (from a null `metav1.LabelSelector`)
 * is not empty and matches nothing. `toString()` is canonical: requirements sorted by key,
 * set values sorted, so equal selectors print equally; it parses back to an equivalent
 * selector (the select-nothing selector prints as `""`, as upstream).
 */
export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
  readonly empty: boolean;
  toString(): string;
}

/** Upstream's `selection.Operator` values that label requirements use. */
type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** Binary operators in upstream's order; it appears in the "expected: …" parse error. */
const BINARY_OPERATORS: readonly Operator[] = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];
const ALL_OPERATORS: readonly Operator[] = [...BINARY_OPERATORS, 'exists', '!'];

interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, within int64. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** Renders field errors as upstream's aggregate error does: one alone, several in brackets. */
function aggregate(errors: FieldError[]): string {
  const messages = [...new Set(errors.map((e) => `${e.field}: ${e.message}`))];
  return messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
}

/** Key validation as upstream's `validateLabelKey`; `field` is `<nil>` inside the parser. */
function keyError(key: string, field: string): FieldError | undefined {
  const errors = qualifiedNameErrors(key);
  return errors.length === 0 ? undefined : invalid(field, key, errors.join('; '));
}

/**
 * Upstream's `NewRequirement`: checks the key, the operator and the number and form of values,
 * and throws every problem at once.
 */
function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errors: FieldError[] = [];
  // Upstream reports an empty list as Go's nil slice: `Invalid value: null`.
  const shown = values.length === 0 ? null : values;
  const bad = keyError(key, 'key');
  if (bad) errors.push(bad);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) {
        errors.push(invalid('values', shown, "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) {
        errors.push(invalid('values', shown, 'exact-match compatibility requires one single value'));
      }
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) {
        errors.push(invalid('values', shown, 'values set must be empty for exists and does not exist'));
      }
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) {
        errors.push(invalid('values', shown, "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      values.forEach((value, i) => {
        if (parseInt64(value) === undefined) {
          errors.push(invalid(`values[${i}]`, value, "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      });
      break;
    default:
      errors.push(notSupported('operator', operator, ALL_OPERATORS));
  }
  values.forEach((value, i) => {
    const messages = labelValueErrors(value);
    if (messages.length > 0) errors.push(invalid(`values[${i}][${key}]`, value, messages.join('; ')));
  });
  if (errors.length > 0) throw new SelectorError(aggregate(errors));
  return { key, operator, values };
}

function requirementMatches(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && labels !== null && Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      // A label that is not an integer never satisfies an ordering, as upstream.
      const actual = parseInt64(value!);
      const bound = parseInt64(r.values[0]!);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

function requirementString(r: Requirement): string {
  const prefix = r.operator === '!' ? '!' : '';
  if (r.operator === 'exists' || r.operator === '!') return `${prefix}${r.key}`;
  const values = r.values.length === 1 ? r.values[0]! : [...r.values].sort().join(',');
  switch (r.operator) {
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** A conjunction of requirements, kept sorted by key (stable, so parse order breaks ties). */
class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly Requirement[];
  readonly empty: boolean;

  constructor(requirements: Requirement[]) {
    this.requirements = requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.empty = requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    return this.requirements.every((r) => requirementMatches(r, labels));
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

/** Upstream's `labels.Nothing()`: what a null `metav1.LabelSelector` means. */
const NOTHING: LabelSelector = Object.freeze({
  empty: false,
  matches: () => false,
  toString: () => '',
});

// ---------------------------------------------------------------------------------------------
// Lexer and parser for the query-string syntax, token for token as upstream's, so that the same
// strings are accepted and the same error messages come out.

type Token =
  | 'error'
  | 'end'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'identifier'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

interface Scanned {
  token: Token;
  literal: string;
}

const LITERAL_TOKENS: ReadonlyMap<string, Token> = new Map<string, Token>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch);

function lex(text: string): Scanned[] {
  const items: Scanned[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && isWhitespace(text[pos]!)) pos++;
    if (pos >= text.length) {
      items.push({ token: 'end', literal: '' });
      return items;
    }
    if (isSpecial(text[pos]!)) {
      // Longest run of special characters that still spells an operator: `!=` but `!` `(`.
      let buffer = '';
      let last: Scanned | undefined;
      while (pos < text.length && isSpecial(text[pos]!)) {
        buffer += text[pos];
        const token = LITERAL_TOKENS.get(buffer);
        if (token) last = { token, literal: buffer };
        else if (last) break;
        pos++;
      }
      items.push(last ?? { token: 'error', literal: `error expected: keyword found '${buffer}'` });
    } else {
      const start = pos;
      while (pos < text.length && !isSpecial(text[pos]!) && !isWhitespace(text[pos]!)) pos++;
      const word = text.slice(start, pos);
      items.push({ token: LITERAL_TOKENS.get(word) ?? 'identifier', literal: word });
    }
  }
}

/**
 * Where the parser is: `in` and `notin` are operators after a key but ordinary identifiers
 * where a key or a value is expected (`in in (in)` is a valid selector).
 */
type Context = 'keyAndOperator' | 'values';

class Parser {
  readonly items: Scanned[];
  position = 0;

  constructor(text: string) {
    this.items = lex(text);
  }

  lookahead(context: Context): Scanned {
    return this.contextual(this.items[this.position]!, context);
  }

  consume(context: Context): Scanned {
    return this.contextual(this.items[this.position++]!, context);
  }

  contextual(item: Scanned, context: Context): Scanned {
    if (context === 'values' && (item.token === 'in' || item.token === 'notin')) {
      return { token: 'identifier', literal: item.literal };
    }
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead('values');
      if (token === 'end') return requirements;
      if (token !== 'identifier' && token !== '!') {
        throw new SelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (error) {
        if (!(error instanceof SelectorError)) throw error;
        throw new SelectorError(`unable to parse requirement: ${error.message}`, { cause: error });
      }
      const next = this.consume('values');
      if (next.token === 'end') return requirements;
      if (next.token !== ',') {
        throw new SelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      }
      const after = this.lookahead('values');
      if (after.token !== 'identifier' && after.token !== '!') {
        throw new SelectorError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  parseRequirement(): Requirement {
    let operator: Operator | undefined;
    let item = this.consume('values');
    if (item.token === '!') {
      operator = '!';
      item = this.consume('values');
    }
    if (item.token !== 'identifier') {
      throw new SelectorError(`found '${item.literal}', expected: identifier`);
    }
    const key = item.literal;
    // Upstream validates the key here with no field path, which prints as `<nil>`.
    const bad = keyError(key, '<nil>');
    if (bad) throw new SelectorError(aggregate([bad]));
    const next = this.lookahead('values').token;
    if (operator !== '!' && (next === 'end' || next === ',')) operator = 'exists';
    if (operator === 'exists' || operator === '!') return newRequirement(key, operator, []);

    operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    // As upstream, values form a set: de-duplicated and sorted.
    return newRequirement(key, operator, [...new Set(values)].sort());
  }

  parseOperator(): Operator {
    const { token, literal } = this.consume('keyAndOperator');
    switch (token) {
      case 'in':
        return 'in';
      case 'notin':
        return 'notin';
      case '=':
        return '=';
      case '==':
        return '==';
      case '!=':
        return '!=';
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new SelectorError(`found '${literal}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  parseValues(): string[] {
    const open = this.consume('values');
    if (open.token !== '(') throw new SelectorError(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.lookahead('values');
    if (token === ')') {
      // `x in ()` is the set holding only the empty value.
      this.consume('values');
      return [''];
    }
    if (token !== 'identifier' && token !== ',') {
      throw new SelectorError(`found '${literal}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    if (this.consume('values').token !== ')') {
      throw new SelectorError(`found '${literal}', expected: ')'`);
    }
    return values;
  }

  /** A comma-separated list in which empty entries are the empty value: `(a,,b)`, `(,a)`. */
  parseIdentifiersList(): string[] {
    const values: string[] = [];
    for (;;) {
      const { token, literal } = this.consume('values');
      if (token === 'identifier') {
        values.push(literal);
        const next = this.lookahead('values');
        if (next.token === ',') continue;
        if (next.token === ')') return values;
        throw new SelectorError(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (token !== ',') throw new SelectorError(`found '${literal}', expected: ',', or identifier`);
      if (values.length === 0) values.push('');
      const next = this.lookahead('values').token;
      if (next === ')') {
        values.push('');
        return values;
      }
      if (next === ',') {
        this.consume('values');
        values.push('');
      }
    }
  }

  parseExactValue(): string[] {
    const next = this.lookahead('values').token;
    if (next === 'end' || next === ',') return [''];
    const { token, literal } = this.consume('values');
    if (token === 'identifier') return [literal];
    throw new SelectorError(`found '${literal}', expected: identifier`);
  }
}

/**
 * Parses the `labelSelector` query-string syntax:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not exist),
 * `a>1`, `a<1` (integer comparison), joined by commas (AND), whitespace between tokens ignored.
 * The empty string selects everything. Keys must be qualified names and values label values.
 *
 * @throws {SelectorError} with upstream's message, e.g.
 * `unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt`.
 */
export function parseLabelSelector(text: string): LabelSelector {
  return new RequirementsSelector(new Parser(text).parse());
}

/** The structured `metav1.LabelSelectorRequirement` operators. */
const EXPRESSION_OPERATORS: Readonly<Record<string, Operator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * Compiles a `metav1.LabelSelector` as upstream's `LabelSelectorAsSelector` does: `null` or
 * `undefined` selects nothing, `{}` (no labels, no expressions) selects everything;
 * `matchLabels` entries are `key=value` requirements; `matchExpressions` use `In`, `NotIn`,
 * `Exists`, `DoesNotExist`.
 *
 * @throws {SelectorError} for an unknown operator (`"Foo" is not a valid label selector
 * operator`), a bad key or value, `In`/`NotIn` without values or `Exists` with values, or a
 * selector that is not shaped like a `metav1.LabelSelector` at all.
 */
export function labelSelectorFromObject(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined
    | null,
): LabelSelector {
  if (selector === undefined || selector === null) return NOTHING;
  if (typeof selector !== 'object' || Array.isArray(selector)) {
    throw new SelectorError(`label selector must be an object, got ${JSON.stringify(selector)}`);
  }
  const { matchLabels, matchExpressions } = selector;
  const requirements: Requirement[] = [];
  if (matchLabels !== undefined && matchLabels !== null) {
    if (typeof matchLabels !== 'object' || Array.isArray(matchLabels)) {
      throw new SelectorError(`matchLabels must be an object of strings, got ${JSON.stringify(matchLabels)}`);
    }
    // Sorted so the first error reported does not depend on key order.
    for (const key of Object.keys(matchLabels).sort()) {
      const value = matchLabels[key];
      if (typeof value !== 'string') {
        throw new SelectorError(`matchLabels[${key}] must be a string, got ${JSON.stringify(value)}`);
      }
      requirements.push(newRequirement(key, '=', [value]));
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) {
      throw new SelectorError(`matchExpressions must be a list, got ${JSON.stringify(matchExpressions)}`);
    }
    for (const expression of matchExpressions as unknown[]) {
      requirements.push(requirementFromExpression(expression));
    }
  }
  return new RequirementsSelector(requirements);
}

function requirementFromExpression(expression: unknown): Requirement {
  if (typeof expression !== 'object' || expression === null || Array.isArray(expression)) {
    throw new SelectorError(`matchExpressions entry must be an object, got ${JSON.stringify(expression)}`);
  }
  const { key, operator, values } = expression as Record<string, unknown>;
  const op = typeof operator === 'string' && Object.hasOwn(EXPRESSION_OPERATORS, operator)
    ? EXPRESSION_OPERATORS[operator]!
    : undefined;
  if (op === undefined) {
    throw new SelectorError(`${JSON.stringify(operator ?? '')} is not a valid label selector operator`);
  }
  if (typeof key !== 'string') {
    throw new SelectorError(`matchExpressions key must be a string, got ${JSON.stringify(key)}`);
  }
  const list = values === undefined || values === null ? [] : values;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
    throw new SelectorError(`matchExpressions values must be a list of strings, got ${JSON.stringify(values)}`);
  }
  return newRequirement(key, op, [...(list as string[])]);
}
