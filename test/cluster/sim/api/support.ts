/**
 * Runs the real kubectl found on PATH against a simulated cluster served in-process. Suites that
 * need it skip, with a message saying why, where no kubectl >= 1.30 is installed.
 */
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simUp, type SimUp } from '../../../../server/cli/sim.js';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectlMinor(): number | undefined {
  try {
    const out = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
    const v = JSON.parse(out) as { clientVersion?: { major?: string; minor?: string } };
    return v.clientVersion?.major === '1' ? parseInt(v.clientVersion.minor ?? '', 10) : undefined;
  } catch {
    return undefined;
  }
}

const minor = kubectlMinor();
export const kubectlSkipReason =
  minor === undefined
    ? 'no kubectl on PATH'
    : minor < 30
      ? `kubectl 1.${minor} is older than 1.30 (exec over WebSocket needs 1.30+)`
      : undefined;

if (kubectlSkipReason)
  console.warn(`SKIPPED: kubectl suites against the simulated cluster: ${kubectlSkipReason}`);

export async function startSim(lab = 'np-backend'): Promise<SimUp> {
  return simUp({ lab, dir: mkdtempSync(join(tmpdir(), 'kubelab-sim-')) });
}

export function kubectl(kubeconfig: string, args: string[], stdin?: string): Promise<KubectlRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir() }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
