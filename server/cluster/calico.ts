/**
 * Calico, the NetworkPolicy enforcer of the kind cluster: the pinned manifest (downloaded once,
 * cached, and refused unless its sha256 matches), and the readiness conditions that say the
 * install is done.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import { environmentError } from '../errors.js';
import { objectsOf, parseYamlDocuments } from '../manifests/load.js';
import { pollUntil, type Clock } from './poll.js';
import {
  deploymentAvailable,
  nodeProblems,
  readinessReport,
  templateImages,
  workloadProblem,
} from './readiness.js';
import type { KubeObject, ProgressFn } from './types.js';

export const CALICO_VERSION = 'v3.32.1';
export const CALICO_MANIFEST_URL = `https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml`;
/**
 * sha256 of the manifest at CALICO_MANIFEST_URL. Computed from a copy of the file; an unrelated
 * public project pins the same URL to the same digest, which is the best cross-check available
 * offline. A different file is never applied.
 */
export const CALICO_MANIFEST_SHA256 = 'a1df919d9721cf667accdc3e72848911b0cb25cfab7d2478ad0c996302c95744';

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** $XDG_CACHE_HOME/kubelab, else ~/.cache/kubelab. */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0
      ? env.XDG_CACHE_HOME
      : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'kubelab');
}

export type Download = (url: string) => Promise<Buffer>;

export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

