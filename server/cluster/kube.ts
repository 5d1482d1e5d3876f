/**
 * The real Cluster: any kubeconfig context, through @kubernetes/client-node 1.4.
 *
 * Objects go out through server-side apply after the model conversion in kube-wire.ts (read its
 * header: plain objects lose fields), and come back converted to the wire shape again. Every wait
 * polls with a deadline; every client failure is mapped by kube-errors.ts to a KubelabError that
 * says what to do.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createConfiguration,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  VersionApi,
  type Configuration,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { environmentError, KubelabError } from '../errors.js';
import { isRecord } from '../manifests/load.js';
import { interpretExecStatus, mapExecOpenError, mapKubeError } from './kube-errors.js';
import { admissionAnswerOf, parseWarningHeaders } from './kube-admission.js';
import { apiVersionOf, applyOrder, objectRef, prepareForApply, toWireObject } from './kube-wire.js';
import { pollUntil, systemClock, type Clock } from './poll.js';
import { readinessReport } from './readiness.js';
import type {
  AdmissionAnswer,
  ApplyOutcome,
  Cluster,
  ExecResult,
  KubeObject,
  ListableKind,
  PodRef,
  ProgressFn,
  ReadyReport,
} from './types.js';

export interface KubeConnectOptions {
  /** Context to use (default: the kubeconfig's current context). */
  context?: string;
  /** kubeconfig file(s), separated like KUBECONFIG (default: $KUBECONFIG, then ~/.kube/config). */
  kubeconfig?: string;
  /** kubeconfig text (e.g. from `kind get kubeconfig`); takes precedence over files. */
  kubeconfigYaml?: string;
  env?: NodeJS.ProcessEnv;
}

export interface KubeClusterOptions {
  /** Per-request deadline for API calls (a hung API server must not hang kubelab). */
  requestTimeoutMs?: number;
  clock?: Clock;
  /**
   * Wrap exec'd commands in `timeout N` (default true) unless they already start with `timeout`:
   * closing the exec socket does not stop the command in the container, so it must bound itself.
   */
  boundExecCommands?: boolean;
  /** Extra time an exec may take beyond its own timeout (websocket setup, scheduling). */
  execTransportGraceMs?: number;
}

const FIELD_MANAGER = 'kubelab';

/** Reads kubeconfig the way kubectl does (files merged, first one wins), without client-node's silent fallbacks. */
export function loadKubeConfig(opts: KubeConnectOptions = {}): {
  kc: KubeConfig;
  context: string;
  source: string;
} {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  let source: string;
  if (opts.kubeconfigYaml !== undefined) {
    try {
      kc.loadFromString(opts.kubeconfigYaml);
    } catch (e) {
      throw environmentError(`the kubeconfig could not be read: ${(e as Error).message}`);
    }
    source = 'kubeconfig text';
  } else {
    // An empty KUBECONFIG counts as unset, as it does for kubectl (client-go's loading rules).
    const listed = opts.kubeconfig || env.KUBECONFIG || join(env.HOME || homedir(), '.kube', 'config');
    const files = listed.split(delimiter).filter((f) => f.length > 0);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) {
      throw environmentError(
        `no kubeconfig found (looked at ${files.join(', ') || '(nothing)'}).`,
        "Create the kind cluster with `kubelab cluster up`, or point --kubeconfig / KUBECONFIG at your cluster's kubeconfig.",
      );
    }
    const parts = present.map((file) => {
      const part = new KubeConfig();
      try {
        part.loadFromFile(file);
      } catch (e) {
        throw environmentError(
          `the kubeconfig ${file} could not be read: ${(e as Error).message}`,
          'Fix or remove that file (kubectl config view shows what it contains).',
        );
      }
      return part;
    });
    mergeFirstWins(kc, parts);
    source = present.join(delimiter);
  }
  const names = kc.getContexts().map((c) => c.name);
  const context = opts.context ?? (kc.getCurrentContext() || undefined);
  if (!context) {
    throw environmentError(
      `the kubeconfig (${source}) has no current context.`,
      names.length > 0
        ? `Pick one with --context: ${names.join(', ')}.`
        : 'It defines no contexts at all: `kubelab cluster up` creates a cluster and its context.',
    );
  }
  if (!names.includes(context)) {
    throw environmentError(
      `context "${context}" is not in the kubeconfig (${source}).`,
      names.length > 0
        ? `Known contexts: ${names.join(', ')}.`
        : 'It defines no contexts: `kubelab cluster up` creates one.',
    );
  }
  kc.setCurrentContext(context);
  if (!kc.getCurrentCluster())
    throw environmentError(`context "${context}" refers to a cluster that the kubeconfig does not define.`);
  return { kc, context, source };
}

