/**
 * kind: the cluster config we ask for, the command lines we run, and what kind's output means.
 * This is the only module that starts kind processes (through a Runner); everything here except
 * `KindCli` is a pure function tested against recorded kind output.
 */
import { stringify } from 'yaml';
import { badInput, environmentError, KubelabError } from '../errors.js';
import { firstMeaningfulLine } from './docker.js';
import type { Runner, RunResult } from './runner.js';

/**
 * Node images, pinned by digest, one per kind release: kind publishes node images per release and
 * promises them only for the release they were published with (others best effort), and only the
 * digest names the exact build. Each entry is the default image of that kind release, read from
 * kind's own source at the release tag (pkg/apis/config/defaults/image.go).
 */
export const KIND_NODE_IMAGES: ReadonlyArray<{ kind: string; image: string }> = [
  {
    kind: 'v0.30',
    image: 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a',
  },
  {
    kind: 'v0.31',
    image: 'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f',
  },
  {
    kind: 'v0.32',
    image: 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5',
  },
];

/** The newest image kubelab knows (also what `--image` is validated against in examples). */
export const KIND_NODE_IMAGE = KIND_NODE_IMAGES[KIND_NODE_IMAGES.length - 1]!.image;

const minorOf = (version: string): [number, number] | undefined => {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
};
const compareMinor = (a: [number, number], b: [number, number]): number => a[0] - b[0] || a[1] - b[1];

export interface NodeImageChoice {
  image: string;
  /** Set when the installed kind is not a release the table has an image for. */
  warning?: string;
}

/** The node image for the installed kind release (`kind version`), by its minor version. */
export function nodeImageFor(kindVersion: string): NodeImageChoice {
  const known = KIND_NODE_IMAGES.map((e) => ({ ...e, minor: minorOf(e.kind)! }));
  const oldest = known[0]!;
  const newest = known[known.length - 1]!;
  const range = `${oldest.kind} to ${newest.kind}`;
  const minor = minorOf(kindVersion);
  const exact = minor && known.find((e) => compareMinor(e.minor, minor) === 0);
  if (exact) return { image: exact.image };
  const fallback = minor && compareMinor(minor, oldest.minor) < 0 ? oldest : newest;
  const why =
    minor === undefined
      ? `kubelab cannot read the kind version ("${kindVersion}")`
      : compareMinor(minor, oldest.minor) < 0
        ? `kind ${kindVersion} is older than the releases kubelab has node images for (${range}); upgrading kind is the better fix`
        : `kind ${kindVersion} is newer than the releases kubelab has node images for (${range})`;
  return {
    image: fallback.image,
    warning: `${why}; using the node image published with kind ${fallback.kind} (${fallback.image.split('@')[0]}). If node creation fails, pass --image with an image listed in your kind release's notes.`,
  };
}

/** `kindest/node:v1.35.0@sha256:...` -> [1, 35]; undefined for images that do not say. */
export function nodeImageKubernetesMinor(image: string): [number, number] | undefined {
  const tag = /:(v\d+\.\d+)[^@]*(@|$)/.exec(image.split('/').pop() ?? image)?.[1];
  return tag ? minorOf(tag) : undefined;
}

/** Kubernetes 1.35's kubelet refuses to start on a cgroup v1 host unless told otherwise (KEP-5573). */
export function refusesCgroupV1(image: string): boolean {
  const minor = nodeImageKubernetesMinor(image);
  return minor === undefined || compareMinor(minor, [1, 35]) >= 0;
}

export const CGROUP_V1_HINT =
  'Switch the host to cgroup v2: current Linux distributions and Docker Desktop use it by default; on an older systemd host boot with `systemd.unified_cgroup_hierarchy=1` (on WSL 2, `kernelCommandLine = cgroup_no_v1=all` in .wslconfig), then restart Docker and check with `docker info --format {{.CgroupVersion}}`. Or use a node image of Kubernetes 1.34 or older: kubelab cluster up --image ' +
  KIND_NODE_IMAGES[0]!.image +
  '.';

