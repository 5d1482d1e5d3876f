/**
 * The line discipline of the terminal: what a shell's readline does with keys, without a shell.
 * It takes the bytes xterm.js sends (typed keys, pasted text, escape sequences for arrows) and
 * returns what to draw plus the events the session acts on (a line entered, Tab, Ctrl-C, Ctrl-D).
 * Pure: no I/O, no timers.
 *
 * Drawing knows the terminal's width so that a line longer than the screen wraps and the cursor
 * still lands where it should (xterm does not move the cursor back across a wrapped line).
 */

export type EditorEvent =
  { kind: 'line'; text: string } | { kind: 'tab'; before: string } | { kind: 'interrupt' } | { kind: 'eof' };

export interface FeedResult {
  output: string;
  /** The first event in the input, if any: feeding stops there. */
  event?: EditorEvent;
  /** Input after the event, not read yet (the session feeds it when it is ready for more). */
  rest: string;
}

export const MAX_HISTORY = 500;
export const MAX_LINE = 8192;

const ESC = '\x1b';
/** CSI (ESC [ ... final), SS3 (ESC O x) or ESC and one character (Alt-b, Alt-f). */
const ESCAPE_SEQUENCE = new RegExp(`^${ESC}(\\[[0-9;]*[A-Za-z~]|O[A-Za-z]|[^[O])`);

export class LineEditor {
  private buffer: string[] = [];
  private cursor = 0;
  private prompt = '';
  private history: string[];
  /** Position in history while browsing with up/down (history.length = the line being typed). */
  private browse: number;
  private draft: string[] = [];
  private pendingEscape = '';
  private lastWasCr = false;

  constructor(
    history: readonly string[] = [],
    private cols = 80,
  ) {
    this.history = history.slice(-MAX_HISTORY);
    this.browse = this.history.length;
  }

  get line(): string {
    return this.buffer.join('');
  }

  get entries(): readonly string[] {
    return this.history;
  }

  resize(cols: number): void {
    if (Number.isInteger(cols) && cols >= 10 && cols <= 1000) this.cols = cols;
  }

  /** Starts a new line after `prompt` (which must be plain text: its length is its width). */
  start(prompt: string, initial = ''): string {
    this.prompt = prompt;
    this.buffer = [...initial];
    this.cursor = this.buffer.length;
    this.browse = this.history.length;
    return prompt + this.wrapFix(this.prompt.length + this.buffer.length, initial);
  }

  /** Remembers an entered line (not blank, not a repeat of the last, not starting with a space). */
  remember(text: string): boolean {
    if (!text.trim() || text.startsWith(' ') || this.history.at(-1) === text) return false;
    this.history.push(text);
    if (this.history.length > MAX_HISTORY) this.history.splice(0, this.history.length - MAX_HISTORY);
    this.browse = this.history.length;
    return true;
  }

  /** Inserts text at the cursor (a completion). */
  insert(text: string): string {
    return this.replace(
      [...this.buffer.slice(0, this.cursor), ...text, ...this.buffer.slice(this.cursor)],
      this.cursor + [...text].length,
    );
  }

  /** Draws the prompt and the line again (after something was printed above it). */
  redraw(): string {
    return (
      this.prompt +
      this.line +
      this.wrapFix(this.prompt.length + this.buffer.length, this.line) +
      this.move(this.buffer.length, this.cursor)
    );
  }

  feed(data: string): FeedResult {
    let output = '';
    let event: EditorEvent | undefined;
    let input = this.pendingEscape + data;
    this.pendingEscape = '';
    while (input.length > 0 && !event) {
      if (input[0] === ESC) {
        const seq = ESCAPE_SEQUENCE.exec(input);
        if (!seq) {
          // An escape sequence split across two messages: wait for the rest.
          if (input.length < 8) this.pendingEscape = input;
          break;
        }
        output += this.escape(seq[0]);
        input = input.slice(seq[0].length);
        continue;
      }
      const ch = String.fromCodePoint(input.codePointAt(0)!);
      input = input.slice(ch.length);
      const wasCr = this.lastWasCr;
      this.lastWasCr = ch === '\r';
      switch (ch) {
        case '\r':
        case '\n': {
          // A pasted CRLF is one line end, not two.
          if (ch === '\n' && wasCr) break;
          const text = this.line;
          output += this.move(this.cursor, this.buffer.length) + '\r\n';
          this.buffer = [];
          this.cursor = 0;
          event = { kind: 'line', text };
          break;
        }
        case '\t':
          event = { kind: 'tab', before: this.buffer.slice(0, this.cursor).join('') };
          break;
        case '\x03':
          output += this.move(this.cursor, this.buffer.length) + '^C\r\n';
          this.buffer = [];
          this.cursor = 0;
          event = { kind: 'interrupt' };
          break;
        case '\x04':
          if (this.buffer.length === 0) event = { kind: 'eof' };
          else
            output += this.replace(
              this.buffer.filter((_, i) => i !== this.cursor),
              this.cursor,
            );
          break;
        case '\x7f':
        case '\b':
          if (this.cursor > 0)
            output += this.replace(
              this.buffer.filter((_, i) => i !== this.cursor - 1),
              this.cursor - 1,
            );
          break;
        case '\x01':
          output += this.moveTo(0);
          break;
        case '\x05':
          output += this.moveTo(this.buffer.length);
          break;
        case '\x02':
          output += this.moveTo(this.cursor - 1);
          break;
        case '\x06':
          output += this.moveTo(this.cursor + 1);
          break;
        case '\x15': // Ctrl-U: delete to the start
          output += this.replace(this.buffer.slice(this.cursor), 0);
          break;
        case '\x0b': // Ctrl-K: delete to the end
          output += this.replace(this.buffer.slice(0, this.cursor), this.cursor);
          break;
        case '\x17': {
          // Ctrl-W: delete the word before the cursor
          let start = this.cursor;
          while (start > 0 && this.buffer[start - 1] === ' ') start--;
          while (start > 0 && this.buffer[start - 1] !== ' ') start--;
          output += this.replace([...this.buffer.slice(0, start), ...this.buffer.slice(this.cursor)], start);
          break;
        }
        case '\x0c': // Ctrl-L: clear the screen
          output += `${ESC}[H${ESC}[2J` + this.redraw();
          break;
        case '\x10':
          output += this.historyStep(-1);
          break;
        case '\x0e':
          output += this.historyStep(1);
          break;
        default:
          if (ch < ' ' || ch === '\x7f') break;
          if (this.buffer.length >= MAX_LINE) break;
          if (this.cursor === this.buffer.length && !this.wraps(this.buffer.length + 1)) {
            // The common case, typing at the end: echo the character alone.
            this.buffer.push(ch);
            this.cursor++;
            output += ch;
          } else {
            output += this.insert(ch);
          }
      }
    }
    return { output, ...(event ? { event } : {}), rest: input };
  }

