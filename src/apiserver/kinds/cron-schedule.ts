/**
 * Syntax check of CronJob schedules for validation: the client library's parser (the one the
 * CronJob controller runs schedules with, robfig/cron v3 `ParseStandard` semantics and error
 * sentences) decides, so what the API accepts is exactly what the controller can run. A leading
 * `TZ=…` or `CRON_TZ=…` is parsed here, as robfig's parser does; the CronJob validation rejects
 * it separately with its own message.
 */
import { parseSchedule, ScheduleError } from '../../client/index.ts';

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
  try {
    parseSchedule(spec, 'UTC');
    return undefined;
  } catch (error) {
    if (error instanceof ScheduleError) return error.message;
    throw error;
  }
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
