/**
 * Runs the real kubectl for one terminal: argv only (execa, never a shell), an environment that
 * holds nothing but this learner's kubeconfig, a temporary HOME and an empty PATH (so kubectl finds
 * no plugins and no other programs), a time limit, an output cap, and Ctrl-C as SIGINT then
 * SIGKILL. The kubeconfig and HOME live in a private temporary folder removed when the terminal
 * closes.
 */
import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RunLimits {
  /** A command that does not stream is stopped after this long. */
  timeoutMs: number;
  /** `-w`, `logs -f`: stopped after this long (Ctrl-C stops them sooner). */
  streamTimeoutMs: number;
  /** Output beyond this many bytes (stdout and stderr together) stops the command. */
  maxOutputBytes: number;
  /** Between SIGINT and SIGKILL. */
  killGraceMs: number;
}

export const DEFAULT_RUN_LIMITS: RunLimits = {
  timeoutMs: 60_000,
  streamTimeoutMs: 30 * 60_000,
  maxOutputBytes: 2 * 1024 * 1024,
  killGraceMs: 2_000,
};

export interface RunOptions {
  stdin?: string;
  streams: boolean;
  onOutput(text: string): void;
}

export interface RunOutcome {
  exitCode: number | undefined;
  /** Why kubelab stopped it, if it did. */
  stopped?: 'interrupted' | 'timeout' | 'output-limit';
  /** The program could not start at all (message). */
  failedToStart?: string;
}

export interface Running {
  interrupt(): void;
  done: Promise<RunOutcome>;
}

export interface CommandRunner {
  run(argv: readonly string[], opts: RunOptions): Running;
  close(): Promise<void>;
}

/** Where kubectl is: KUBELAB_KUBECTL, else the first `kubectl` on PATH; undefined when none. */
export function findKubectl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.KUBELAB_KUBECTL
    ? [env.KUBELAB_KUBECTL]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, 'kubectl'));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A runner for one terminal, with its own kubeconfig file and HOME. */
export async function kubectlRunner(opts: {
  kubectl: string;
  kubeconfig: string;
  limits?: Partial<RunLimits>;
}): Promise<CommandRunner> {
  const limits = { ...DEFAULT_RUN_LIMITS, ...opts.limits };
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-terminal-'));
  await chmod(dir, 0o700);
  const home = join(dir, 'home');
  await mkdir(home, { mode: 0o700 });
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, opts.kubeconfig, { mode: 0o600 });
  const env = {
    KUBECONFIG: kubeconfig,
    HOME: home,
    PATH: '',
    // kubectl 1.33+ reads preferences (aliases, default flags) from ~/.kube/kuberc: not here.
    KUBECTL_KUBERC: 'false',
    LANG: 'C.UTF-8',
  };
  const running = new Set<Running>();
  return {
    run(argv, runOpts) {
      const child = execa(opts.kubectl, [...argv], {
        env,
        extendEnv: false,
        shell: false,
        reject: false,
        buffer: false,
        cwd: home,
        stdin: runOpts.stdin === undefined ? 'ignore' : 'pipe',
        stdout: 'pipe',
        stderr: 'pipe',
        ...(runOpts.stdin !== undefined ? { input: runOpts.stdin } : {}),
      });
      let stopped: RunOutcome['stopped'];
      let bytes = 0;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: NonNullable<RunOutcome['stopped']>) => {
        if (stopped) return;
        stopped = why;
        child.kill('SIGINT');
        killTimer = setTimeout(() => child.kill('SIGKILL'), limits.killGraceMs);
      };
      const onData = (chunk: Buffer) => {
        if (stopped === 'output-limit') return;
        bytes += chunk.length;
        if (bytes > limits.maxOutputBytes) {
          runOpts.onOutput(
            chunk.subarray(0, Math.max(0, chunk.length - (bytes - limits.maxOutputBytes))).toString('utf8'),
          );
          stop('output-limit');
          return;
        }
        runOpts.onOutput(chunk.toString('utf8'));
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      const timer = setTimeout(
        () => stop('timeout'),
        runOpts.streams ? limits.streamTimeoutMs : limits.timeoutMs,
      );
      const handle: Running = {
        interrupt: () => stop('interrupted'),
        done: child.then((r) => {
          clearTimeout(timer);
          clearTimeout(killTimer);
          running.delete(handle);
          const failedToStart = r.failed && r.exitCode === undefined && !stopped ? r.shortMessage : undefined;
          return {
            exitCode: r.exitCode,
            ...(stopped ? { stopped } : {}),
            ...(failedToStart ? { failedToStart } : {}),
          };
        }),
      };
      running.add(handle);
      return handle;
    },
    async close() {
      for (const r of running) r.interrupt();
      await Promise.allSettled([...running].map((r) => r.done));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
