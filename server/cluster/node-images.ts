/**
 * Pre-pulling the probe image inside the kind nodes, so `lab start` does not wait for it.
 *
 * Not with `kind load docker-image`, for two reasons found in kind's tracker:
 * - under Docker's containerd image store (Docker Desktop's default, and Docker Engine's from 29 on)
 *   loading a multi-platform image fails with `ctr: content digest ... not found` (kind #3795);
 * - an image imported from an archive is recorded without its registry digest, so pods that name
 *   the image by digest (every scenario does, to be reproducible) do not find it and pull anyway,
 *   or fail with "failed to get image from containerd" (kind #4028).
 * The nodes' own `crictl pull`, with the very reference the pods use, avoids both: the node's
 * containerd fetches its own platform and records the image under that reference.
 */
import { dockerExecArgv } from './docker.js';
import { KindCli } from './kind.js';
import { describeFailure, succeeded, type Runner, type RunResult } from './runner.js';

export const crictlPullArgv = (node: string, image: string): string[] =>
  dockerExecArgv(node, ['crictl', 'pull', image]);

/**
 * The nodes pods are scheduled on: the workers when there are any (kind taints the control plane
 * then), else the single control-plane node.
 */
export function nodesThatRunPods(nodes: string[]): string[] {
  const workers = nodes.filter((n) => !/-control-plane\d*$/.test(n));
  return workers.length > 0 ? workers : nodes;
}

/** Why a `crictl pull` failed, in crictl's own words (its fatal line), or undefined when it worked. */
export function crictlPullProblem(r: RunResult): string | undefined {
  if (succeeded(r)) return undefined;
  if (r.notFound || r.timedOut || r.canceled || r.startError) return describeFailure(r);
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const fatal = [...lines].reverse().find((l) => /level=fatal|^FATA/.test(l));
  if (fatal) {
    const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(fatal)?.[1];
    return (msg ?? fatal.replace(/^FATA\[\d+\]\s*/, '')).replace(/\\"/g, '"');
  }
  return lines.at(-1) ?? `crictl pull exited with ${r.exitCode}`;
}

export type PrePullResult = { ok: true; nodes: string[] } | { ok: false; reason: string };

/** Pulls `image` on every node that runs pods, in parallel. Never throws: a failed pre-pull only costs time later. */
export async function prePullImage(
  runner: Runner,
  cluster: string,
  image: string,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<PrePullResult> {
  let nodes: string[];
  try {
    nodes = nodesThatRunPods(await new KindCli(runner).nodes(cluster));
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (nodes.length === 0) return { ok: false, reason: `kind lists no nodes for cluster "${cluster}"` };
  const results = await Promise.all(
    nodes.map(async (node) => {
      const r = await runner.run(crictlPullArgv(node, image), {
        timeoutMs: opts.timeoutMs ?? 10 * 60_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const problem = crictlPullProblem(r);
      return problem ? `${node}: ${problem}` : undefined;
    }),
  );
  const problems = results.filter((p): p is string => p !== undefined);
  return problems.length === 0 ? { ok: true, nodes } : { ok: false, reason: problems.join('; ') };
}