/** Calico's default IP pool; kind's own default (10.244.0.0/16) would not match calico.yaml. */
export const POD_SUBNET = '192.168.0.0/16';

export { DEFAULT_CLUSTER_NAME } from './defaults.js';

export interface KindClusterSpec {
  name: string;
  workers: number;
  nodeImage: string;
}

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/;

/** kind names docker containers and the kube context after the cluster: keep it DNS-label-like. */
export function validateClusterSpec(spec: KindClusterSpec): KindClusterSpec {
  const problems: string[] = [];
  if (!CLUSTER_NAME.test(spec.name)) {
    problems.push(
      `cluster name "${spec.name}" must be 1-50 lowercase letters, digits or '-', starting and ending with a letter or digit`,
    );
  }
  if (!Number.isInteger(spec.workers) || spec.workers < 0 || spec.workers > 5) {
    problems.push(`--workers must be a whole number from 0 to 5 (got ${spec.workers})`);
  }
  if (!/^[^\s]+$/.test(spec.nodeImage))
    problems.push(`node image "${spec.nodeImage}" is not an image reference`);
  if (problems.length > 0) {
    throw badInput(
      'invalid cluster settings',
      problems.map((message) => ({ message })),
      'Example: kubelab cluster up --name kubelab --workers 1',
    );
  }
  return spec;
}

export function kindConfig(spec: KindClusterSpec): Record<string, unknown> {
  const node = (role: 'control-plane' | 'worker') => ({ role, image: spec.nodeImage });
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    networking: {
      // Calico is installed afterwards; kind's own CNI must not be there to compete with it.
      disableDefaultCNI: true,
      podSubnet: POD_SUBNET,
    },
    nodes: [node('control-plane'), ...Array.from({ length: spec.workers }, () => node('worker'))],
  };
}

export const renderKindConfig = (spec: KindClusterSpec): string => stringify(kindConfig(spec));

export const kindContextName = (name: string): string => `kind-${name}`;

export const kindArgv = {
  version: (): string[] => ['kind', 'version'],
  getClusters: (): string[] => ['kind', 'get', 'clusters'],
  // No --wait: with the default CNI disabled nodes cannot be Ready before Calico, so kind would
  // wait out the whole period, warn, and still exit 0. Readiness is checked after Calico instead.
  create: (name: string): string[] => ['kind', 'create', 'cluster', '--name', name, '--config', '-'],
  delete: (name: string): string[] => ['kind', 'delete', 'cluster', '--name', name],
  kubeconfig: (name: string): string[] => ['kind', 'get', 'kubeconfig', '--name', name],
  getNodes: (name: string): string[] => ['kind', 'get', 'nodes', '--name', name],
};

/** `kind v0.31.0 go1.25.5 linux/amd64` -> `v0.31.0`. */
export function parseKindVersion(stdout: string): string | undefined {
  return /\bkind (v\d+\.\d+\.\d+\S*)/.exec(stdout)?.[1];
}

/**
 * Names, one a line, from `kind get clusters` or `kind get nodes` (which say "No kind clusters
 * found." / "No kind nodes found ..." on stderr when there are none).
 */
export function parseKindClusters(r: RunResult): string[] {
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^no kind (clusters|nodes) (found|for)/i.test(l));
}

export type KindLine =
  | { kind: 'step-start'; step: string }
  | { kind: 'step-done'; step: string }
  | { kind: 'step-failed'; step: string }
  | { kind: 'error'; message: string }
  | { kind: 'info'; text: string };

// Built from a string: a regex literal with an escape character trips no-control-regex.
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Reads one line of kind's progress output (the non-terminal form: no spinner, one line per event). */
export function parseKindLine(raw: string): KindLine | undefined {
  // Colour codes appear when kind believes it writes to a terminal.
  const line = raw.replace(ANSI_COLOUR, '').replace(/\r/g, '');
  const trimmed = line.trim();
  if (trimmed.length === 0) return undefined;
  const start = /^•\s+(.*?)\s*\.\.\.$/.exec(trimmed);
  if (start?.[1]) return { kind: 'step-start', step: cleanStep(start[1]) };
  const done = /^[✓✔]\s+(.*)$/.exec(trimmed);
  if (done?.[1]) return { kind: 'step-done', step: cleanStep(done[1]) };
  const failed = /^✗\s+(.*)$/.exec(trimmed);
  if (failed?.[1]) return { kind: 'step-failed', step: cleanStep(failed[1]) };
  const error = /^ERROR:\s*(.*)$/.exec(trimmed);
  if (error) return { kind: 'error', message: error[1] ?? '' };
  return { kind: 'info', text: trimmed };
}

