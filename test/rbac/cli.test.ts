import { describe, it, expect } from 'vitest';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rbac');
const CI = join(FIXTURES, 'ci');

async function run(args: string[]) {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe('kubelab rbac can-i', () => {
  it('answers yes with the binding and rule, as JSON {allowed, reasons}', async () => {
    const { code, out } = await run([
      'rbac',
      'can-i',
      CI,
      '--as',
      'system:serviceaccount:ci:deployer',
      'create',
      'deployments',
      '-n',
      'ci',
      '--json',
    ]);
    expect(code).toBe(0);
    const body = JSON.parse(out) as { allowed: boolean; reasons: string[] };
    expect(body.allowed).toBe(true);
    expect(body.reasons[0]).toBe(
      'RBAC: allowed by RoleBinding "deployer/ci" of Role "deployer" to ServiceAccount "deployer/ci"',
    );
  });

  it('answers no with exit 1 and says why', async () => {
    const { code, out } = await run([
      'rbac',
      'can-i',
      CI,
      '--as',
      'system:serviceaccount:ci:deployer',
      'delete',
      'deploy',
      '-n',
      'ci',
    ]);
    expect(code).toBe(1);
    expect(out).toMatch(/^no\n/);
    expect(out).toContain('verbs ["get","list","create","update","patch"] do not include "delete"');
  });

  it('handles subresources, names and --as-group', async () => {
    expect(
      (
        await run([
          'rbac',
          'can-i',
          CI,
          '--as',
          'jane',
          '--as-group',
          'support',
          'get',
          'pods/log',
          'web-0',
          '-n',
          'ci',
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await run([
          'rbac',
          'can-i',
          CI,
          '--as',
          'jane',
          '--as-group',
          'support',
          'create',
          'pods/exec',
          '-n',
          'ci',
        ])
      ).code,
    ).toBe(1);
    expect((await run(['rbac', 'can-i', CI, '--as', 'jane', 'get', 'pods/log', '-n', 'ci'])).code).toBe(1);
  });

  it('exits 2 for bad manifests (file:line, field path) and bad usage', async () => {
    const bad = await run(['rbac', 'can-i', join(FIXTURES, 'bad.yaml'), '--as', 'x', 'get', 'pods']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.yaml:5:\d+: rules\[0\]\.apiGroups: Required value/);
    expect((await run(['rbac', 'can-i', CI, '--as', 'x', 'get'])).code).toBe(2);
    expect((await run(['rbac', 'can-i', 'no-such-dir', '--as', 'x', 'get', 'pods'])).code).toBe(2);
  });
});

describe('kubelab rbac who-can', () => {
  it('lists the subjects and their bindings', async () => {
    const { code, out } = await run(['rbac', 'who-can', CI, 'get', 'pods', '-n', 'ci', '--json']);
    expect(code).toBe(0);
    const body = JSON.parse(out) as {
      allowed: boolean;
      subjects: Array<{ kind: string; name: string; binding: string }>;
    };
    expect(body.subjects.map((s) => `${s.kind} ${s.name} ${s.binding}`)).toEqual([
      'Group system:masters ClusterRoleBinding cluster-admin',
      'ServiceAccount deployer RoleBinding ci/deployer',
      'Group support RoleBinding ci/support-view',
    ]);
  });
});
