import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';
import { FIXTURES } from './helpers.js';

const CLI = join(FIXTURES, 'cli');

async function run(args: string[], stdin?: string) {
  const io = memoryIO(stdin === undefined ? {} : { stdin });
  const code = await main(args, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

interface JsonResult {
  name: string;
  kind: string;
  allowed: boolean;
  admitted: boolean;
  policy: string;
  violations: Array<{ check: string; paths: string[]; lines: number[] }>;
  error?: string;
  warnings: string[];
}

describe('kubelab podsecurity check', () => {
  it('uses the namespace labels, exits 1 when a pod would be rejected, and explains each object', async () => {
    const { code, out } = await run(['podsecurity', 'check', join(CLI, 'prod.yaml'), '--json']);
    expect(code).toBe(1);
    const body = JSON.parse(out) as { allowed: boolean; results: JsonResult[] };
    expect(body.allowed).toBe(false);
    const byName = Object.fromEntries(body.results.map((r) => [r.name, r]));
    expect(byName.hardened!.allowed).toBe(true);
    expect(byName.loose!.allowed).toBe(false);
    expect(byName.loose!.policy).toBe('restricted:v1.35');
    expect(byName.loose!.violations).toEqual([
      expect.objectContaining({
        check: 'privileged',
        paths: ['spec.containers[0].securityContext.privileged'],
        lines: [31],
      }),
    ]);
    expect(byName.loose!.error).toBe(
      'pods "loose" is forbidden: violates PodSecurity "restricted:v1.35": privileged (container "app" must not set securityContext.privileged=true)',
    );
    // A Deployment is admitted with a warning; its pods would not be.
    expect(byName.web!.admitted).toBe(true);
    expect(byName.web!.allowed).toBe(false);
    expect(byName.web!.warnings[0]).toMatch(
      /^would violate PodSecurity "restricted:v1.35": allowPrivilegeEscalation != false/,
    );
  });

  it('evaluates at --level/--version instead of labels, and exits 0 when all pass', async () => {
    const { code, out } = await run([
      'podsecurity',
      'check',
      join(CLI, 'prod.yaml'),
      '--level',
      'baseline',
      '--version',
      'v1.0',
    ]);
    expect(code).toBe(1); // the privileged pod fails baseline too
    expect(out).toContain('Pod prod/loose');
    expect(out).toContain('REJECTED under baseline:v1.0');
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  containers: [{name: c, image: nginx}]\n';
    const ok = await run(['podsecurity', 'check', '-', '--level', 'baseline'], pod);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('admitted under baseline:latest');
  });

  it('exits 2 with file:line and field path for bad input', async () => {
    const { code, err } = await run(['podsecurity', 'check', join(CLI, 'bad.yaml')]);
    expect(code).toBe(2);
    expect(err).toMatch(
      /bad\.yaml:6:\d+: metadata\.labels\.pod-security\.kubernetes\.io\/enforce: Invalid value: "restrictd": must be one of privileged, baseline, restricted/,
    );
    expect(err).toMatch(/bad\.yaml:12:\d+: spec\.hostNetwork: must be true or false/);
    expect(err).not.toMatch(/at .*\.ts:/);
    expect((await run(['podsecurity', 'check', join(CLI, 'prod.yaml'), '--level', 'strict'])).code).toBe(2);
    expect(
      (
        await run([
          'podsecurity',
          'check',
          join(CLI, 'prod.yaml'),
          '--level',
          'baseline',
          '--version',
          '1.30',
        ])
      ).code,
    ).toBe(2);
    expect((await run(['podsecurity', 'check', join(CLI, 'nope.yaml')])).code).toBe(2);
  });
});
