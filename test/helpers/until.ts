/** Polling until a condition holds, for whole-cluster tests. */

/**
 * Calls `fn` every 150 ms until it returns a value other than `undefined` or `false`, and
 * returns that value; errors thrown meanwhile count as "not yet". After `timeoutMs` it throws,
 * naming `what` and the last error.
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * Calls `fn` until `ready` holds for its value (every 150 ms, `timeoutMs` at most) and returns
 * the last value either way, so the caller's own asserts say what is missing. For what is
 * written a moment after the state a test waited for: the kubelet's events, for one.
 */
export async function settled<T>(fn: () => Promise<T>, ready: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ready(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 150));
  }
}
