import { describe, expect, it } from 'vitest';
import { execaRunner, describeFailure, succeeded } from '../../server/cluster/runner.js';

// Real child processes: cheap, and they prove the execa options behave as the provisioning code assumes.
const node = process.execPath;
const runner = execaRunner(process.env);

describe('execaRunner', () => {
  it('captures stdout, stderr and the exit code, and streams stderr lines as they come', async () => {
    const lines: string[] = [];
    const r = await runner.run(
      [
        node,
        '-e',
        'process.stderr.write(" • Preparing nodes  ...\\n"); process.stdout.write("out"); process.stderr.write(" ✓ Preparing nodes\\n"); process.exit(3)',
      ],
      { onStderrLine: (l) => lines.push(l) },
    );
    expect(lines).toEqual([' • Preparing nodes  ...', ' ✓ Preparing nodes']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out');
    expect(r.stderr).toContain('✓ Preparing nodes');
    expect(succeeded(r)).toBe(false);
  });

  it('feeds stdin (kind reads its config from `--config -`)', async () => {
    const r = await runner.run(
      [node, '-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.toUpperCase()))'],
      {
        stdin: 'kind: Cluster',
      },
    );
    expect(r.stdout.trim()).toBe('KIND: CLUSTER');
    expect(succeeded(r)).toBe(true);
  });

  it('reports a missing program as notFound instead of throwing', async () => {
    const r = await runner.run(['kubelab-no-such-program-xyz', 'version'], { onStderrLine: () => {} });
    expect(r.notFound).toBe(true);
    expect(r.exitCode).toBeUndefined();
    expect(describeFailure(r)).toContain('not installed');
  });

  it('kills a program that outlives its timeout', async () => {
    const r = await runner.run([node, '-e', 'setTimeout(()=>{}, 20000)'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(succeeded(r)).toBe(false);
  });

  it('stops a program when its signal is aborted, and says so', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = runner.run([node, '-e', 'setTimeout(()=>{}, 20000)'], {
      signal: controller.signal,
      onStderrLine: () => {},
    });
    setTimeout(() => controller.abort(), 200);
    const r = await pending;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.canceled).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(succeeded(r)).toBe(false);
    expect(describeFailure(r)).toContain('was stopped');
  });

  it('gives the child exactly the injected environment', async () => {
    const r = await execaRunner({ PATH: process.env.PATH, KUBELAB_PROBE_VAR: 'x1' }).run([
      node,
      '-e',
      'console.log(Object.keys(process.env).filter(k=>k.startsWith("KUBELAB")).join(","))',
    ]);
    expect(r.stdout.trim()).toBe('KUBELAB_PROBE_VAR');
  });
});
