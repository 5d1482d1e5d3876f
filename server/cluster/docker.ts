/**
 * Docker, as kind needs it: is the daemon reachable, and pulling images onto the host so kind can
 * copy them into the nodes. Outcomes are classified from docker's own words (substring matches:
 * the exact text varies between versions and platforms).
 */
import { environmentError, type KubelabError } from '../errors.js';
import type { Runner, RunResult } from './runner.js';

export type DockerState =
  | {
      status: 'ok';
      serverVersion: string;
      /** "1" or "2"; absent from Docker older than 20.10. */ cgroupVersion?: string;
    }
  | { status: 'not-installed' }
  | { status: 'daemon-down'; detail: string }
  | { status: 'permission-denied'; detail: string }
  | { status: 'error'; detail: string };

// Only the fields kubelab reads: a plain `docker info` can take seconds listing plugins and volumes.
// The cgroup version matters because Kubernetes 1.35's kubelet refuses cgroup v1 hosts.
export const DOCKER_INFO_ARGV = ['docker', 'info', '--format', '{{.ServerVersion}} {{.CgroupVersion}}'];

export function classifyDockerInfo(r: RunResult): DockerState {
  if (r.notFound) return { status: 'not-installed' };
  const text = `${r.stderr}\n${r.stdout}`.trim();
  const detail = firstMeaningfulLine(text) ?? r.startError ?? `docker info exited with ${r.exitCode}`;
  if (r.timedOut)
    return {
      status: 'daemon-down',
      detail: 'docker info did not answer in time (the daemon may be starting or stuck)',
    };
  if (/permission denied/i.test(text)) return { status: 'permission-denied', detail };
  if (
    /cannot connect to the docker daemon|is the docker daemon running|error during connect|docker daemon is not running/i.test(
      text,
    )
  ) {
    return { status: 'daemon-down', detail };
  }
  const [version, cgroup] = r.stdout.trim().split(/\s+/);
  if (r.exitCode === 0 && version) {
    // An old daemon renders an unknown field as "<no value>".
    const cgroupVersion = cgroup && /^\d+$/.test(cgroup) ? cgroup : undefined;
    return { status: 'ok', serverVersion: version, ...(cgroupVersion ? { cgroupVersion } : {}) };
  }
  return { status: 'error', detail };
}

export async function checkDocker(runner: Runner, timeoutMs = 20_000): Promise<DockerState> {
  return classifyDockerInfo(await runner.run(DOCKER_INFO_ARGV, { timeoutMs }));
}

/** What to tell a person about Docker, in one line each. */
export function describeDocker(state: DockerState): { ok: boolean; summary: string; fix?: string } {
  switch (state.status) {
    case 'ok':
      return {
        ok: true,
        summary: `Docker daemon reachable (server ${state.serverVersion}${state.cgroupVersion ? `, cgroup v${state.cgroupVersion}` : ''})`,
      };
    case 'not-installed':
      return {
        ok: false,
        summary: 'Docker is not installed (no `docker` command on PATH)',
        fix: 'Install Docker Desktop (macOS, Windows) or Docker Engine (Linux: https://docs.docker.com/engine/install/), start it, then run this again.',
      };
    case 'daemon-down':
      return {
        ok: false,
        summary: `the Docker daemon is not reachable (${state.detail})`,
        fix: 'Start Docker (open Docker Desktop, or `sudo systemctl start docker` on Linux); if DOCKER_HOST is set, check that it points at a running daemon.',
      };
    case 'permission-denied':
      return {
        ok: false,
        summary: `this user may not talk to the Docker daemon (${state.detail})`,
        fix: 'Add yourself to the docker group (`sudo usermod -aG docker $USER`, then log out and in) or use rootless Docker.',
      };
    case 'error':
      return {
        ok: false,
        summary: `docker info failed: ${state.detail}`,
        fix: 'Run `docker info` yourself to see what Docker says.',
      };
  }
}

/** The ENVIRONMENT error for commands that cannot work without Docker. */
export function dockerProblem(state: DockerState, purpose: string): KubelabError {
  const d = describeDocker(state);
  const offline = 'Without Docker, the labs still run on the simulated cluster (`kubelab serve`).';
  return environmentError(`${purpose} needs Docker, but ${d.summary}.`, `${d.fix ?? ''} ${offline}`.trim());
}

/** A command inside a kind node container (the nodes are Docker containers named after the cluster). */
export const dockerExecArgv = (container: string, argv: string[]): string[] => [
  'docker',
  'exec',
  container,
  ...argv,
];

export function firstMeaningfulLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
}
