/** A Runner that replays recorded output, and remembers every command it was asked to run. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner, RunOptions, RunResult } from '../../../server/cluster/runner.js';

export const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'kind', name), 'utf8');

export interface Reply {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  notFound?: boolean;
  timedOut?: boolean;
  /** Runs until RunOptions.signal is aborted (a long download), then reports itself canceled. */
  hang?: boolean;
}

export interface RecordedCall {
  argv: string[];
  opts: RunOptions;
}

/**
 * `script` maps a command prefix ("kind create cluster") to replies, used in order (the last one
 * repeats). Unknown commands fail the test loudly rather than guessing.
 */
export class FakeRunner implements Runner {
  readonly calls: RecordedCall[] = [];
  /** Commands stopped through their abort signal. */
  readonly canceled: string[] = [];
  private readonly used = new Map<string, number>();

  constructor(private readonly script: Record<string, Reply | Reply[]>) {}

  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv, opts });
    const cmd = argv.join(' ');
    const key = Object.keys(this.script)
      .filter((k) => cmd === k || cmd.startsWith(`${k} `))
      .sort((a, b) => b.length - a.length)[0];
    if (key === undefined) throw new Error(`FakeRunner: unexpected command: ${cmd}`);
    const replies = ([] as Reply[]).concat(this.script[key]!);
    const n = this.used.get(key) ?? 0;
    this.used.set(key, n + 1);
    const reply = replies[Math.min(n, replies.length - 1)]!;
    if (reply.hang) {
      await new Promise<void>((resolve) => {
        if (opts.signal?.aborted) resolve();
        opts.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      this.canceled.push(cmd);
      return {
        argv,
        exitCode: undefined,
        stdout: '',
        stderr: '',
        notFound: false,
        timedOut: false,
        canceled: true,
      };
    }
    const stderr = reply.stderr ?? '';
    if (opts.onStderrLine)
      for (const line of stderr.split('\n').filter((l, i, all) => l.length > 0 || i < all.length - 1))
        opts.onStderrLine(line);
    return {
      argv,
      exitCode: reply.notFound ? undefined : (reply.exitCode ?? 0),
      stdout: reply.stdout ?? '',
      stderr,
      notFound: reply.notFound ?? false,
      timedOut: reply.timedOut ?? false,
    };
  }

  commands(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}
