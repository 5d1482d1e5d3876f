import { describe, expect, it } from 'vitest';
import { LineEditor } from '../../server/terminal/line-editor.js';

/** Feeds input until it is all read, collecting the events. */
function feedAll(editor: LineEditor, data: string) {
  const events = [];
  let output = '';
  let rest = data;
  while (rest.length > 0) {
    const r = editor.feed(rest);
    output += r.output;
    if (r.event) events.push(r.event);
    if (r.rest === rest) break;
    rest = r.rest;
  }
  return { events, output };
}

describe('LineEditor', () => {
  it('echoes typed text and reports the line on Enter', () => {
    const e = new LineEditor();
    e.start('$ ');
    expect(feedAll(e, 'kubectl get pods\r')).toEqual({
      events: [{ kind: 'line', text: 'kubectl get pods' }],
      output: 'kubectl get pods\r\n',
    });
  });

  it('edits in the middle: arrows, backspace, delete, Ctrl-A/E/U/K/W', () => {
    const e = new LineEditor();
    e.start('$ ');
    feedAll(e, 'kubectl get pod');
    feedAll(e, '\x1b[D\x1b[D\x1b[Dx'); // left three times, insert
    expect(e.line).toBe('kubectl get xpod');
    feedAll(e, '\x7f');
    expect(e.line).toBe('kubectl get pod');
    feedAll(e, '\x01\x1b[3~');
    expect(e.line).toBe('ubectl get pod');
    feedAll(e, '\x05\x17');
    expect(e.line).toBe('ubectl get ');
    feedAll(e, '\x01\x0b');
    expect(e.line).toBe('');
    feedAll(e, 'abc\x15');
    expect(e.line).toBe('');
  });

  it('walks the history with up and down, keeping the line being typed', () => {
    const e = new LineEditor(['one', 'two']);
    e.start('$ ');
    feedAll(e, 'dra');
    feedAll(e, '\x1b[A');
    expect(e.line).toBe('two');
    feedAll(e, '\x1b[A\x1b[A');
    expect(e.line).toBe('one');
    feedAll(e, '\x1b[B\x1b[B');
    expect(e.line).toBe('dra');
  });

  it('remembers lines, not blanks, repeats or lines starting with a space, at most 500', () => {
    const e = new LineEditor();
    expect(e.remember('a')).toBe(true);
    expect(e.remember('a')).toBe(false);
    expect(e.remember('   ')).toBe(false);
    expect(e.remember(' secret')).toBe(false);
    for (let i = 0; i < 600; i++) e.remember(`cmd ${i}`);
    expect(e.entries).toHaveLength(500);
    expect(e.entries.at(-1)).toBe('cmd 599');
  });

  it('stops at the first event and hands back the rest (a pasted heredoc, CRLF as one line end)', () => {
    const e = new LineEditor();
    e.start('$ ');
    const first = e.feed('kubectl apply -f - <<EOF\r\napiVersion: v1\r\nEOF\r\n');
    expect(first.event).toEqual({ kind: 'line', text: 'kubectl apply -f - <<EOF' });
    expect(first.rest).toBe('\napiVersion: v1\r\nEOF\r\n');
    const { events } = feedAll(e, first.rest);
    expect(events).toEqual([
      { kind: 'line', text: 'apiVersion: v1' },
      { kind: 'line', text: 'EOF' },
    ]);
  });

  it('reports Tab with the text before the cursor, Ctrl-C and Ctrl-D on an empty line', () => {
    const e = new LineEditor();
    e.start('$ ');
    expect(feedAll(e, 'k get po\t').events).toEqual([{ kind: 'tab', before: 'k get po' }]);
    expect(feedAll(e, '\x03').events).toEqual([{ kind: 'interrupt' }]);
    expect(e.line).toBe('');
    expect(feedAll(e, '\x04').events).toEqual([{ kind: 'eof' }]);
  });

  it('waits for the rest of an escape sequence split across messages', () => {
    const e = new LineEditor(['prev']);
    e.start('$ ');
    feedAll(e, '\x1b[');
    expect(e.line).toBe('');
    feedAll(e, 'A');
    expect(e.line).toBe('prev');
  });

  it('moves the cursor across wrapped rows when the line is longer than the screen', () => {
    const e = new LineEditor([], 10);
    e.start('$ ');
    feedAll(e, 'abcdefghijklmnop'); // 2 + 16 characters: two rows of 10
    const { output } = feedAll(e, '\x01'); // to the start: one row up, column 2
    expect(output).toBe('\x1b[1A\r\x1b[2C');
    const end = feedAll(e, '\x05').output;
    expect(end).toBe('\x1b[1B\r\x1b[8C');
  });
});
