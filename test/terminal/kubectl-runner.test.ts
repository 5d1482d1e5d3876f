/**
 * The runner with real processes standing in for kubectl (env, sleep, yes): what environment the
 * program gets, and that the time limit, the output cap and Ctrl-C stop it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kubectlRunner, findKubectl } from '../../server/terminal/kubectl-runner.js';

const collect = () => {
  let text = '';
  return { onOutput: (t: string) => (text += t), text: () => text };
};

describe('kubectlRunner', () => {
  it('gives the program nothing but its kubeconfig, a private HOME and an empty PATH', async () => {
    const runner = await kubectlRunner({
      kubectl: '/usr/bin/env',
      kubeconfig: 'apiVersion: v1\nkind: Config\n',
    });
    const out = collect();
    const outcome = await runner.run([], { streams: false, onOutput: out.onOutput }).done;
    expect(outcome.exitCode).toBe(0);
    const env = Object.fromEntries(
      out
        .text()
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(env).sort()).toEqual(['HOME', 'KUBECONFIG', 'KUBECTL_KUBERC', 'LANG', 'PATH']);
    expect(env.PATH).toBe('');
    expect(existsSync(env.KUBECONFIG!)).toBe(true);
    await runner.close();
    // The private folder (kubeconfig and HOME) is gone with the terminal.
    expect(existsSync(env.KUBECONFIG!)).toBe(false);
    expect(existsSync(env.HOME!)).toBe(false);
  });

  it('stops a command at its time limit', async () => {
    const runner = await kubectlRunner({ kubectl: '/bin/sleep', kubeconfig: '', limits: { timeoutMs: 100 } });
    const outcome = await runner.run(['30'], { streams: false, onOutput: () => {} }).done;
    expect(outcome.stopped).toBe('timeout');
    await runner.close();
  });

  it('stops a command that prints more than the cap, showing only the cap', async () => {
    const runner = await kubectlRunner({
      kubectl: '/usr/bin/yes',
      kubeconfig: '',
      limits: { maxOutputBytes: 10_000 },
    });
    const out = collect();
    const outcome = await runner.run([], { streams: true, onOutput: out.onOutput }).done;
    expect(outcome.stopped).toBe('output-limit');
    expect(out.text().length).toBe(10_000);
    await runner.close();
  });

  it('Ctrl-C stops the command (SIGINT; SIGKILL after the grace if it lingers)', async () => {
    const runner = await kubectlRunner({
      kubectl: '/bin/sleep',
      kubeconfig: '',
      limits: { killGraceMs: 100 },
    });
    const running = runner.run(['30'], { streams: true, onOutput: () => {} });
    running.interrupt();
    expect((await running.done).stopped).toBe('interrupted');
    await runner.close();
  });

  it('gives stdin (a heredoc) to the program', async () => {
    const runner = await kubectlRunner({ kubectl: '/bin/cat', kubeconfig: '' });
    const out = collect();
    await runner.run([], { streams: false, stdin: 'kind: NetworkPolicy\n', onOutput: out.onOutput }).done;
    expect(out.text()).toBe('kind: NetworkPolicy\n');
    await runner.close();
  });

  it('finds kubectl on PATH or at KUBELAB_KUBECTL, and says when there is none', () => {
    expect(findKubectl({ PATH: '' })).toBeUndefined();
    expect(findKubectl({ PATH: '/nonexistent' })).toBeUndefined();
    expect(findKubectl({ KUBELAB_KUBECTL: '/bin/cat', PATH: '' })).toBe('/bin/cat');
  });
});
