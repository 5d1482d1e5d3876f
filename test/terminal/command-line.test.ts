import { describe, expect, it } from 'vitest';
import { endsHeredoc, heredocText, parseLine, REFUSALS } from '../../server/terminal/command-line.js';

describe('parseLine', () => {
  it('splits words with quotes as a shell does', () => {
    expect(parseLine(`kubectl get pods -o jsonpath='{.items[*].metadata.name}'`)).toEqual({
      kind: 'words',
      words: ['kubectl', 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}'],
    });
    expect(parseLine('k get po -l "app in (db1,db2)"')).toMatchObject({
      words: ['k', 'get', 'po', '-l', 'app in (db1,db2)'],
    });
    expect(parseLine('kubectl get pods # a comment')).toMatchObject({ words: ['kubectl', 'get', 'pods'] });
    expect(parseLine('   ')).toEqual({ kind: 'empty' });
  });

  it('keeps an unquoted glob as itself', () => {
    expect(parseLine('kubectl get pods -o jsonpath={.items[*].metadata.name}')).toMatchObject({
      words: ['kubectl', 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}'],
    });
  });

  it.each([
    ['kubectl get pods | grep db', REFUSALS.pipe],
    ['kubectl get pods |& less', REFUSALS.pipe],
    ['kubectl get pods > /tmp/x', REFUSALS.redirect],
    ['kubectl get pods >> /tmp/x', REFUSALS.redirect],
    ['kubectl apply -f - < /etc/passwd', REFUSALS.redirect],
    ['kubectl get pods 2>&1', REFUSALS.redirect],
    ['kubectl get pods; rm -rf /', REFUSALS.sequence],
    ['kubectl get pods && echo hi', REFUSALS.sequence],
    ['kubectl get pods || echo hi', REFUSALS.sequence],
    ['kubectl get pods &', REFUSALS.sequence],
    ['kubectl get pods $(whoami)', REFUSALS.subshell],
    ['kubectl get pods "$(whoami)"', REFUSALS.subshell],
    ['kubectl get pods `whoami`', REFUSALS.subshell],
    ['(kubectl get pods)', REFUSALS.subshell],
    ['kubectl get pods -n $NS', REFUSALS.variable],
    ['kubectl get pods -n "${NS}"', REFUSALS.variable],
    ['kubectl get pods -n "np-lab', REFUSALS.unterminated],
    ["kubectl get pods -n 'np-lab", REFUSALS.unterminated],
  ])('%s is refused', (line, message) => {
    expect(parseLine(line)).toEqual({ kind: 'refused', message });
  });

  it('a quoted $ or backtick is literal', () => {
    expect(parseLine(`kubectl get pods -o jsonpath='{$.items}'`)).toMatchObject({ kind: 'words' });
    expect(parseLine(`kubectl annotate pod x 'a=\`b\`'`)).toMatchObject({
      words: ['kubectl', 'annotate', 'pod', 'x', 'a=`b`'],
    });
  });

  it('reads a heredoc at the end of the line', () => {
    expect(parseLine('kubectl apply -f - <<EOF')).toEqual({
      kind: 'words',
      words: ['kubectl', 'apply', '-f', '-'],
      heredoc: { delimiter: 'EOF', stripTabs: false },
    });
    expect(parseLine("k apply -f - <<'END'")).toMatchObject({
      heredoc: { delimiter: 'END', stripTabs: false },
    });
    expect(parseLine('k apply -f - <<-"EOF"')).toMatchObject({
      heredoc: { delimiter: 'EOF', stripTabs: true },
    });
    expect(parseLine('<<EOF')).toMatchObject({ kind: 'refused' });
    // A heredoc anywhere else is a redirection we do not serve.
    expect(parseLine('kubectl apply <<EOF -f -')).toEqual({ kind: 'refused', message: REFUSALS.redirect });
  });

  it('ends and assembles the heredoc body', () => {
    const h = { delimiter: 'EOF', stripTabs: false };
    expect(endsHeredoc(h, 'EOF')).toBe(true);
    expect(endsHeredoc(h, ' EOF')).toBe(false);
    expect(endsHeredoc({ ...h, stripTabs: true }, '\t\tEOF')).toBe(true);
    expect(heredocText(h, ['a: 1', '  b: $x'])).toBe('a: 1\n  b: $x\n');
    expect(heredocText({ ...h, stripTabs: true }, ['\ta: 1'])).toBe('a: 1\n');
  });
});