/** Drops the decorative emoji kind appends to step names. */
function cleanStep(step: string): string {
  return step.replace(/[\s\p{Extended_Pictographic}\uFE0F\u200D]+$/u, '').trim();
}

export type KindFailure =
  | 'docker-unreachable'
  | 'already-exists'
  | 'image-pull'
  | 'port-in-use'
  | 'kubeadm'
  | 'cgroup-v1'
  | 'unknown';

/** Classifies a failed kind run by the text of its error (substring matches; kind's wording drifts). */
export function classifyKindFailure(r: RunResult): KindFailure {
  const text = `${r.stderr}\n${r.stdout}`;
  if (
    /cannot connect to the docker daemon|is the docker daemon running|permission denied while trying to connect to the docker daemon|failed to get docker info|docker info/i.test(
      text,
    )
  ) {
    return 'docker-unreachable';
  }
  if (/already exist for a cluster with the name/i.test(text)) return 'already-exists';
  if (/port is already allocated|address already in use/i.test(text)) return 'port-in-use';
  if (/failed to pull image|unable to find image|manifest unknown|pull access denied/i.test(text))
    return 'image-pull';
  // kind >= 0.32 warns about cgroup v1 before creating; the kubelet's own words appear in logs.
  // Either beats the generic "kubelet is not healthy" of kubeadm, which has many causes.
  if (
    /cgroups? ?v1 (is deprecated|support is (deprecated|unsupported))|not run on a host using cgroup v1/i.test(
      text,
    )
  )
    return 'cgroup-v1';
  if (/kubeadm (init|join)|failed to (init|join) node/i.test(text)) return 'kubeadm';
  return 'unknown';
}

/** The `ERROR: ...` line kind printed, else its last non-empty line. */
export function kindErrorLine(r: RunResult): string {
  const lines = r.stderr.split('\n');
  const error = lines.find((l) => l.startsWith('ERROR:'));
  if (error) return error.replace(/^ERROR:\s*/, '').trim();
  const output = [...lines].reverse().find((l) => l.trim().length > 0);
  return output?.trim() ?? firstMeaningfulLine(r.stdout) ?? `kind exited with ${r.exitCode}`;
}

/** The "Command Output:" kind appends to a failed inner command: often the actual reason. */
function commandOutput(r: RunResult): string | undefined {
  const m = /Command Output:\s*([^\n]+)/.exec(r.stderr);
  return m?.[1]?.trim();
}

/** One ENVIRONMENT error saying what went wrong with kind and what to do. */
export function kindError(r: RunResult, action: string, clusterName: string): KubelabError {
  const failure = classifyKindFailure(r);
  const why = commandOutput(r) ?? kindErrorLine(r);
  switch (failure) {
    case 'docker-unreachable':
      return environmentError(
        `kind could not ${action}: Docker is not reachable (${why}).`,
        'Start Docker and run the command again (`kubelab doctor` checks everything).',
      );
    case 'already-exists':
      return environmentError(
        `kind could not ${action}: a cluster named "${clusterName}" already exists.`,
        `Use it (kubelab cluster up --name ${clusterName} resumes), or delete it: kubelab cluster down --name ${clusterName}.`,
      );
    case 'image-pull':
      return environmentError(
        `kind could not ${action}: the node image could not be pulled (${why}).`,
        "Check your internet connection and Docker's registry access (`docker pull kindest/node:v1.35.0`); behind a proxy, configure Docker's proxy settings.",
      );
    case 'port-in-use':
      return environmentError(
        `kind could not ${action}: a port it needs is already in use (${why}).`,
        'Stop whatever holds the port (often another kind cluster: `kind get clusters`) and try again.',
      );
    case 'kubeadm':
      return environmentError(
        `kind could not ${action}: Kubernetes failed to start inside the node containers (${kindErrorLine(r).slice(0, 300)}).`,
        'This usually means too little memory/CPU for Docker (give it at least 4 GB and 2 CPUs) or too many inotify watchers on Linux (`sudo sysctl fs.inotify.max_user_instances=512`). Details: kind create cluster --retain, then kind export logs.',
      );
    case 'cgroup-v1':
      return environmentError(
        `kind could not ${action}: the host runs cgroup v1, and the kubelet of Kubernetes 1.35 and newer refuses to start on cgroup v1 (${kindErrorLine(r).slice(0, 200)}).`,
        CGROUP_V1_HINT,
      );
    case 'unknown':
      return environmentError(
        `kind could not ${action}: ${why}`,
        'Run the same kind command by hand to see the full output; `kubelab doctor` checks the prerequisites.',
      );
  }
}

