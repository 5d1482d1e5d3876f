/**
 * One terminal: the line editor, the command policy and a command runner put together. It reads
 * keys, and for each entered line refuses it with a reason, handles a builtin (help, clear,
 * history), collects a heredoc, opens the small pod shell, or runs kubectl and streams its output.
 * The transport (a WebSocket) and the runner (real kubectl) are given to it, so tests can drive it
 * with a fake runner.
 */
import { endsHeredoc, heredocText, parseLine, type Heredoc } from './command-line.js';
import { commonPrefix, complete, type CompletionSources } from './completion.js';
import type { CommandRunner, Running } from './kubectl-runner.js';
import { LineEditor } from './line-editor.js';
import { checkKubectl, interactiveExec } from './policy.js';

export interface SessionIO {
  /** Text for the screen (terminal escape sequences included). */
  write(text: string): void;
  /** A line was added to the history (the page keeps it across reloads). */
  remembered(line: string): void;
}

export interface SessionOptions {
  runner: CommandRunner;
  io: SessionIO;
  history?: readonly string[];
  cols?: number;
  /** First lines shown. */
  banner?: string;
  /** The lab's namespace, named in the help. */
  namespace?: string;
}

const TOP_PROMPT = '$ ';
const HEREDOC_PROMPT = '> ';
const SHELL_PROMPT = '/ # ';
const MAX_TYPEAHEAD = 64 * 1024;

