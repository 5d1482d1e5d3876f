/**
 * Virtual time for tests of code that takes `now` and `sleep` (the grader's GradeOptions, a fake
 * cluster's round trips and probe timeouts). A sleep registers a timer; `run` drives the work and,
 * each time everything that can run without time passing has run, moves the clock to the earliest
 * timer and wakes it (timers due at the same instant wake together, in the order they were set).
 * Elapsed time is then exact and costs no real waiting, so a test can state what should take one
 * probe timeout, and it fails the same way every time if the work takes two.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

export class VirtualClock {
  private time = 0;
  private seq = 0;
  private timers: Timer[] = [];

  readonly now = (): number => this.time;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.timers.push({ at: this.time + Math.max(0, ms), seq: this.seq++, wake });
    });

  /** Runs `work` to its end, letting virtual time pass whenever it waits only on this clock. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    let finished = false;
    const result = work().finally(() => {
      finished = true;
    });
    // Observed here so that a rejection is not reported as unhandled while the loop still runs.
    result.catch(() => undefined);
    while (!finished) {
      await quiet();
      if (finished) break;
      if (this.timers.length === 0) {
        // Waiting on something other than this clock (a file being read): give it real time.
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const at = this.timers[0]!.at;
      this.time = at;
      const due = this.timers.filter((t) => t.at === at);
      this.timers = this.timers.filter((t) => t.at !== at);
      for (const t of due) t.wake();
    }
    return result;
  }
}

/**
 * Resolves once the promise chains started so far have run as far as they can: a turn of the
 * event loop runs every pending microtask first, and file reads still in flight are waited for
 * (they would otherwise let time pass under work that is about to continue).
 */
async function quiet(): Promise<void> {
  do await nextTurn();
  while (process.getActiveResourcesInfo().some((r) => r.startsWith('FSReq')));
}