  private escape(seq: string): string {
    switch (seq) {
      case `${ESC}[A`:
      case `${ESC}OA`:
        return this.historyStep(-1);
      case `${ESC}[B`:
      case `${ESC}OB`:
        return this.historyStep(1);
      case `${ESC}[C`:
      case `${ESC}OC`:
        return this.moveTo(this.cursor + 1);
      case `${ESC}[D`:
      case `${ESC}OD`:
        return this.moveTo(this.cursor - 1);
      case `${ESC}[H`:
      case `${ESC}OH`:
      case `${ESC}[1~`:
        return this.moveTo(0);
      case `${ESC}[F`:
      case `${ESC}OF`:
      case `${ESC}[4~`:
        return this.moveTo(this.buffer.length);
      case `${ESC}[3~`:
        return this.cursor < this.buffer.length
          ? this.replace(
              this.buffer.filter((_, i) => i !== this.cursor),
              this.cursor,
            )
          : '';
      case `${ESC}[1;5D`:
      case `${ESC}b`:
        return this.moveTo(this.wordStart());
      case `${ESC}[1;5C`:
      case `${ESC}f`:
        return this.moveTo(this.wordEnd());
      default:
        return '';
    }
  }

  private wordStart(): number {
    let i = this.cursor;
    while (i > 0 && this.buffer[i - 1] === ' ') i--;
    while (i > 0 && this.buffer[i - 1] !== ' ') i--;
    return i;
  }

  private wordEnd(): number {
    let i = this.cursor;
    while (i < this.buffer.length && this.buffer[i] === ' ') i++;
    while (i < this.buffer.length && this.buffer[i] !== ' ') i++;
    return i;
  }

  private historyStep(delta: number): string {
    const to = this.browse + delta;
    if (to < 0 || to > this.history.length) return '';
    if (this.browse === this.history.length) this.draft = [...this.buffer];
    this.browse = to;
    const text = to === this.history.length ? this.draft : [...this.history[to]!];
    return this.replace(text, text.length);
  }

  /** Does a line of `length` characters (after the prompt) end exactly at a screen edge? */
  private wraps(length: number): boolean {
    return (this.prompt.length + length) % this.cols === 0;
  }

  /** After text that ends exactly at the right edge, move to the next row as the cursor math assumes. */
  private wrapFix(endColumn: number, text: string): string {
    return text.length > 0 && endColumn % this.cols === 0 ? ' \r' : '';
  }

  private moveTo(to: number): string {
    const clamped = Math.max(0, Math.min(this.buffer.length, to));
    const out = this.move(this.cursor, clamped);
    this.cursor = clamped;
    return out;
  }

  /** Cursor movement from one position in the line to another, across wrapped rows. */
  private move(from: number, to: number): string {
    if (from === to) return '';
    const p = this.prompt.length;
    const r0 = Math.floor((p + from) / this.cols);
    const [r1, c1] = [Math.floor((p + to) / this.cols), (p + to) % this.cols];
    let out = '';
    if (r1 < r0) out += `${ESC}[${r0 - r1}A`;
    if (r1 > r0) out += `${ESC}[${r1 - r0}B`;
    out += '\r';
    if (c1 > 0) out += `${ESC}[${c1}C`;
    return out;
  }

  /** Replaces the whole line and puts the cursor at `cursor`: redraws from the line's start. */
  private replace(chars: string[], cursor: number): string {
    let out = this.move(this.cursor, 0);
    this.buffer = chars.slice(0, MAX_LINE);
    this.cursor = Math.max(0, Math.min(cursor, this.buffer.length));
    const text = this.buffer.join('');
    out += text + this.wrapFix(this.prompt.length + this.buffer.length, text) + `${ESC}[J`;
    return out + this.move(this.buffer.length, this.cursor);
  }
}
