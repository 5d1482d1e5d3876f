/**
 * `kubelab kubeconfig [--lab ID]`: prints a kubeconfig for a simulated cluster that is being served
 * from this folder: a `kubelab sim up --lab ID` cluster (standalone), else the cluster of the
 * learner who last used `kubelab serve` here (at a local install, the person at the browser; the
 * lab page offers the same file as a download).
 *
 * The serving commands leave a note in .kubelab/ saying where they listen; a note whose process
 * is gone is ignored.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { badInput, environmentError } from '../errors.js';
import type { CliIO } from './io.js';

export interface RunningNote {
  pid: number;
  url: string;
  /** `kubelab serve`: its progress database (absolute path). */
  dbPath?: string;
  /** `kubelab sim up`: the kubeconfig it wrote. */
  kubeconfigPath?: string;
}

function notePath(dir: string, what: string): string {
  return join(dir, `running-${what}.json`);
}

/** Leaves a note that this process serves `what` (`serve`, or `sim-LAB`); returns its remover. */
export function leaveRunningNote(dir: string, what: string, note: RunningNote): () => void {
  mkdirSync(dir, { recursive: true });
  const path = notePath(dir, what);
  writeFileSync(path, JSON.stringify(note), { mode: 0o600 });
  return () => {
    if (readRunningNote(dir, what)?.pid === note.pid) rmSync(path, { force: true });
  };
}

export function readRunningNote(dir: string, what: string): RunningNote | undefined {
  let note: Partial<RunningNote>;
  try {
    note = JSON.parse(readFileSync(notePath(dir, what), 'utf8')) as Partial<RunningNote>;
  } catch {
    return undefined;
  }
  if (typeof note.pid !== 'number' || typeof note.url !== 'string' || !alive(note.pid)) return undefined;
  return note as RunningNote;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function kubeconfigFor(
  dir: string,
  labArg: string | undefined,
): Promise<{ text: string; note: string }> {
  // Loaded here, not by every kubelab command (`kubelab --version` loads nothing but commander).
  const [{ simKubeconfig }, { simServerUrl }, { loadLab }, { ProgressStore }, { LAB_ID }] = await Promise.all(
    [
      import('../cluster/sim/api/kubeconfig.js'),
      import('../cluster/sim/api/server.js'),
      import('../labs/index.js'),
      import('../store/index.js'),
      import('../web/actions.js'),
    ],
  );
  if (labArg !== undefined && !LAB_ID.test(labArg))
    throw badInput(`--lab: "${labArg}" is not a lab id`, [], 'See kubelab lab list.');
  if (labArg !== undefined) {
    const sim = readRunningNote(dir, `sim-${labArg}`);
    if (sim?.kubeconfigPath)
      return {
        text: readFileSync(sim.kubeconfigPath, 'utf8'),
        note: `the simulated cluster of kubelab sim up --lab ${labArg} (${sim.url})`,
      };
  }
  const serve = readRunningNote(dir, 'serve');
  if (!serve?.dbPath)
    throw environmentError(
      labArg !== undefined
        ? `no simulated cluster of lab ${labArg} is being served from this folder`
        : 'no simulated cluster is being served from this folder',
      `Start one: kubelab sim up --lab ${labArg ?? 'ID'} (a practice cluster), or kubelab serve and open the lab in the browser (the lab page has the same kubeconfig as a download).`,
    );
  const store = ProgressStore.open(serve.dbPath);
  try {
    const latest = store.latestActivity();
    const labId = labArg ?? latest?.labId;
    if (!latest || !labId)
      throw environmentError(
        `nobody has used the labs at ${serve.url} yet, so there is no learner to make a kubeconfig for`,
        'Open a lab in the browser and download the kubeconfig from its page (or press Check once), then run this again.',
      );
    const lab = await loadLab(labId);
    const token = store.apiToken(latest.learnerId, lab.id, new Date());
    return {
      text: simKubeconfig({
        server: simServerUrl(serve.url.replace(/\/+$/, ''), token),
        token,
        name: `kubelab-${lab.id}`,
        namespace: lab.namespace,
      }),
      note: `your simulated cluster of lab ${lab.id} at ${serve.url} (the learner who last used it from a browser)`,
    };
  } finally {
    store.close();
  }
}

export function registerKubeconfig(program: Command, io: CliIO): void {
  program
    .command('kubeconfig')
    .description(
      'Print a kubeconfig for the simulated cluster served from this folder (kubelab serve or sim up)',
    )
    .option('--lab <id>', 'the lab whose cluster to open (default: the one you used last)')
    .action(async (opts: { lab?: string }) => {
      const { text, note } = await kubeconfigFor(join(io.cwd, '.kubelab'), opts.lab);
      io.stderr(`# kubeconfig for ${note}\n`);
      io.stdout(text);
    });
}
