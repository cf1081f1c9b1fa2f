/**
 * The clock the batch controllers read and set timers on, injected so tests can move time
 * (client-go's `clock.WithTicker`, in small). The system clock is the default.
 */

/** Reads the time and runs a function later. */
export interface Clock {
  now(): Date;
  /** Runs `fn` once after `ms` of this clock's time; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** setTimeout's longest delay; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The machine's clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  after(ms, fn) {
    const due = Date.now() + Math.max(0, ms);
    let timer: NodeJS.Timeout;
    // A wait of months (a yearly schedule) is longer than one setTimeout can take.
    const arm = () => {
      const left = due - Date.now();
      timer = setTimeout(left > MAX_TIMER_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMER_MS));
      timer.unref?.();
    };
    arm();
    return () => clearTimeout(timer);
  },
};