/**
 * The proxy variables as curl and kubectl read them: `https_proxy`/`HTTPS_PROXY` for https URLs,
 * `http_proxy`/`HTTP_PROXY` for http, `ALL_PROXY` for both when the specific one is unset, and
 * `no_proxy`/`NO_PROXY` for the exceptions (lower case first, as curl does).
 */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  const first = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const all = first('all_proxy', 'ALL_PROXY');
  const httpProxy = first('http_proxy', 'HTTP_PROXY') ?? all;
  const httpsProxy = first('https_proxy', 'HTTPS_PROXY') ?? all;
  const noProxy = first('no_proxy', 'NO_PROXY');
  return {
    ...(httpProxy ? { httpProxy } : {}),
    ...(httpsProxy ? { httpsProxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  };
}

/**
 * Downloads with the proxy settings of `env` (the CLI's injected environment). Node 20's own
 * fetch ignores proxy variables, so undici's agent does the routing and the NO_PROXY matching.
 */
export function httpDownloadFor(env: NodeJS.ProcessEnv): Download {
  const proxy = proxySettings(env);
  // Empty strings, not undefined: undefined would make undici read this process's environment.
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? '',
    noProxy: proxy.noProxy ?? '',
  });
  return async (url) => {
    try {
      const res = await undiciFetch(url, { dispatcher, signal: AbortSignal.timeout(120_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      // undici says "fetch failed" and keeps the reason in `cause`.
      const cause = (e as { cause?: { message?: string; code?: string } }).cause;
      const why = cause?.message || cause?.code;
      const via = url.startsWith('https:') ? proxy.httpsProxy : proxy.httpProxy;
      throw new Error(
        `${(e as Error).message}${why ? `: ${why}` : ''}${via ? ` (proxy ${redactProxy(via)} from the environment, unless NO_PROXY excludes the host)` : ''}`,
        { cause: e },
      );
    }
  };
}

/** A proxy URL without its password, for messages. */
function redactProxy(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export interface ManifestSource {
  text: string;
  path: string;
  /** Where it came from this time. */
  origin: 'cache' | 'download' | 'local file';
}

/**
 * The verified manifest: from KUBELAB_CALICO_MANIFEST (a local copy, for offline machines), else
 * the cache, else a download into the cache. Whatever the origin, the sha256 must match.
 */
export async function obtainCalicoManifest(opts: {
  env: NodeJS.ProcessEnv;
  download?: Download;
  onProgress?: (detail: string) => void;
}): Promise<ManifestSource> {
  const local = opts.env.KUBELAB_CALICO_MANIFEST;
  if (local) {
    let data: Buffer;
    try {
      data = await readFile(local);
    } catch (e) {
      throw environmentError(
        `KUBELAB_CALICO_MANIFEST points at ${local}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? e}).`,
      );
    }
    verify(data, local);
    return { text: data.toString('utf8'), path: local, origin: 'local file' };
  }
  const dir = cacheDir(opts.env);
  const path = join(dir, `calico-${CALICO_VERSION}.yaml`);
  const cached = await readFile(path).catch(() => undefined);
  if (cached) {
    if (sha256(cached) === CALICO_MANIFEST_SHA256)
      return { text: cached.toString('utf8'), path, origin: 'cache' };
    opts.onProgress?.(`cached copy at ${path} does not match the pinned sha256; downloading again`);
    await rm(path, { force: true });
  }
  opts.onProgress?.(`downloading ${CALICO_MANIFEST_URL}`);
  let data: Buffer;
  try {
    data = await (opts.download ?? httpDownloadFor(opts.env))(CALICO_MANIFEST_URL);
  } catch (e) {
    throw environmentError(
      `the Calico manifest could not be downloaded from ${CALICO_MANIFEST_URL} (${(e as Error).message}).`,
      `Check the internet connection (behind a proxy, set HTTPS_PROXY and NO_PROXY as for curl), or download the file yourself and set KUBELAB_CALICO_MANIFEST=/path/to/calico.yaml (sha256 ${CALICO_MANIFEST_SHA256}).`,
    );
  }
  verify(data, CALICO_MANIFEST_URL);
  await mkdir(dir, { recursive: true });
  // Write then rename, so an interrupted download never leaves a truncated cache file behind.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, data);
  await rename(partial, path);
  return { text: data.toString('utf8'), path, origin: 'download' };
}

function verify(data: Buffer, from: string): void {
  const actual = sha256(data);
  if (actual !== CALICO_MANIFEST_SHA256) {
    throw environmentError(
      `the Calico manifest from ${from} has sha256 ${actual}, not the pinned ${CALICO_MANIFEST_SHA256}; refusing to install it.`,
      'A proxy or mirror may have changed it. Download it again from the pinned URL; do not edit it.',
    );
  }
}

/** The manifest's objects, in file order (apply() puts the CRDs first). */
export function calicoObjects(text: string): KubeObject[] {
  const { objects, problems } = objectsOf(
    parseYamlDocuments(text, 'calico.yaml', { maxBytes: 8 * 1024 * 1024 }),
  );
  if (problems.length > 0)
    throw environmentError(`the Calico manifest has unexpected content: ${problems[0]!.message}`);
  return objects.map((o) => o.object as KubeObject);
}

/** What the Calico wait reads: a few objects by name and list, in wire shape. */
export interface ClusterInspector {
  getObject(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<KubeObject | undefined>;
  listObjects(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<KubeObject[]>;
}

export interface CalicoState {
  /** calico-node DaemonSet exists (Calico is installed, maybe not ready). */
  installed: boolean;
  /** The calico/node image version running, e.g. `v3.32.1`. */
  version?: string;
  ready: boolean;
  /** What is still missing, one line each. */
  waitingFor: string[];
}

/** Calico and what depends on it: calico-node on every node, the controllers, Ready nodes, and CoreDNS (Pending until a CNI exists). */
export async function calicoState(cluster: ClusterInspector): Promise<CalicoState> {
  const [ds, controllers, nodes, dns] = await Promise.all([
    cluster.getObject('apps/v1', 'DaemonSet', 'calico-node', 'kube-system'),
    cluster.getObject('apps/v1', 'Deployment', 'calico-kube-controllers', 'kube-system'),
    cluster.listObjects('v1', 'Node'),
    cluster.listObjects('v1', 'Pod', 'kube-system', 'k8s-app=kube-dns'),
  ]);
  const waitingFor: string[] = [];
  if (!ds) waitingFor.push('DaemonSet kube-system/calico-node does not exist');
  else {
    const problem = workloadProblem(ds);
    if (problem) waitingFor.push(problem);
  }
  if (!deploymentAvailable(controllers))
    waitingFor.push(
      controllers
        ? (workloadProblem(controllers) ?? 'Deployment kube-system/calico-kube-controllers is not Available')
        : 'Deployment kube-system/calico-kube-controllers does not exist',
    );
  waitingFor.push(...nodeProblems(nodes));
  if (dns.length === 0) waitingFor.push('no CoreDNS pods (k8s-app=kube-dns) in kube-system');
  else waitingFor.push(...readinessReport(dns).notReady.map((p) => `CoreDNS ${p}`));
  const image = ds ? templateImages(ds).find((i) => i.includes('calico/node')) : undefined;
  const version = image ? /:(v[^@\s]+)/.exec(image)?.[1] : undefined;
  return {
    installed: ds !== undefined,
    ...(version ? { version } : {}),
    ready: waitingFor.length === 0,
    waitingFor,
  };
}

/**
 * Polls until Calico is ready or the deadline passes (then ENVIRONMENT, naming what is missing).
 * A cold install pulls Calico's images on every node: minutes, not seconds.
 */
export async function waitForCalico(
  cluster: ClusterInspector,
  opts: { timeoutMs: number; clock?: Clock; onProgress?: ProgressFn; intervalMs?: number },
): Promise<CalicoState> {
  const result = await pollUntil(
    async () => {
      const state = await calicoState(cluster);
      return { done: state.ready, value: state };
    },
    {
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs ?? 2000,
      ...(opts.clock ? { clock: opts.clock } : {}),
      onAttempt: (s, elapsedMs) =>
        opts.onProgress?.({
          step: 'waiting for Calico',
          detail: s.value.ready ? 'ready' : s.value.waitingFor.slice(0, 2).join('; '),
          elapsedMs,
        }),
    },
  );
  if (!result.done) {
    throw environmentError(
      `Calico was not ready after ${Math.round(opts.timeoutMs / 60_000)} minutes: ${result.value.waitingFor.join('; ')}.`,
      'Images may still be downloading on a slow connection: run the same command again to keep waiting. To see why: kubectl -n kube-system get pods -o wide; kubectl -n kube-system describe pod -l k8s-app=calico-node.',
    );
  }
  return result.value;
}