function mergeFirstWins(target: KubeConfig, parts: KubeConfig[]): void {
  const clusters: KubeConfig['clusters'] = [];
  const users: KubeConfig['users'] = [];
  const contexts: KubeConfig['contexts'] = [];
  let currentContext: string | undefined;
  for (const p of parts) {
    for (const c of p.clusters) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of p.users) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of p.contexts) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    currentContext ??= p.currentContext || undefined;
  }
  target.loadFromOptions({ clusters, users, contexts, currentContext });
}

/** KubernetesObjectApi with a deadline on every request. */
class DeadlineObjectApi extends KubernetesObjectApi {
  static create(kc: KubeConfig, config: Configuration): DeadlineObjectApi {
    const api = new DeadlineObjectApi(config);
    api.setDefaultNamespace(kc);
    return api;
  }
}

function configurationWithDeadline(kc: KubeConfig, server: string, timeoutMs: number): Configuration {
  return createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (ctx) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          return ctx;
        },
        post: async (res) => res,
      },
    ],
  });
}

function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Exit codes of `timeout` when it had to stop the command (GNU: 124; some busybox builds: 128+TERM). */
const BOUND_EXCEEDED = new Set([124, 143]);

export class KubeCluster implements Cluster {
  readonly mode = 'kube' as const;
  readonly description: string;
  readonly context: string;
  readonly server: string;
  private readonly objects: DeadlineObjectApi;
  private readonly versionApi: VersionApi;
  private readonly execApi: Exec;
  private readonly clock: Clock;
  private readonly containers = new Map<string, string>();

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly opts: KubeClusterOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw environmentError('the kubeconfig has no current cluster.');
    this.server = cluster.server;
    this.context = kubeConfig.getCurrentContext();
    this.description = `context ${this.context} (${this.server})`;
    const config = configurationWithDeadline(kubeConfig, this.server, opts.requestTimeoutMs ?? 30_000);
    this.objects = DeadlineObjectApi.create(kubeConfig, config);
    this.versionApi = new VersionApi(config);
    this.execApi = new Exec(kubeConfig);
    this.clock = opts.clock ?? systemClock;
  }

  private fail(e: unknown, action: string): KubelabError {
    return mapKubeError(e, { action, server: this.server });
  }

  /** The API server's version; throws an ENVIRONMENT error when it cannot be reached. */
  async ping(): Promise<string> {
    try {
      const info = await this.versionApi.getCode();
      return info.gitVersion;
    } catch (e) {
      throw this.fail(e, `reach the cluster (${this.context})`);
    }
  }

  async apply(objects: KubeObject[], opts: { onProgress?: ProgressFn } = {}): Promise<ApplyOutcome[]> {
    const start = this.clock.now();
    const prepared = prepareForApply(applyOrder(objects));
    const outcomes: ApplyOutcome[] = [];
    for (const [i, { wire, model }] of prepared.entries()) {
      const what = objectRef(wire);
      const before = await this.readModel(
        wire.apiVersion,
        wire.kind,
        wire.metadata.name,
        wire.metadata.namespace,
        `apply ${what}`,
      );
      let after: KubernetesObject;
      try {
        after = await this.objects.patch(
          model,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        );
      } catch (e) {
        throw this.fail(e, `apply ${what}`);
      }
      const action: ApplyOutcome['action'] =
        before === undefined
          ? 'created'
          : before.metadata?.resourceVersion === after.metadata?.resourceVersion
            ? 'unchanged'
            : 'configured';
      outcomes.push({
        kind: wire.kind,
        name: wire.metadata.name,
        ...(wire.metadata.namespace ? { namespace: wire.metadata.namespace } : {}),
        action,
      });
      opts.onProgress?.({ step: 'apply', detail: `${what} ${action}`, elapsedMs: this.clock.now() - start });
      if (wire.kind === 'CustomResourceDefinition') {
        const group = isRecord(wire.spec) ? wire.spec.group : undefined;
        const usedLater = prepared
          .slice(i + 1)
          .some((p) => p.wire.apiVersion.startsWith(`${String(group)}/`));
        if (usedLater) await this.waitCrdEstablished(wire.metadata.name);
      }
    }
    return outcomes;
  }

  private async waitCrdEstablished(name: string): Promise<void> {
    const result = await pollUntil(
      async () => {
        const crd = await this.getObject('apiextensions.k8s.io/v1', 'CustomResourceDefinition', name);
        const conditions = isRecord(crd?.status) ? crd.status.conditions : undefined;
        const done =
          Array.isArray(conditions) &&
          conditions.some((c) => isRecord(c) && c.type === 'Established' && c.status === 'True');
        return { done, value: undefined };
      },
      { timeoutMs: 60_000, intervalMs: 500, clock: this.clock },
    );
    if (!result.done)
      throw environmentError(
        `CustomResourceDefinition ${name} was not established within 60s.`,
        'Check the API server (kubectl get crd ' + name + ' -o yaml).',
      );
  }

  private async readModel(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    action: string,
  ): Promise<KubernetesObject | undefined> {
    try {
      return await this.objects.read({
        apiVersion,
        kind,
        metadata: { name, ...(namespace ? { namespace } : {}) },
      });
    } catch (e) {
      const err = this.fail(e, action);
      if (err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** One object in wire shape, or undefined when it does not exist. */
  async getObject(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<KubeObject | undefined> {
    const model = await this.readModel(
      apiVersion,
      kind,
      name,
      namespace,
      `read ${kind} ${namespace ? `${namespace}/` : ''}${name}`,
    );
    return model === undefined ? undefined : toWireObject(model, { apiVersion, kind });
  }

  /** Objects of any kind in wire shape, in one namespace or all, optionally by label selector. */
  async listObjects(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<KubeObject[]> {
    try {
      const list = await this.objects.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      return (list.items ?? []).map((item) => toWireObject(item, { apiVersion, kind }));
    } catch (e) {
      throw this.fail(e, `list ${kind}${namespace ? ` in ${namespace}` : ''}`);
    }
  }

  list(kind: ListableKind, namespace?: string): Promise<KubeObject[]> {
    return this.listObjects(apiVersionOf(kind), kind, namespace);
  }

  /** A server-side dry-run create: admission runs (Pod Security included), nothing is stored. */
  async dryRunCreate(object: KubeObject): Promise<AdmissionAnswer> {
    const warnings: string[] = [];
    const config = createConfiguration({
      baseServer: new ServerConfiguration(this.server, {}),
      authMethods: { default: this.kubeConfig },
      promiseMiddleware: [
        {
          pre: async (ctx) => {
            ctx.setSignal(AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000));
            return ctx;
          },
          post: async (res) => {
            warnings.push(...parseWarningHeaders([res.headers.warning]));
            return res;
          },
        },
      ],
    });
    const api = DeadlineObjectApi.create(this.kubeConfig, config);
    const wire = { ...object, apiVersion: object.apiVersion || apiVersionOf(object.kind) };
    try {
      await api.create(wire, undefined, 'All');
      return admissionAnswerOf(object, { ok: true, warnings });
    } catch (e) {
      if (e instanceof Error && typeof (e as { code?: unknown }).code === 'number' && 'body' in e)
        return admissionAnswerOf(object, {
          ok: false,
          code: (e as unknown as { code: number }).code,
          body: (e as unknown as { body: unknown }).body,
          warnings,
        });
      throw this.fail(e, `dry-run create ${object.kind} ${object.metadata.name}`);
    }
  }

  async delete(kind: string, name: string, namespace?: string): Promise<void> {
    const apiVersion = apiVersionOf(kind);
    try {
      await this.objects.delete({
        apiVersion,
        kind,
        metadata: { name, ...(namespace ? { namespace } : {}) },
      });
    } catch (e) {
      const err = this.fail(e, `delete ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
      if (err.code !== 'NOT_FOUND') throw err;
    }
  }

  async waitReady(
    namespaces: string[],
    opts: { timeoutMs: number; onProgress?: ProgressFn },
  ): Promise<ReadyReport> {
    const state = await pollUntil(
      async () => {
        const pods: KubeObject[] = [];
        const workloads: KubeObject[] = [];
        for (const ns of namespaces) {
          pods.push(...(await this.list('Pod', ns)));
          for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const)
            workloads.push(...(await this.listObjects('apps/v1', kind, ns)));
        }
        const report = readinessReport(pods, workloads);
        return { done: report.ready, value: report };
      },
      {
        timeoutMs: opts.timeoutMs,
        intervalMs: 1000,
        clock: this.clock,
        onAttempt: (s, elapsedMs) =>
          opts.onProgress?.({
            step: 'waiting for pods',
            detail: `${s.value.readyPods}/${s.value.totalPods} ready${s.value.notReady.length > 0 ? `; ${s.value.notReady.slice(0, 3).join('; ')}` : ''}`,
            elapsedMs,
          }),
      },
    );
    return { ready: state.value.ready, notReady: state.value.notReady };
  }

  async deleteNamespace(
    name: string,
    opts: { timeoutMs?: number; onProgress?: ProgressFn } = {},
  ): Promise<void> {
    await this.delete('Namespace', name);
    const timeoutMs = opts.timeoutMs ?? 180_000;
    const state = await pollUntil(
      async () => {
        const ns = await this.getObject('v1', 'Namespace', name);
        return { done: ns === undefined, value: ns };
      },
      {
        timeoutMs,
        intervalMs: 1000,
        clock: this.clock,
        onAttempt: (s, elapsedMs) => {
          if (!s.done)
            opts.onProgress?.({ step: `deleting namespace ${name}`, detail: 'Terminating', elapsedMs });
        },
      },
    );
    if (!state.done) {
      throw environmentError(
        `namespace ${name} was still being deleted after ${Math.round(timeoutMs / 1000)}s.`,
        `Something holds it (a finalizer or a stuck pod): kubectl get namespace ${name} -o yaml; kubectl get all -n ${name}.`,
      );
    }
  }

  private async containerOf(pod: PodRef): Promise<string> {
    if (pod.container) return pod.container;
    const key = `${pod.namespace}/${pod.name}`;
    const known = this.containers.get(key);
    if (known) return known;
    const obj = await this.getObject('v1', 'Pod', pod.name, pod.namespace);
    if (!obj)
      throw environmentError(
        `cannot exec in pod ${key}: the pod does not exist.`,
        'It may have been replaced; `kubelab lab reset` re-creates the lab environment.',
      );
    const annotated = obj.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const first =
      Array.isArray(spec.containers) && isRecord(spec.containers[0]) ? spec.containers[0].name : undefined;
    const name = annotated ?? (typeof first === 'string' ? first : undefined);
    if (!name) throw environmentError(`cannot exec in pod ${key}: it has no containers.`);
    this.containers.set(key, name);
    return name;
  }

  async exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const podName = `${pod.namespace}/${pod.name}`;
    const container = await this.containerOf(pod);
    // A command that already starts with `timeout` (every probe/ command does) bounds itself.
    const bound = this.opts.boundExecCommands !== false && argv[0] !== 'timeout';
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const command = bound ? ['timeout', String(seconds), ...argv] : argv;
    const stdout = collector();
    const stderr = collector();
    const deadlineMs = timeoutMs + (this.opts.execTransportGraceMs ?? 3000);

    return new Promise<ExecResult>((resolve, reject) => {
      let socket: { close(): void; addEventListener(type: 'close', cb: () => void): void } | undefined;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
        try {
          socket?.close();
        } catch {
          // already closed
        }
      };
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(
              environmentError(
                `exec in pod ${podName} got no answer within ${Math.round(deadlineMs / 1000)}s.`,
                'The pod or its node may be overloaded or gone; `kubelab lab status` shows the pods.',
              ),
            ),
          ),
        deadlineMs,
      );
      this.execApi
        .exec(
          pod.namespace,
          pod.name,
          container,
          command,
          stdout.stream,
          stderr.stream,
          null,
          false,
          (status) => {
            // The status is the last message on the socket: stdout and stderr are complete here.
            const outcome = interpretExecStatus(status);
            settle(() => {
              if (outcome.kind === 'failure') {
                const missing = /executable file not found|no such file or directory/i.test(outcome.message);
                reject(
                  environmentError(
                    `the command could not run in pod ${podName} (container ${container}): ${outcome.message}`,
                    missing
                      ? `The container image lacks \`${bound ? `timeout or ${argv[0]}` : argv[0]}\`; the scenario's pods must use an image with the probe tools.`
                      : 'Check the pod: kubectl describe pod -n ' + pod.namespace + ' ' + pod.name,
                  ),
                );
              } else if (bound && BOUND_EXCEEDED.has(outcome.exitCode)) {
                reject(
                  environmentError(
                    `\`${argv.join(' ')}\` in pod ${podName} did not finish within ${seconds}s and was stopped.`,
                    'The pod may be overloaded; try again.',
                  ),
                );
              } else {
                resolve({ exitCode: outcome.exitCode, stdout: stdout.text(), stderr: stderr.text() });
              }
            });
          },
        )
        .then(
          (ws) => {
            socket = ws;
            if (settled) {
              ws.close();
              return;
            }
            ws.addEventListener('close', () =>
              settle(() =>
                reject(
                  environmentError(
                    `the exec connection to pod ${podName} closed without an exit status.`,
                    'The pod may have restarted or the API server dropped the connection; try again.',
                  ),
                ),
              ),
            );
          },
          (e: unknown) => settle(() => reject(mapExecOpenError(e, podName, this.server))),
        );
    });
  }
}

/**
 * Opens a cluster from kubeconfig and (by default) checks that its API server answers, so a wrong
 * context fails here with a clear message rather than in the middle of a grade.
 */
export async function connectKube(
  opts: KubeConnectOptions & KubeClusterOptions & { verify?: boolean } = {},
): Promise<KubeCluster> {
  const { kc } = loadKubeConfig(opts);
  const cluster = new KubeCluster(kc, opts);
  if (opts.verify !== false) await cluster.ping();
  return cluster;
}
