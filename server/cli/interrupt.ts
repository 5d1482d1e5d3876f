/**
 * Ctrl-C during a command that creates things in a cluster (the enforcement canary's namespace,
 * image pulls): the command gets an AbortSignal, cleans up, and ends with exit code 130.
 */
import type { CliIO } from './io.js';

export async function interruptible<T>(io: CliIO, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stopListening = io.interrupts?.listen(() => {
    io.stderr('\nInterrupted: cleaning up (Ctrl-C again quits at once, leaving it for the next run).\n');
    controller.abort();
  });
  try {
    return await run(controller.signal);
  } finally {
    stopListening?.();
  }
}
