/**
 * The one door through which kubelab starts local programs (docker, kind). Provisioning code only
 * sees the `Runner` interface, so tests replay recorded kind/docker output through a fake and the
 * real implementation stays a thin wrapper around execa.
 */
import { execa } from 'execa';

export interface RunOptions {
  /** Text written to the program's stdin (then closed). Without it stdin is not connected. */
  stdin?: string;
  /** Kill the program (SIGTERM, then SIGKILL) after this long. */
  timeoutMs?: number;
  /** Called for every stderr line as it arrives (kind reports its progress there). */
  onStderrLine?: (line: string) => void;
  /** Stops the program (SIGTERM) when aborted: work nobody waits for any more must not go on. */
  signal?: AbortSignal;
}

export interface RunResult {
  argv: string[];
  /** undefined when the program never started or was killed. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The program is not installed (not on PATH). */
  notFound: boolean;
  timedOut: boolean;
  /** Stopped through RunOptions.signal. */
  canceled?: boolean;
  /** Why it could not be started, when that is neither "not found" nor a timeout. */
  startError?: string;
}

export interface Runner {
  /** Never throws for a failing program: the caller decides what a failure means. */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
}

export const succeeded = (r: RunResult): boolean => r.exitCode === 0 && !r.timedOut && !r.notFound;

/**
 * The real runner. `env` is the complete environment of the child (not merged with this
 * process's), so the CLI's injected environment is what docker and kind see (DOCKER_HOST, PATH...).
 */
export function execaRunner(env: NodeJS.ProcessEnv = process.env): Runner {
  return {
    async run(argv, opts = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('execaRunner: empty argv');
      const subprocess = execa(file, args, {
        ...(opts.stdin !== undefined ? { input: opts.stdin } : { stdin: 'ignore' as const }),
        ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
        ...(opts.signal ? { cancelSignal: opts.signal } : {}),
        env,
        extendEnv: false,
        reject: false,
        stripFinalNewline: false,
      });
      if (opts.onStderrLine) {
        try {
          for await (const line of subprocess.iterable({ from: 'stderr' })) opts.onStderrLine(line);
        } catch {
          // The program failed to start or was killed; the result below says how.
        }
      }
      const result = await subprocess;
      const code = (result as { code?: string }).code;
      const notFound = code === 'ENOENT';
      const out: RunResult = {
        argv,
        exitCode: result.exitCode,
        stdout: typeof result.stdout === 'string' ? result.stdout : '',
        stderr: typeof result.stderr === 'string' ? result.stderr : '',
        notFound,
        timedOut: result.timedOut,
        ...(result.isCanceled ? { canceled: true } : {}),
      };
      if (
        result.failed &&
        result.exitCode === undefined &&
        !notFound &&
        !result.timedOut &&
        !result.isCanceled
      ) {
        out.startError = result.shortMessage;
      }
      return out;
    },
  };
}

/** A short description of a failed run for error messages: the program's own last words. */
export function describeFailure(r: RunResult): string {
  if (r.notFound) return `${r.argv[0]} is not installed (not found on PATH)`;
  if (r.timedOut) return `\`${r.argv.join(' ')}\` did not finish in time`;
  if (r.canceled) return `\`${r.argv.join(' ')}\` was stopped`;
  if (r.startError) return r.startError;
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-6).join('\n');
  return `\`${r.argv.join(' ')}\` exited with ${r.exitCode}${text ? `: ${text}` : ''}`;
}
