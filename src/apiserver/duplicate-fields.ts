/**
 * Finds keys that appear twice in one JSON object, which `JSON.parse` silently collapses (the
 * last one wins). Server-side field validation reports them: `fieldValidation=Strict` rejects
 * the request, `Warn` (the default) answers with a `Warning:` header, as upstream.
 *
 * Paths are written as upstream writes them: `spec.replicas`,
 * `spec.template.spec.containers[0].name`.
 */

/**
 * Paths of duplicated keys in a JSON text, in order of appearance. Assumes valid JSON; `parsed`
 * is the text parsed, which allows a fast answer for the usual body with no duplicate: its
 * keys, counted in the parsed value, match the `":` separators counted in the text (a string
 * that contains `":` only adds to the text's count, which then just takes the full scan).
 */
export function duplicateFields(text: string, parsed?: unknown): string[] {
  if (parsed !== undefined && countKeys(parsed) === countSeparators(text)) return [];
  return scan(text);
}

function countKeys(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else {
      for (const key in v) {
        n++;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
  }
  return n;
}

/** Occurrences of `"` followed (after optional whitespace) by `:` — every key has exactly one. */
function countSeparators(text: string): number {
  let n = 0;
  let at = text.indexOf(':');
  while (at !== -1) {
    let j = at - 1;
    while (j >= 0 && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09)) j--;
    if (j >= 0 && text.charCodeAt(j) === 0x22) n++;
    at = text.indexOf(':', at + 1);
  }
  return n;
}

function scan(text: string): string[] {
  const found: string[] = [];
  // One frame per open object or array: the keys seen (objects) or the next index (arrays).
  const frames: ({ keys: Set<string>; path: string } | { index: number; path: string })[] = [];
  let pendingKey: string | undefined;
  let i = 0;
  const childPath = (): string => {
    const top = frames[frames.length - 1];
    if (!top) return '';
    if ('keys' in top) return top.path ? `${top.path}.${pendingKey}` : pendingKey!;
    return `${top.path}[${top.index}]`;
  };
  const valueStarts = () => {
    const top = frames[frames.length - 1];
    if (top && 'index' in top) top.index++;
  };
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const path = childPath();
      valueStarts();
      frames.push(c === 0x7b ? { keys: new Set(), path } : { index: 0, path });
      pendingKey = undefined;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
      i++;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const raw = text.slice(i, j + 1);
      i = j + 1;
      while (i < text.length && /\s/.test(text[i]!)) i++;
      const top = frames[frames.length - 1];
      if (text[i] === ':' && top && 'keys' in top) {
        // A key.
        const key = JSON.parse(raw) as string;
        if (top.keys.has(key)) found.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        pendingKey = key;
        i++;
      } else {
        valueStarts();
      }
    } else if (c === 0x2c /* , */ || c === 0x3a /* : */ || c <= 0x20) {
      i++;
    } else {
      // A number, true, false or null.
      valueStarts();
      while (i < text.length && !',}] \t\r\n'.includes(text[i]!)) i++;
    }
  }
  return found;
}
