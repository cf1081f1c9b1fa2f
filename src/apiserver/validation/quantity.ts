/**
 * Resource quantities (`100m`, `1Gi`, `2`, `1e3`, `500Ki`, `1.5`), as upstream's apimachinery
 * `pkg/api/resource/quantity.go` reads them:
 *
 *     quantity ::= [+-] number suffix
 *     number   ::= digits | digits "." [digits] | "." digits
 *     suffix   ::= "" | n | u | m | k | M | G | T | P | E        (powers of 1000)
 *                | Ki | Mi | Gi | Ti | Pi | Ei                     (powers of 1024)
 *                | (e | E) [+-] digits                             (powers of 10)
 *
 * Values are returned as plain numbers: exact for every quantity a scheduler or kubelet cares
 * about, though not arbitrary-precision as upstream's.
 */

/** Upstream's pattern, quoted in its format error. */
const QUANTITY_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const FORMAT_ERROR = `quantities must match the regular expression '${QUANTITY_PATTERN}'`;
const SUFFIX_ERROR = "unable to parse quantity's suffix";

const SHAPE = /^([+-]?)([0-9]*(?:\.[0-9]*)?)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

const DECIMAL_EXPONENTS: Readonly<Record<string, number>> = {
  n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18,
};
const BINARY_EXPONENTS: Readonly<Record<string, number>> = {
  Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60,
};

type Parsed = { value: number } | { error: string };

function parse(text: string): Parsed {
  const match = SHAPE.exec(text);
  // A number needs at least one digit; upstream would read a bare `.`, `-` or `Ki` as zero.
  if (!match || !/[0-9]/.test(match[2]!)) return { error: FORMAT_ERROR };
  const [, sign, number, suffix] = match as unknown as [string, string, string, string];
  const mantissa = `${sign}${number.startsWith('.') ? `0${number}` : number}`;
  if (Object.hasOwn(DECIMAL_EXPONENTS, suffix)) {
    // Scaling through the exponent keeps `100m` exactly 0.1 rather than 100 * 0.001.
    return { value: Number(`${mantissa.replace(/\.$/, '')}e${DECIMAL_EXPONENTS[suffix]}`) };
  }
  if (Object.hasOwn(BINARY_EXPONENTS, suffix)) {
    return { value: Number(mantissa.replace(/\.$/, '')) * 2 ** BINARY_EXPONENTS[suffix]! };
  }
  if (/^[eE][+-]?[0-9]+$/.test(suffix)) {
    return { value: Number(`${mantissa.replace(/\.$/, '')}e${suffix.slice(1)}`) };
  }
  return { error: suffix.length > 0 && /^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix) ? SUFFIX_ERROR : FORMAT_ERROR };
}

/**
 * The numeric value of a quantity string (`"100m"` → 0.1, `"1Gi"` → 1073741824, `"1e3"` →
 * 1000), or `undefined` if it is not one.
 */
export function parseQuantity(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  const parsed = parse(text);
  return 'value' in parsed && Number.isFinite(parsed.value) ? parsed.value : undefined;
}

/**
 * Why a JSON value is not a valid quantity: a quantity string, or a plain JSON number (which
 * clients may send, and upstream accepts). Empty when valid. Messages are upstream's:
 * `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`
 * and `unable to parse quantity's suffix`.
 */
export function quantityErrors(value: unknown): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [FORMAT_ERROR];
  if (typeof value !== 'string') return [FORMAT_ERROR];
  const parsed = parse(value);
  if ('error' in parsed) return [parsed.error];
  return Number.isFinite(parsed.value) ? [] : ['numeric value out of range'];
}
