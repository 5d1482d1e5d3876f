/** `kubelab lab check --simulated` and `kubelab lab test` through the real CLI entry, in-process. */
import { describe, it, expect } from 'vitest';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';

const run = async (argv: string[], stdin?: string) => {
  const io = memoryIO(stdin === undefined ? {} : { stdin });
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
};

describe('kubelab lab check --simulated', () => {
  it('exits 0 on the solution and prints the GradeReport with a top-level passed', async () => {
    const r = await run([
      'lab',
      'check',
      'np-backend',
      '--simulated',
      '-f',
      'labs/np-backend/solution.yaml',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as {
      passed: boolean;
      status: string;
      checks: Array<{ id: string; status: string }>;
    };
    expect(report.passed).toBe(true);
    expect(report.status).toBe('passed');
    expect(report.checks.map((c) => c.id)).toContain('backend-reaches-databases');
  });

  it('exits 1 on a wrong attempt, naming the failing check and why', async () => {
    const r = await run([
      'lab',
      'check',
      'np-backend',
      '--simulated',
      '-f',
      'labs/np-backend/wrong/03-dns-tcp-only.yaml',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/np-backend: FAILED on the simulated cluster/);
    expect(r.out).toMatch(/\[FAIL\] backend-dns/);
    expect(r.out).toMatch(/can't resolve .*UDP 53/);
  });

  it('refuses a workload with more replicas than the simulated cluster runs (exit 2, at once)', async () => {
    const big = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: big, namespace: np-lab}',
      'spec:',
      '  replicas: 1000000',
      '  selector: {matchLabels: {app: big}}',
      '  template:',
      '    metadata: {labels: {app: big}}',
      '    spec: {containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53}]}',
      '',
    ].join('\n');
    const r = await run(['lab', 'check', 'np-backend', '--simulated', '-f', '-'], big);
    expect(r.code).toBe(2);
    expect(r.err).toContain('spec.replicas');
    expect(r.err).toContain('at most 100 replicas');
  });

  it('a YAML indentation error says what is wrong in plain words, with the YAML hint only', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'kubelab-indent-'));
    try {
      const file = join(dir, 'policy.yaml');
      await writeFile(
        file,
        'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np-backend\n  namespace: np-lab\nspec:\n  podSelector:\n    matchLabels:\n      app: backend\n   policyTypes:\n  - Egress\n',
      );
      const r = await run(['lab', 'check', 'np-backend', '--simulated', '-f', file]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${file} is not valid YAML`);
      expect(r.err).toContain(`${file}:10:4: "policyTypes:" starts in column 4`);
      expect(r.err).toContain('Fix the YAML at the lines shown.');
      expect(r.err).not.toContain('each object needs apiVersion');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('counts in words: "the probe", never "all 1 probes" or "pod(s)"', async () => {
    const one = await run([
      'lab',
      'check',
      'np-and-vs-or',
      '--simulated',
      '-f',
      'labs/np-and-vs-or/solution.yaml',
      '--json',
    ]);
    expect(one.code).toBe(0);
    expect(one.out).toContain('the probe went as expected.');
    expect(one.out).not.toMatch(/all 1 probes/);
    const nobody = [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata: {name: np-backend, namespace: np-lab}',
      'spec:',
      '  podSelector: {matchLabels: {app: nobody}}',
      '  policyTypes: [Egress]',
      '',
    ].join('\n');
    const none = await run(['lab', 'check', 'np-backend', '--simulated', '-f', '-', '--json'], nobody);
    expect(none.code).toBe(1);
    expect(none.out).toContain('does not select a pod with app=backend');
    expect(none.out).not.toContain('pod(s)');
  });

  it('reads manifests from stdin with -f -', async () => {
    const { readFile } = await import('node:fs/promises');
    const yaml = await readFile('labs/np-backend/solution.yaml', 'utf8');
    const r = await run(['lab', 'check', 'np-backend', '--simulated', '-f', '-', '--json'], yaml);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).passed).toBe(true);
  });

  it('exits 2 with file:line for broken YAML, an unknown lab or a missing file, without a stack trace', async () => {
    const bad = await run(
      ['lab', 'check', 'np-backend', '--simulated', '-f', '-'],
      'kind: NetworkPolicy\nspec: [oops\n',
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/<stdin>:\d+:\d+/);
    const unknown = await run(['lab', 'check', 'no-such-lab', '--simulated']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/no-such-lab/);
    const missing = await run(['lab', 'check', 'np-backend', '--simulated', '-f', 'nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read nope\.yaml/);
    for (const r of [bad, unknown, missing]) expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('kubelab lab test', () => {
  it('proves one lab and exits 0', async () => {
    const r = await run(['lab', 'test', 'np-backend']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok {3}np-backend$/m);
    expect(r.out).toMatch(/1 lab\(s\), \d+ case\(s\), 0 failing/);
  });
});
