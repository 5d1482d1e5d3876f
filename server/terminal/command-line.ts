/**
 * One line typed into the terminal, read as a shell would read it, without ever running a shell:
 * words and quotes through shell-quote, a heredoc at the end of the line, and a clear refusal of
 * everything a shell would do besides running one program (pipes, redirections, `;`, `&&`,
 * variables, command substitution). Pure: no I/O.
 */
import { parse } from 'shell-quote';

export interface Heredoc {
  delimiter: string;
  /** `<<-EOF`: leading tabs are stripped from the body lines and the delimiter line. */
  stripTabs: boolean;
}

export type ParsedLine =
  | { kind: 'empty' }
  | { kind: 'refused'; message: string }
  | { kind: 'words'; words: string[]; heredoc?: Heredoc };

const HEREDOC_AT_END = /\s<<(-?)\s*(?:'([^'\s]+)'|"([^"\s]+)"|([A-Za-z_][A-Za-z0-9_.-]*))\s*$/;

export const REFUSALS = {
  pipe: 'pipes (|) are not available: this terminal runs kubectl only, never a shell or other programs. Ask kubectl itself: -l SELECTOR, --field-selector, -o jsonpath=..., -o custom-columns=...',
  redirect:
    'redirections (<, >, >>) are not available: nothing is read from or written to files on the server. To give YAML to kubectl, end the line with a heredoc: kubectl apply -f - <<EOF',
  sequence: 'one command at a time: ;, &&, || and & are not available here',
  subshell:
    'command substitution and subshells ($(...), `...`, ( )) are not available: nothing but kubectl runs here',
  variable:
    "variables ($NAME) are not expanded in this terminal: write the value itself (quote a $ that is meant literally: '$')",
  unterminated: 'the line ends inside a quote: close the quote (\' or ") and press Enter again',
} as const;

/**
 * Scans quoting the way a POSIX shell does, for what shell-quote lets through silently: an
 * unterminated quote, backticks, and `$` expansions outside single quotes.
 */
function prescan(line: string): string | undefined {
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '`') return REFUSALS.subshell;
    if (c === '$') {
      const next = line[i + 1] ?? '';
      if (next === '(') return REFUSALS.subshell;
      if (/[A-Za-z_{0-9?#@*!$-]/.test(next)) return REFUSALS.variable;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
  }
  return quote ? REFUSALS.unterminated : undefined;
}

function opRefusal(op: string): string {
  if (op === '|' || op === '|&') return REFUSALS.pipe;
  if (op === '(' || op === ')' || op === '<(') return REFUSALS.subshell;
  if (op.includes('<') || op.includes('>')) return REFUSALS.redirect;
  return REFUSALS.sequence;
}

export function parseLine(line: string): ParsedLine {
  let text = line;
  let heredoc: Heredoc | undefined;
  const here = HEREDOC_AT_END.exec(` ${text}`);
  if (here) {
    heredoc = { delimiter: here[2] ?? here[3] ?? here[4] ?? 'EOF', stripTabs: here[1] === '-' };
    text = ` ${text}`.slice(0, here.index);
  }
  const problem = prescan(text);
  if (problem) return { kind: 'refused', message: problem };
  const words: string[] = [];
  // Variables were refused above; one that slips through comes back as an object and is refused.
  for (const token of parse(text, (name) => ({ variable: name }) as unknown as string)) {
    if (typeof token === 'string') {
      words.push(token);
      continue;
    }
    if ('comment' in token) break;
    if ('op' in token) {
      // An unquoted * or ? stays itself, as in a shell where nothing matches it.
      if (token.op === 'glob') {
        words.push((token as { pattern: string }).pattern);
        continue;
      }
      return { kind: 'refused', message: opRefusal(token.op) };
    }
    return { kind: 'refused', message: REFUSALS.variable };
  }
  if (words.length === 0) {
    return heredoc
      ? { kind: 'refused', message: 'a heredoc needs a command before it: kubectl apply -f - <<EOF' }
      : { kind: 'empty' };
  }
  return heredoc ? { kind: 'words', words, heredoc } : { kind: 'words', words };
}

/** Is this heredoc body line the end of the heredoc? */
export function endsHeredoc(heredoc: Heredoc, line: string): boolean {
  return (heredoc.stripTabs ? line.replace(/^\t+/, '') : line) === heredoc.delimiter;
}

/** The stdin a collected heredoc gives (each line with its newline, as a shell gives it). */
export function heredocText(heredoc: Heredoc, lines: readonly string[]): string {
  return lines.map((l) => `${heredoc.stripTabs ? l.replace(/^\t+/, '') : l}\n`).join('');
}
