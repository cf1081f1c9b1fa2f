/**
 * Field selectors: the `fieldSelector` query-string syntax (`metadata.name=web,status.phase!=Failed`),
 * as upstream's apimachinery `pkg/fields/selector.go` parses it. Which fields a kind supports is
 * not decided here: the caller checks each requirement's `field` against the kind's list.
 */
import { SelectorError } from './errors.ts';

export { SelectorError };

/** One `field=value` (`=` and `==` are the same) or `field!=value` term. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/**
 * Splits on commas that are not escaped; escapes stay in the terms, to be undone per value.
 * Upstream's rule: a backslash makes the next character data, whatever it is.
 */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (escaped) escaped = false;
    else if (ch === '\\') escaped = true;
    else if (ch === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** `!=` and `==` are tried before `=` at each position, so `a==b` is not `a` `=` `=b`. */
const OPERATORS = ['!=', '==', '='] as const;

function splitTerm(term: string): { field: string; operator: string; rest: string } | undefined {
  // The field has no escaping: the first operator anywhere in the term splits it.
  for (let i = 0; i < term.length; i++) {
    for (const operator of OPERATORS) {
      if (term.startsWith(operator, i)) {
        return { field: term.slice(0, i), operator, rest: term.slice(i + operator.length) };
      }
    }
  }
  return undefined;
}

/** Undoes `\\`, `\,` and `\=`; any other escape, or a bare `,` or `=`, is an error. */
function unescapeValue(value: string): string {
  let out = '';
  let escaped = false;
  for (const ch of value) {
    if (escaped) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${ch}`);
      }
      out += ch;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
    } else if (ch === ',' || ch === '=') {
      // Upstream prints the rune's code point here; the character itself says more.
      throw new SelectorError(`invalid field selector: unescaped character in value: ${ch}`);
    } else {
      out += ch;
    }
  }
  if (escaped) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * Parses a `fieldSelector` query parameter into its terms (AND), sorted as upstream sorts them.
 * Empty terms are skipped, so `""` is the empty list (selects everything). Values may escape
 * `\`, `,` and `=` with a backslash; fields and values are not trimmed.
 *
 * @throws {SelectorError} e.g. `invalid selector: 'foo'; can't understand 'foo'`.
 */
export function parseFieldSelector(text: string): FieldRequirement[] {
  if (text === '') return [];
  const requirements: FieldRequirement[] = [];
  const terms = splitTerms(text).sort();
  for (const term of terms) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push({
      field: parts.field,
      operator: parts.operator === '!=' ? '!=' : '=',
      value: unescapeValue(parts.rest),
    });
  }
  return requirements;
}

/**
 * True if every requirement holds. `get` returns a field's value for the object being tested;
 * `undefined` (field absent) compares as the empty string, as upstream's `Fields.Get`.
 */
export function fieldsMatch(requirements: FieldRequirement[], get: (field: string) => string | undefined): boolean {
  return requirements.every((r) => {
    const actual = get(r.field) ?? '';
    return r.operator === '=' ? actual === r.value : actual !== r.value;
  });
}

/**
 * Renders requirements back to the query-string form, escaping values (upstream's
 * `EscapeValue`), so `parseFieldSelector(formatFieldSelector(r))` returns `r` sorted.
 */
export function formatFieldSelector(requirements: FieldRequirement[]): string {
  return requirements
    .map((r) => `${r.field}${r.operator}${r.value.replace(/[\\,=]/g, (ch) => `\\${ch}`)}`)
    .join(',');
}
