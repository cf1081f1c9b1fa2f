/**
 * Cron schedules as the CronJob controller evaluates them, following upstream's parser
 * (robfig/cron v3 `ParseStandard`): five fields (minute, hour, day of month, month, day of week)
 * of comma lists of `*`, `?`, `N`, `N-M`, each optionally `/step` (`N/step` means `N-max/step`),
 * month and weekday names, and the macros `@yearly`/`@annually`/`@monthly`/`@weekly`/`@daily`/
 * `@midnight`/`@hourly` (and `@every <duration>`).
 *
 * Day of month and day of week combine as cron always has: when either field is a bare `*` or
 * `?`, both must match; otherwise either may. Times are read on the wall clock of an IANA time
 * zone through `Intl`; across daylight-saving changes the search walks real instants as
 * robfig/cron does, so a time inside a spring-forward gap is skipped that day and a time in
 * the repeated hour of a fall-back runs in both.
 */

interface Bounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};
const WEEKDAYS: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: readonly Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: WEEKDAYS },
];
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A schedule that does not parse; the message is upstream parser's sentence. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  readonly code = 'ERR_CRON_SCHEDULE';
}

/** One field: the allowed values, and whether it was written as `*` or `?` (step 1). */
interface Field {
  values: Set<number>;
  star: boolean;
}

/** A parsed schedule. */
export interface Schedule {
  /**
   * The first activation strictly after `after` (whole minutes), or undefined when there is
   * none in the next five years (`0 0 30 2 *`).
   */
  next(after: Date): Date | undefined;
}

/**
 * Parses `spec` for `timeZone` (an IANA name; default: this process's zone). Throws
 * {@link ScheduleError} for a malformed spec and RangeError for an unknown zone.
 */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  const zone = timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone;
  const wall = wallClock(zone);
  const text = spec.trim();
  if (text === '') throw new ScheduleError('empty spec string');
  if (text.startsWith('@every ')) return everySchedule(text);
  const expanded = text.startsWith('@') ? MACROS[text] : text;
  if (expanded === undefined) throw new ScheduleError(`unrecognized descriptor: ${text}`);
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new ScheduleError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const fields = parts.map((part, i) => parseField(part, FIELDS[i]!));
  return { next: (after) => nextActivation(fields, wall, after) };
}

function parseField(text: string, bounds: Bounds): Field {
  const field: Field = { values: new Set(), star: false };
  for (const expr of text.split(',')) {
    const [range, stepText, extra] = expr.split('/');
    if (extra !== undefined) throw new ScheduleError(`too many slashes: ${expr}`);
    const ends = range!.split('-');
    if (ends.length > 2) throw new ScheduleError(`too many hyphens: ${expr}`);
    let start: number;
    let end: number;
    let star = false;
    if (ends[0] === '*' || ends[0] === '?') {
      if (ends.length > 1) throw new ScheduleError(`too many hyphens: ${expr}`);
      [start, end, star] = [bounds.min, bounds.max, true];
    } else {
      start = value(ends[0]!, bounds);
      end = ends.length === 2 ? value(ends[1]!, bounds) : start;
    }
    let step = 1;
    if (stepText !== undefined) {
      step = value(stepText, { min: 0, max: 0 });
      if (step <= 0) throw new ScheduleError(`step of range should be a positive number: ${expr}`);
      // `N/step` means from N to the field's maximum.
      if (ends.length === 1 && !star) end = bounds.max;
      if (step > 1) star = false;
    }
    if (start < bounds.min) throw new ScheduleError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
    if (end > bounds.max) throw new ScheduleError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
    if (start > end) throw new ScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
    for (let v = start; v <= end; v += step) field.values.add(v);
    field.star ||= star;
  }
  return field;
}

function value(text: string, bounds: Bounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^[+-]?[0-9]+$/.test(text)) throw new ScheduleError(`failed to parse int from ${text}: strconv.Atoi: parsing "${text}": invalid syntax`);
  const n = Number(text);
  if (n < 0) throw new ScheduleError(`negative number (${n}) not allowed: ${text}`);
  return n;
}

/** `@every 1h30m`: fixed intervals from the given time, rounded to whole seconds, at least 1 s. */
function everySchedule(text: string): Schedule {
  const duration = text.slice('@every '.length).trim();
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let consumed = 0;
  for (let m = re.exec(duration); m; m = re.exec(duration)) {
    ms += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  // Go's time.ParseDuration takes a bare "0" (and signed forms) too.
  if (/^[+-]?0$/.test(duration)) consumed = duration.length;
  if (consumed !== duration.length || duration === '') {
    throw new ScheduleError(`failed to parse duration ${text}: time: invalid duration "${duration}"`);
  }
  const interval = Math.max(1000, Math.floor(ms / 1000) * 1000);
  return { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + interval) };
}