const red = (s: string) => `\x1b[31m${s}\x1b[0m`;
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`;

/** \n as the terminal needs it (\r\n), without doubling an \r\n that is there already. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

interface PendingHeredoc {
  heredoc: Heredoc;
  argv: string[];
  streams: boolean;
  lines: string[];
}

export class TerminalSession {
  private readonly editor: LineEditor;
  private running: Running | undefined;
  private completing = false;
  private typeahead = '';
  private heredoc: PendingHeredoc | undefined;
  /** Set while the small shell in a pod is open: the kubectl exec words that reach the pod. */
  private shell: { execArgs: string[]; target: string } | undefined;
  private kindsCache: Promise<string[]> | undefined;
  private closed = false;
  /** The last command output did not end with a newline. */
  private midLine = false;

  constructor(private readonly opts: SessionOptions) {
    this.editor = new LineEditor(opts.history ?? [], opts.cols ?? 80);
  }

  start(): void {
    if (this.opts.banner) this.opts.io.write(crlf(this.opts.banner));
    this.prompt();
  }

  resize(cols: number): void {
    this.editor.resize(cols);
  }

  /** Keys and pasted text from the page. */
  input(data: string): void {
    if (this.closed) return;
    if (this.running || this.completing) {
      const ctrlC = data.indexOf('\x03');
      if (ctrlC >= 0 && this.running) {
        this.typeahead = '';
        this.running.interrupt();
        return;
      }
      if (this.typeahead.length + data.length <= MAX_TYPEAHEAD) this.typeahead += data;
      return;
    }
    let input = data;
    while (input.length > 0) {
      const { output, event, rest } = this.editor.feed(input);
      if (output) this.opts.io.write(output);
      input = rest;
      if (!event) break;
      if (event.kind === 'line') this.entered(event.text);
      else if (event.kind === 'interrupt') this.interrupted();
      else if (event.kind === 'eof') this.endOfInput();
      else void this.tab(event.before);
      // A command started (or a completion is being looked up): the rest of the input waits for it.
      if (this.running || this.completing) {
        this.typeahead = input + this.typeahead;
        break;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.running?.interrupt();
    await this.opts.runner.close();
  }

  private prompt(): void {
    // Output that did not end its last line (curl prints a body without a newline) would run
    // into the prompt: start the prompt on a line of its own, as zsh does.
    if (this.midLine) this.opts.io.write('\r\n');
    this.midLine = false;
    const prompt = this.heredoc ? HEREDOC_PROMPT : this.shell ? SHELL_PROMPT : TOP_PROMPT;
    this.opts.io.write(this.editor.start(prompt));
  }

  private say(text: string): void {
    if (this.midLine) this.opts.io.write('\r\n');
    this.midLine = false;
    this.opts.io.write(crlf(text.endsWith('\n') ? text : `${text}\n`));
  }

  private refuse(message: string): void {
    this.say(red(`kubelab: ${message}`));
  }

  private interrupted(): void {
    if (this.heredoc) this.heredoc = undefined;
    this.prompt();
  }

  private endOfInput(): void {
    if (this.heredoc) {
      // A shell warns and runs with what it has.
      const pending = this.heredoc;
      this.heredoc = undefined;
      this.say(
        dim(`kubelab: the heredoc ended without ${pending.heredoc.delimiter}; running with what was typed`),
      );
      this.execute(pending.argv, pending.streams, heredocText(pending.heredoc, pending.lines));
      return;
    }
    if (this.shell) {
      this.say('exit');
      this.leaveShell();
    }
  }

  private leaveShell(): void {
    this.shell = undefined;
    this.prompt();
  }

  private entered(text: string): void {
    if (this.heredoc) {
      const pending = this.heredoc;
      if (!endsHeredoc(pending.heredoc, text)) {
        pending.lines.push(text);
        return this.prompt();
      }
      this.heredoc = undefined;
      return this.execute(pending.argv, pending.streams, heredocText(pending.heredoc, pending.lines));
    }
    if (this.editor.remember(text)) this.opts.io.remembered(text);
    const parsed = parseLine(text);
    if (parsed.kind === 'empty') return this.prompt();
    if (parsed.kind === 'refused') {
      this.refuse(parsed.message);
      return this.prompt();
    }
    if (this.shell) return this.inShell(parsed.words, parsed.heredoc !== undefined);
    const [program, ...args] = parsed.words;
    switch (program) {
      case 'kubectl':
      case 'k':
        return this.kubectl(args, parsed.heredoc);
      case 'help':
        this.say(helpText(this.opts.namespace));
        return this.prompt();
      case 'clear':
        this.opts.io.write('\x1b[H\x1b[2J\x1b[3J');
        return this.prompt();
      case 'history':
        this.say(
          this.editor.entries.map((e, i) => `${String(i + 1).padStart(5)}  ${e}`).join('\n') || '(empty)',
        );
        return this.prompt();
      case 'exit':
      case 'logout':
        this.say('This terminal stays open with the page; Reset the lab to start over.');
        return this.prompt();
      default:
        this.refuse(
          `${program}: only kubectl (or its alias k) runs here, plus help, clear and history. To run ${program} in a pod: kubectl exec -it POD -- sh`,
        );
        return this.prompt();
    }
  }

  private kubectl(args: string[], heredoc: Heredoc | undefined): void {
    const interactive = interactiveExec(args);
    if (interactive && 'shell' in interactive) {
      const verdict = checkKubectl(interactive.shell.execArgs);
      if (!verdict.ok) {
        this.refuse(verdict.message);
        return this.prompt();
      }
      if (heredoc) {
        this.refuse('a heredoc cannot go into an interactive shell: type the commands at its prompt');
        return this.prompt();
      }
      this.shell = interactive.shell;
      this.say(
        dim(
          `kubelab: a small shell in ${interactive.shell.target}: curl, wget, nc, nslookup, dig, cat /etc/resolv.conf, hostname, env; exit (or Ctrl-D) to leave. Each line runs as kubectl exec ... -- LINE.`,
        ),
      );
      return this.prompt();
    }
    const argv = interactive && 'plain' in interactive ? interactive.plain : args;
    const verdict = checkKubectl(argv);
    if (!verdict.ok) {
      this.refuse(verdict.message);
      return this.prompt();
    }
    if (heredoc) {
      this.heredoc = { heredoc, argv: verdict.argv, streams: verdict.streams, lines: [] };
      return this.prompt();
    }
    this.execute(verdict.argv, verdict.streams, undefined);
  }

  private inShell(words: string[], heredoc: boolean): void {
    const shell = this.shell!;
    const [program] = words;
    if (program === 'exit' || program === 'logout') return this.leaveShell();
    if (program === 'clear') {
      this.opts.io.write('\x1b[H\x1b[2J\x1b[3J');
      return this.prompt();
    }
    if (heredoc) {
      this.refuse('heredocs are not available in the pod shell');
      return this.prompt();
    }
    if (program === 'kubectl' || program === 'k') {
      this.refuse('this is a shell inside the pod: type exit to get back to kubectl');
      return this.prompt();
    }
    this.execute([...shell.execArgs, '--', ...words], false, undefined, true);
  }

  private execute(argv: string[], streams: boolean, stdin: string | undefined, inPod = false): void {
    const running = this.opts.runner.run(argv, {
      streams,
      ...(stdin !== undefined ? { stdin } : {}),
      onOutput: (text) => {
        if (this.closed) return;
        const shown = inPod ? withoutExitNoise(text) : text;
        if (shown === '') return;
        this.opts.io.write(crlf(shown));
        this.midLine = !shown.endsWith('\n');
      },
    });
    this.running = running;
    void running.done.then((outcome) => {
      this.running = undefined;
      if (this.closed) return;
      if (outcome.failedToStart) this.refuse(`kubectl could not start: ${outcome.failedToStart}`);
      else if (outcome.stopped === 'timeout') this.refuse('stopped: the command ran into its time limit');
      else if (outcome.stopped === 'output-limit')
        this.refuse(
          'stopped: the command printed more than this terminal keeps; narrow it (-l, -n, -o name)',
        );
      else if (outcome.stopped === 'interrupted') {
        this.opts.io.write(`${this.midLine ? '\r\n' : ''}^C\r\n`);
        this.midLine = false;
      }
      this.prompt();
      const pending = this.typeahead;
      this.typeahead = '';
      if (pending) this.input(pending);
    });
  }

  private sources(): CompletionSources {
    const capture = (argv: string[]) =>
      new Promise<string>((resolve) => {
        let out = '';
        const r = this.opts.runner.run(argv, { streams: false, onOutput: (t) => (out += t) });
        void r.done.then((o) => resolve(o.exitCode === 0 ? out : ''));
      });
    const lines = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    return {
      kinds: () => {
        this.kindsCache ??= capture(['api-resources', '--no-headers']).then((text) => {
          const names: string[] = [];
          for (const row of lines(text)) {
            const cells = row.split(/\s+/);
            // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND: the name, and short names when present.
            names.push(cells[0]!);
            if (cells.length === 5) names.push(...cells[1]!.split(','));
          }
          return names;
        });
        return this.kindsCache;
      },
      names: async (kind, namespace) =>
        lines(await capture(['get', kind, '-o', 'name', ...(namespace ? ['-n', namespace] : [])])).map((l) =>
          l.slice(l.indexOf('/') + 1),
        ),
    };
  }

  private async tab(before: string): Promise<void> {
    if (this.heredoc) return;
    this.completing = true;
    try {
      const { word, candidates } = await complete(before, this.sources(), this.shell ? 'shell' : 'kubectl');
      if (this.closed) return;
      if (candidates.length === 1) {
        this.opts.io.write(this.editor.insert(`${candidates[0]!.slice(word.length)} `));
      } else if (candidates.length > 1) {
        const prefix = commonPrefix(candidates);
        if (prefix.length > word.length) this.opts.io.write(this.editor.insert(prefix.slice(word.length)));
        else this.opts.io.write(`\r\n${crlf(candidates.join('  '))}\r\n${this.editor.redraw()}`);
      }
    } finally {
      this.completing = false;
    }
    const pending = this.typeahead;
    this.typeahead = '';
    if (pending) this.input(pending);
  }
}

/**
 * kubectl exec says `command terminated with exit code N` when the command in the pod fails; in
 * the pod shell that line is noise the real shell would not print.
 */
function withoutExitNoise(text: string): string {
  return text.replace(/^command terminated with exit code \d+\n?/m, '');
}

export function helpText(namespace: string | undefined): string {
  const ns = namespace ?? 'default';
  return [
    'This terminal runs kubectl (alias k) against your own cluster of this lab. For example:',
    `  kubectl -n ${ns} get pods,svc --show-labels`,
    `  kubectl -n ${ns} exec deploy/backend -- curl -sS --max-time 2 http://db1:1111`,
    `  kubectl -n ${ns} exec -it deploy/backend -- sh       (a small shell in the pod)`,
    `  kubectl apply -f - <<EOF                        (then paste YAML, end with EOF)`,
    `  kubectl -n ${ns} get pods -w                      (Ctrl-C stops it)`,
    'Keys: Up/Down history (kept in this browser), Tab completes, Ctrl-C stops a command,',
    'Ctrl-A/E start/end, Ctrl-U/K/W delete, Ctrl-L clears. Copy: select (Ctrl-Shift-C or Ctrl-C with a selection); paste: Ctrl-V / Ctrl-Shift-V.',
    'Not available: pipes, redirections, ;, &&, variables, other programs, files on the server.',
  ].join('\n');
}
