/**
 * Waiting with a deadline. Every wait in the real-cluster path goes through here, with the clock
 * injected, so tests can replay minutes of polling in microseconds.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock whose sleep advances time at once: for tests of polling loops. */
export function fakeClock(start = 0): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface PollState<T> {
  done: boolean;
  value: T;
}

/**
 * Calls `check` until it reports done or the deadline passes; returns the last state either way
 * (the caller decides what a timeout means). `onAttempt` sees every intermediate state.
 */
export async function pollUntil<T>(
  check: () => Promise<PollState<T>>,
  opts: {
    timeoutMs: number;
    intervalMs: number;
    clock?: Clock;
    onAttempt?: (state: PollState<T>, elapsedMs: number) => void;
    /** Stops the loop after the current attempt (its state is returned, not done). */
    signal?: AbortSignal;
  },
): Promise<PollState<T> & { elapsedMs: number; attempts: number }> {
  const clock = opts.clock ?? systemClock;
  const start = clock.now();
  let attempts = 0;
  for (;;) {
    attempts++;
    const state = await check();
    const elapsedMs = clock.now() - start;
    opts.onAttempt?.(state, elapsedMs);
    if (state.done || elapsedMs >= opts.timeoutMs || opts.signal?.aborted)
      return { ...state, elapsedMs, attempts };
    await clock.sleep(Math.min(opts.intervalMs, Math.max(0, opts.timeoutMs - elapsedMs)));
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}
