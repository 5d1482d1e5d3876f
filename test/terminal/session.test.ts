import { describe, expect, it } from 'vitest';
import type { CommandRunner, RunOptions, RunOutcome } from '../../server/terminal/kubectl-runner.js';
import { TerminalSession } from '../../server/terminal/session.js';

/** A runner that records what it was asked to run and answers from a script. */
class FakeRunner implements CommandRunner {
  calls: Array<{ argv: string[]; stdin?: string; streams: boolean }> = [];
  interrupted = 0;
  pending: Array<(o: RunOutcome) => void> = [];
  constructor(private readonly answer: (argv: string[]) => { out: string; hang?: boolean }) {}
  run(argv: readonly string[], opts: RunOptions) {
    this.calls.push({
      argv: [...argv],
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      streams: opts.streams,
    });
    const { out, hang } = this.answer([...argv]);
    opts.onOutput(out);
    let finish!: (o: RunOutcome) => void;
    const done = new Promise<RunOutcome>((resolve) => (finish = resolve));
    if (!hang) finish({ exitCode: 0 });
    else this.pending.push(finish);
    return {
      interrupt: () => {
        this.interrupted++;
        finish({ exitCode: 130, stopped: 'interrupted' });
      },
      done,
    };
  }
  async close() {}
}

function session(
  answer: (argv: string[]) => { out: string; hang?: boolean } = () => ({ out: '' }),
  history: string[] = [],
) {
  const runner = new FakeRunner(answer);
  let screen = '';
  const remembered: string[] = [];
  const s = new TerminalSession({
    runner,
    io: { write: (t) => (screen += t), remembered: (l) => remembered.push(l) },
    history,
    namespace: 'np-lab',
  });
  s.start();
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { s, runner, remembered, screen: () => screen, settle };
}

describe('TerminalSession', () => {
  it('runs kubectl and k with argv only, and remembers the line', async () => {
    const t = session(() => ({ out: 'NAME\nbackend-0\n' }));
    t.s.input('k -n np-lab get pods\r');
    await t.settle();
    expect(t.runner.calls).toEqual([{ argv: ['-n', 'np-lab', 'get', 'pods'], streams: false }]);
    expect(t.screen()).toContain('NAME\r\nbackend-0\r\n$ ');
    expect(t.remembered).toEqual(['k -n np-lab get pods']);
  });

  it('refuses with the reason and runs nothing', async () => {
    const t = session();
    t.s.input('kubectl get pods --kubeconfig=/etc/kubernetes/admin.conf\r');
    t.s.input('kubectl get pods | grep x\r');
    t.s.input('ls /\r');
    await t.settle();
    expect(t.runner.calls).toEqual([]);
    expect(t.screen()).toContain('kubelab: --kubeconfig reads another kubeconfig file');
    expect(t.screen()).toContain('kubelab: pipes (|) are not available');
    expect(t.screen()).toContain('kubelab: ls: only kubectl (or its alias k) runs here');
  });

  it('collects a heredoc and gives it as stdin', async () => {
    const t = session(() => ({ out: 'networkpolicy.networking.k8s.io/np-backend created\n' }));
    t.s.input('kubectl apply -f - <<EOF\rkind: NetworkPolicy\r  name: $notexpanded\rEOF\r');
    await t.settle();
    expect(t.runner.calls).toEqual([
      { argv: ['apply', '-f', '-'], stdin: 'kind: NetworkPolicy\n  name: $notexpanded\n', streams: false },
    ]);
    expect(t.screen()).toContain('> ');
  });

  it('keeps typed-ahead lines until the running command ends', async () => {
    const t = session((argv) => ({ out: '', hang: argv.includes('-w') }));
    t.s.input('kubectl get pods -w\r');
    t.s.input('kubectl get svc\r');
    await t.settle();
    expect(t.runner.calls.map((c) => c.argv)).toEqual([['get', 'pods', '-w']]);
    expect(t.runner.calls[0]!.streams).toBe(true);
    t.runner.pending[0]!({ exitCode: 0 });
    await t.settle();
    expect(t.runner.calls.map((c) => c.argv)).toEqual([
      ['get', 'pods', '-w'],
      ['get', 'svc'],
    ]);
  });

  it('Ctrl-C interrupts the running command and drops the typeahead', async () => {
    const t = session(() => ({ out: 'watching\n', hang: true }));
    t.s.input('kubectl get pods -w\r');
    t.s.input('kubectl get svc\r');
    t.s.input('\x03');
    await t.settle();
    expect(t.runner.interrupted).toBe(1);
    expect(t.runner.calls).toHaveLength(1);
    expect(t.screen()).toMatch(/\^C\r\n\$ $/);
  });

  it('opens the pod shell for exec -it ... -- sh and runs each line as a plain exec', async () => {
    const t = session((argv) => ({ out: argv.includes('hostname') ? 'backend-0\n' : '' }));
    t.s.input('kubectl -n np-lab exec -it deploy/backend -- sh\r');
    await t.settle();
    expect(t.runner.calls).toEqual([]);
    expect(t.screen()).toContain('/ # ');
    t.s.input('hostname\r');
    await t.settle();
    expect(t.runner.calls[0]!.argv).toEqual(['-n', 'np-lab', 'exec', 'deploy/backend', '--', 'hostname']);
    expect(t.screen()).toContain('backend-0\r\n/ # ');
    t.s.input('curl -sS http://db1:1111 | head\r');
    await t.settle();
    expect(t.runner.calls).toHaveLength(1);
    t.s.input('exit\r');
    await t.settle();
    expect(t.screen()).toMatch(/\$ $/);
  });

  it('refuses an interactive shell with a refused flag', async () => {
    const t = session();
    t.s.input('kubectl exec -it backend-0 --kubeconfig /x -- sh\r');
    await t.settle();
    expect(t.screen()).toContain('kubelab: --kubeconfig');
    expect(t.screen()).not.toContain('/ # ');
  });

  it('completes subcommands, kinds and names from the cluster', async () => {
    const t = session((argv) => {
      if (argv[0] === 'api-resources')
        return {
          out: 'pods   po   v1   true   Pod\nnetworkpolicies   netpol   networking.k8s.io/v1   true   NetworkPolicy\n',
        };
      if (argv[0] === 'get') return { out: 'networkpolicy.networking.k8s.io/np-backend\n' };
      return { out: '' };
    });
    t.s.input('kubectl descr\t');
    await t.settle();
    t.s.input('networkp\t');
    await t.settle();
    t.s.input('-n np-lab np\t');
    await t.settle();
    expect(t.screen()).toContain('kubectl describe networkpolicies -n np-lab np-backend ');
    expect(t.runner.calls.at(-1)!.argv).toEqual(['get', 'networkpolicies', '-o', 'name', '-n', 'np-lab']);
  });

  it('history and help builtins', async () => {
    const t = session(() => ({ out: '' }), ['kubectl get pods']);
    t.s.input('history\r');
    t.s.input('help\r');
    await t.settle();
    expect(t.screen()).toContain('    1  kubectl get pods');
    expect(t.screen()).toContain('kubectl -n np-lab exec -it deploy/backend -- sh');
  });
});