export const KIND_INSTALL_HINT =
  'Install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation: `go install sigs.k8s.io/kind@v0.31.0`, `brew install kind`, or download the release binary onto your PATH), then run this again.';

/** kind driven through a Runner. Each method returns facts or throws an ENVIRONMENT KubelabError. */
export class KindCli {
  constructor(private readonly runner: Runner) {}

  /** The installed kind version, or undefined when kind is not installed. */
  async version(): Promise<string | undefined> {
    const r = await this.runner.run(kindArgv.version(), { timeoutMs: 15_000 });
    if (r.notFound) return undefined;
    return parseKindVersion(r.stdout) ?? (r.stdout.trim() || 'unknown version');
  }

  async requireInstalled(purpose: string): Promise<string> {
    const v = await this.version();
    if (v === undefined)
      throw environmentError(
        `${purpose} needs kind, which is not installed (no \`kind\` command on PATH).`,
        KIND_INSTALL_HINT,
      );
    return v;
  }

  async clusters(): Promise<string[]> {
    const r = await this.runner.run(kindArgv.getClusters(), { timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw kindError(r, 'list clusters', '');
    return parseKindClusters(r);
  }

  async create(
    spec: KindClusterSpec,
    onLine: (line: KindLine) => void,
  ): Promise<'created' | 'already-exists'> {
    const r = await this.runner.run(kindArgv.create(spec.name), {
      stdin: renderKindConfig(spec),
      timeoutMs: 15 * 60_000,
      onStderrLine: (raw) => {
        const parsed = parseKindLine(raw);
        if (parsed) onLine(parsed);
      },
    });
    if (r.exitCode === 0) return 'created';
    if (r.timedOut)
      throw environmentError(
        'kind create cluster did not finish within 15 minutes.',
        'Check Docker (`docker ps`) and try again; `kind delete cluster --name ' +
          spec.name +
          '` cleans up a half-made cluster.',
      );
    if (classifyKindFailure(r) === 'already-exists') return 'already-exists';
    throw kindError(r, 'create the cluster', spec.name);
  }

  async delete(name: string): Promise<void> {
    const r = await this.runner.run(kindArgv.delete(name), { timeoutMs: 5 * 60_000 });
    if (r.exitCode !== 0) throw kindError(r, 'delete the cluster', name);
  }

  async kubeconfig(name: string): Promise<string> {
    const r = await this.runner.run(kindArgv.kubeconfig(name), { timeoutMs: 30_000 });
    if (r.exitCode !== 0 || r.stdout.trim().length === 0)
      throw kindError(r, `read the kubeconfig of cluster "${name}"`, name);
    return r.stdout;
  }

  /** Node container names of a cluster (kind says "No kind nodes found" on stderr when there are none). */
  async nodes(name: string): Promise<string[]> {
    const r = await this.runner.run(kindArgv.getNodes(name), { timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw kindError(r, `list the nodes of cluster "${name}"`, name);
    return parseKindClusters(r);
  }
}
