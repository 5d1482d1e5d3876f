/**
 * Runs the real kubectl found on PATH against a simulated cluster served in-process. Suites that
 * need it skip, with a message saying why, where no kubectl >= 1.30 is installed.
 */
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

export type StartedSim = SimUp & { dir: string };

/** A simulated cluster with its kubeconfig in a folder of its own, which stopSim removes. */
export async function startSim(lab = 'np-backend'): Promise<StartedSim> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-sim-'));
  return { ...(await simUp({ lab, dir })), dir };
}

export async function stopSim(sim: StartedSim | undefined): Promise<void> {
  if (!sim) return;
  await sim.api.close();
  await rm(sim.dir, { recursive: true, force: true });
}

/**
 * kubectl keeps its discovery and HTTP caches under $HOME/.kube/cache, one folder per server
 * address: HOME is the kubeconfig's folder, so a file's calls share one cache (discovery is asked
 * once per cluster), and it goes when the folder does, instead of piling up in the shared temp
 * folder with a new port at every run.
 */
export function kubectl(
  kubeconfig: string,
  args: string[],
  stdin?: string,
  env: Record<string, string> = {},
): Promise<KubectlRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dirname(kubeconfig), ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
