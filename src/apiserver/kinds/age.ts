/**
 * Human-readable durations as kubectl shows them in AGE, DURATION and "(5m ago)" cells:
 * apimachinery's `duration.HumanDuration`, which keeps two to three significant figures
 * (`90s`, `3m2s`, `15m`, `5h3m`, `26h`, `2d1h`, `45d`, `2y30d`).
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/**
 * Formats a duration in milliseconds. Up to two seconds in the future reads `0s` (clock skew
 * between machines); further in the future reads `<invalid>`, as upstream.
 *
 * Thresholds: seconds below 2 minutes; minutes and seconds below 10 minutes; minutes below
 * 3 hours; hours and minutes below 8 hours; hours below 48 hours; days and hours below 8 days;
 * days below 2 years; years and days below 8 years; years after that.
 */
export function humanDuration(ms: number): string {
  // Go truncates toward zero when converting to whole seconds.
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;

  const minutes = Math.floor(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;

  const hours = Math.floor(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.floor(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.floor(ms / YEAR)}y`;
}

/**
 * The time since an RFC 3339 timestamp, as an AGE cell: `<unknown>` when the timestamp is
 * missing or unparseable (upstream's zero-time case).
 */
export function since(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return '<unknown>';
  return humanDuration(now.getTime() - then);
}
