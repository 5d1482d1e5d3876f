/** The CLI's window on the world, injected so tests can run commands in-process and read output. */
export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Reads all of stdin (for `-` inputs). */
  readStdin(): Promise<string>;
  /** Commands set this for a non-zero exit without an error (e.g. a failed check = 1). */
  exitCode?: number;
  /** Whether stdout is a terminal (progress lines, colours). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Ctrl-C, for commands that must clean up what they made in a cluster (see interrupt.ts). */
  interrupts?: InterruptSource;
}

export interface InterruptSource {
  /** Calls `onInterrupt` on the first Ctrl-C while listening; returns "stop listening". */
  listen(onInterrupt: () => void): () => void;
}

/**
 * SIGINT for the duration of a command. The first Ctrl-C is handed to the command (which deletes
 * what it made and ends); a second one quits at once, as Ctrl-C does everywhere else.
 */
export function processInterrupts(): InterruptSource {
  return {
    listen(onInterrupt) {
      const forceQuit = () => process.exit(130);
      const first = () => {
        process.once('SIGINT', forceQuit);
        onInterrupt();
      };
      process.once('SIGINT', first);
      return () => {
        process.off('SIGINT', first);
        process.off('SIGINT', forceQuit);
      };
    },
  };
}

export function processIO(): CliIO {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
    interrupts: processInterrupts(),
  };
}

/** An in-memory CliIO for tests. */
export function memoryIO(opts: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliIO & {
  out: string[];
  err: string[];
  stdoutText(): string;
  stderrText(): string;
} {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    readStdin: async () => opts.stdin ?? '',
    isTTY: false,
    env: opts.env ?? {},
    cwd: opts.cwd ?? process.cwd(),
    stdoutText: () => out.join(''),
    stderrText: () => err.join(''),
  };
}