/** Wall-clock fields of an instant in one zone, and the zone's offset there. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

interface WallClock {
  fields(t: number): Wall;
  /** The instant of a wall time (overflowing fields normalized), as Go's `time.Date`. */
  instant(year: number, month: number, day: number, hour: number, minute: number): number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(zone: string): WallClock {
  let format = formatters.get(zone);
  if (!format) {
    // Throws RangeError for a zone the runtime does not know.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const f = format;
  /** The zone's offset from UTC at instant `t`, in ms. */
  const offset = (t: number): number => {
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    return asUtc - Math.floor(t / 1000) * 1000;
  };
  return {
    fields(t) {
      const local = new Date(t + offset(t));
      return {
        year: local.getUTCFullYear(),
        month: local.getUTCMonth() + 1,
        day: local.getUTCDate(),
        hour: local.getUTCHours(),
        minute: local.getUTCMinutes(),
        weekday: local.getUTCDay(),
      };
    },
    instant(year, month, day, hour, minute) {
      const wall = Date.UTC(year, month - 1, day, hour, minute);
      // Go's rule: guess the offset at the wall time read as UTC; if the result lies in a
      // period with another offset (a gap or an overlap), take that period's offset.
      const guess = offset(wall);
      const other = offset(wall - guess);
      return wall - (other === guess ? guess : other);
    },
  };
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** robfig/cron's `SpecSchedule.Next` at minute resolution, on the zone's wall clock. */
function nextActivation(fields: Field[], wall: WallClock, after: Date): Date | undefined {
  const [minute, hour, dom, month, dow] = fields as [Field, Field, Field, Field, Field];
  const dayMatches = (w: Wall) => {
    const domMatch = dom.values.has(w.day);
    const dowMatch = dow.values.has(w.weekday);
    return dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
  };
  // The earliest candidate is the next whole minute.
  let t = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  let added = false;
  const yearLimit = wall.fields(t).year + 5;
  wrap: for (;;) {
    let w = wall.fields(t);
    if (w.year > yearLimit) return undefined;
    while (!month.values.has(w.month)) {
      if (!added) {
        added = true;
        t = wall.instant(w.year, w.month, 1, 0, 0);
        w = wall.fields(t);
      }
      t = wall.instant(w.year, w.month + 1, w.day, w.hour, w.minute);
      w = wall.fields(t);
      if (w.month === 1) continue wrap;
    }
    while (!dayMatches(w)) {
      if (!added) {
        added = true;
        t = wall.instant(w.year, w.month, w.day, 0, 0);
        w = wall.fields(t);
      }
      t = wall.instant(w.year, w.month, w.day + 1, w.hour, w.minute);
      w = wall.fields(t);
      // Midnight may not exist on a day daylight saving starts: get back to the day's start.
      if (w.hour !== 0) {
        t += w.hour > 12 ? (24 - w.hour) * HOUR : -w.hour * HOUR;
        w = wall.fields(t);
      }
      if (w.day === 1) continue wrap;
    }
    while (!hour.values.has(w.hour)) {
      if (!added) {
        added = true;
        t = wall.instant(w.year, w.month, w.day, w.hour, 0);
      }
      t += HOUR;
      w = wall.fields(t);
      if (w.hour === 0) continue wrap;
    }
    while (!minute.values.has(w.minute)) {
      added = true;
      t += MINUTE;
      w = wall.fields(t);
      if (w.minute === 0) continue wrap;
    }
    return new Date(t);
  }
}

/** The instant as RFC 3339 on the zone's wall clock with its offset (Go's `time.RFC3339`). */
export function formatInZone(date: Date, timeZone: string | undefined): string {
  if (!timeZone || timeZone === 'UTC') return date.toISOString().replace(/\.\d+Z$/, 'Z');
  const wall = wallClock(timeZone);
  const t = Math.floor(date.getTime() / 1000) * 1000;
  const w = wall.fields(t);
  const offsetMin = Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - (t - (t % MINUTE))) / MINUTE);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const seconds = Math.floor((t % MINUTE) / 1000);
  const base = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(seconds)}`;
  if (offsetMin === 0) return `${base}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${base}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
