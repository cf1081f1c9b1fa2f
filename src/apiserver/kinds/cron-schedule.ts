/**
 * Syntax check of CronJob schedules, accepting what upstream's parser (robfig/cron v3,
 * `ParseStandard`) accepts, with its error sentences: five fields (minute, hour, day of month,
 * month, day of week), each a comma list of `*`, `?`, `N`, `N-M`, optionally `/step`; month and
 * weekday names (`JAN`, `mon`); or a descriptor (`@hourly`, `@daily`, `@midnight`, `@weekly`,
 * `@monthly`, `@yearly`, `@annually`, `@every 1h30m`). A leading `TZ=…` or `CRON_TZ=…` is
 * parsed here; the CronJob validation rejects it separately.
 */

interface FieldBounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};
const WEEKDAYS: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const FIELDS: readonly FieldBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: WEEKDAYS },
];

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Why a schedule does not parse, or undefined when it does. */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule.trim();
  if (spec.length === 0) return 'empty spec string';
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const zone = spec.slice(spec.indexOf('=') + 1, space < 0 ? undefined : space);
    if (!isKnownTimeZone(zone)) return `provided bad location ${zone}: unknown time zone ${zone}`;
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    if (DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      const text = spec.slice('@every '.length);
      return goDurationValid(text) ? undefined : `failed to parse duration ${spec}: time: invalid duration "${text}"`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    const error = fieldError(fields[i]!, FIELDS[i]!);
    if (error) return error;
  }
  return undefined;
}

function fieldError(field: string, bounds: FieldBounds): string | undefined {
  for (const expr of field.split(',')) {
    const error = rangeError(expr, bounds);
    if (error) return error;
  }
  return undefined;
}

function rangeError(expr: string, bounds: FieldBounds): string | undefined {
  const stepParts = expr.split('/');
  const rangeParts = stepParts[0]!.split('-');
  if (rangeParts.length > 2) return `too many hyphens: ${expr}`;
  if (stepParts.length > 2) return `too many slashes: ${expr}`;
  let start: number;
  let end: number;
  if (rangeParts[0] === '*' || rangeParts[0] === '?') {
    start = bounds.min;
    end = bounds.max;
    if (rangeParts.length > 1) return `too many hyphens: ${expr}`;
  } else {
    const first = intOrName(rangeParts[0]!, bounds.names);
    if (typeof first === 'string') return first;
    start = first;
    end = first;
    if (rangeParts.length === 2) {
      const second = intOrName(rangeParts[1]!, bounds.names);
      if (typeof second === 'string') return second;
      end = second;
    }
  }
  if (stepParts.length === 2) {
    const step = parseNonNegative(stepParts[1]!);
    if (typeof step === 'string') return step;
    if (step <= 0) return `step of range should be a positive number: ${expr}`;
  }
  if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${expr}`;
  if (end > bounds.max) return `end of range (${end}) above maximum (${bounds.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  return undefined;
}

function intOrName(text: string, names: Readonly<Record<string, number>> | undefined): number | string {
  const named = names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  return parseNonNegative(text);
}

/** Go's `strconv.Atoi` plus the parser's sign check; a string is the error. */
function parseNonNegative(text: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(text)) return `failed to parse int from ${text}: strconv.Atoi: parsing "${text}": invalid syntax`;
  const n = Number(text);
  if (n < 0) return `negative number (${n}) not allowed: ${text}`;
  return n;
}

/** Go's `time.ParseDuration` syntax: `1h30m`, `90s`, `1.5h`, `300ms`. */
function goDurationValid(text: string): boolean {
  return /^[+-]?([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/.test(text) && /[0-9]/.test(text) || text === '0';
}

/** Whether the runtime knows an IANA time zone name (`Europe/Berlin`, `UTC`). */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
