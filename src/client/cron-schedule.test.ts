import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInZone, parseSchedule, ScheduleError } from './cron-schedule.ts';

/** The next `count` activations after `from`, as ISO strings. */
function runs(spec: string, from: string, count: number, zone = 'UTC'): string[] {
  const schedule = parseSchedule(spec, zone);
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.next(t);
    if (!next) break;
    out.push(next.toISOString());
    t = next;
  }
  return out;
}

test('every minute and steps: */1, */15, ranges with steps, N/step', () => {
  assert.deepEqual(runs('*/1 * * * *', '2024-01-01T10:00:00Z', 2), ['2024-01-01T10:01:00.000Z', '2024-01-01T10:02:00.000Z']);
  // The next whole minute, even from the middle of one.
  assert.deepEqual(runs('* * * * *', '2024-01-01T10:00:30.5Z', 1), ['2024-01-01T10:01:00.000Z']);
  assert.deepEqual(runs('*/15 * * * *', '2024-01-01T10:07:00Z', 3), ['2024-01-01T10:15:00.000Z', '2024-01-01T10:30:00.000Z', '2024-01-01T10:45:00.000Z']);
  assert.deepEqual(runs('10-20/5 3 * * *', '2024-01-01T00:00:00Z', 4), [
    '2024-01-01T03:10:00.000Z', '2024-01-01T03:15:00.000Z', '2024-01-01T03:20:00.000Z', '2024-01-02T03:10:00.000Z',
  ]);
  // `50/5` is `50-59/5`.
  assert.deepEqual(runs('50/5 * * * *', '2024-01-01T00:00:00Z', 3), ['2024-01-01T00:50:00.000Z', '2024-01-01T00:55:00.000Z', '2024-01-01T01:50:00.000Z']);
  assert.deepEqual(runs('0 9,17 * * *', '2024-01-01T12:00:00Z', 2), ['2024-01-01T17:00:00.000Z', '2024-01-02T09:00:00.000Z']);
});

test('names, ? and macros', () => {
  // 2024-01-01 is a Monday.
  assert.deepEqual(runs('0 0 ? JAN-feb MON', '2024-01-01T00:00:00Z', 2), ['2024-01-08T00:00:00.000Z', '2024-01-15T00:00:00.000Z']);
  assert.deepEqual(runs('@hourly', '2024-01-01T10:20:00Z', 1), ['2024-01-01T11:00:00.000Z']);
  assert.deepEqual(runs('@daily', '2024-01-01T10:20:00Z', 1), ['2024-01-02T00:00:00.000Z']);
  assert.deepEqual(runs('@midnight', '2024-01-01T10:20:00Z', 1), ['2024-01-02T00:00:00.000Z']);
  assert.deepEqual(runs('@weekly', '2024-01-01T10:20:00Z', 1), ['2024-01-07T00:00:00.000Z']);
  assert.deepEqual(runs('@monthly', '2024-01-15T10:20:00Z', 1), ['2024-02-01T00:00:00.000Z']);
  assert.deepEqual(runs('@yearly', '2024-01-15T10:20:00Z', 1), ['2025-01-01T00:00:00.000Z']);
  assert.deepEqual(runs('@annually', '2024-01-15T10:20:00Z', 1), ['2025-01-01T00:00:00.000Z']);
  assert.deepEqual(runs('@every 90s', '2024-01-01T10:00:00Z', 2), ['2024-01-01T10:01:30.000Z', '2024-01-01T10:03:00.000Z']);
});

test('day of month and day of week: either matches unless one is a star', () => {
  // The 13th or any Friday (2024-09-06 and -13 are Fridays, -13 is both).
  assert.deepEqual(runs('0 0 13 * FRI', '2024-09-01T00:00:00Z', 4), [
    '2024-09-06T00:00:00.000Z', '2024-09-13T00:00:00.000Z', '2024-09-20T00:00:00.000Z', '2024-09-27T00:00:00.000Z',
  ]);
  // With `*` day of month, only Fridays; with `*` day of week, only the 13th.
  assert.deepEqual(runs('0 0 * * 5', '2024-09-01T00:00:00Z', 2), ['2024-09-06T00:00:00.000Z', '2024-09-13T00:00:00.000Z']);
  assert.deepEqual(runs('0 0 13 * *', '2024-09-01T00:00:00Z', 2), ['2024-09-13T00:00:00.000Z', '2024-10-13T00:00:00.000Z']);
  // `*/2` is not a star: either field matches.
  assert.deepEqual(runs('0 0 1 * */7', '2024-09-01T00:00:00Z', 2), ['2024-09-08T00:00:00.000Z', '2024-09-15T00:00:00.000Z']);
  // February 29th comes in leap years only; the 30th of February never (nothing within 5 years).
  assert.deepEqual(runs('0 0 29 2 *', '2025-01-01T00:00:00Z', 1), ['2028-02-29T00:00:00.000Z']);
  assert.deepEqual(runs('0 0 30 2 *', '2025-01-01T00:00:00Z', 1), []);
});

test('time zones and daylight saving (America/New_York)', () => {
  const ny = 'America/New_York';
  // 09:00 on the wall clock is 14:00Z in winter and 13:00Z in summer.
  assert.deepEqual(runs('0 9 * * *', '2024-03-09T00:00:00Z', 3, ny), [
    '2024-03-09T14:00:00.000Z', '2024-03-10T13:00:00.000Z', '2024-03-11T13:00:00.000Z',
  ]);
  // 02:30 does not exist on 2024-03-10 (02:00 → 03:00): that day is skipped, as upstream's.
  assert.deepEqual(runs('30 2 * * *', '2024-03-09T12:00:00Z', 2, ny), ['2024-03-11T06:30:00.000Z', '2024-03-12T06:30:00.000Z']);
  // 01:30 happens twice on 2024-11-03 (EDT, then EST): both run.
  assert.deepEqual(runs('30 1 * * *', '2024-11-03T00:00:00Z', 3, ny), [
    '2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z', '2024-11-04T06:30:00.000Z',
  ]);
  // Hourly keeps real hours across the gap.
  assert.deepEqual(runs('0 * * * *', '2024-03-10T06:30:00Z', 2, ny), ['2024-03-10T07:00:00.000Z', '2024-03-10T08:00:00.000Z']);
  // Midnight in a zone that is ahead of UTC.
  assert.deepEqual(runs('@daily', '2024-06-01T00:00:00Z', 1, 'Asia/Tokyo'), ['2024-06-01T15:00:00.000Z']);
  assert.equal(formatInZone(new Date('2024-03-11T13:00:00Z'), ny), '2024-03-11T09:00:00-04:00');
  assert.equal(formatInZone(new Date('2024-01-11T14:00:00Z'), ny), '2024-01-11T09:00:00-05:00');
  assert.equal(formatInZone(new Date('2024-01-11T14:00:00Z'), undefined), '2024-01-11T14:00:00Z');
});

test('malformed schedules are errors worded as upstream', () => {
  const message = (spec: string) => {
    try {
      parseSchedule(spec, 'UTC');
    } catch (error) {
      assert.ok(error instanceof ScheduleError);
      return error.message;
    }
    return 'parsed';
  };
  assert.equal(message('* * * *'), 'expected exactly 5 fields, found 4: [* * * *]');
  assert.equal(message('60 * * * *'), 'end of range (60) above maximum (59): 60');
  assert.equal(message('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(message('@fortnightly'), 'unrecognized descriptor: @fortnightly');
  assert.throws(() => parseSchedule('* * * * *', 'Mars/Olympus'), RangeError);
});
