/**
 * The one interface the grader, the CLI and the web app use to talk to a cluster. Two
 * implementations: kube.ts (any kubeconfig, through @kubernetes/client-node) and sim/ (in-process).
 * Objects go in and come out in their Kubernetes wire shape, so code above this layer cannot tell
 * the two apart.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Kinds the grader lists. Implementations may support more. */
export type ListableKind =
  | 'Namespace'
  | 'Pod'
  | 'Service'
  | 'Endpoints'
  | 'NetworkPolicy'
  | 'Deployment'
  | 'Node'
  // Read by the `state` and `admission` checks.
  | 'ServiceAccount'
  | 'ReplicaSet'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob';

/**
 * Whether the API server would admit an object, asked without storing it (server-side dry run):
 * admission plugins such as Pod Security run, nothing changes.
 */
export interface AdmissionAnswer {
  kind: string;
  namespace?: string;
  name: string;
  admitted: boolean;
  /** The API server's message when it refused the object. */
  message?: string;
  /** `Warning:` lines the API server returned. */
  warnings: string[];
}

export interface ApplyOutcome {
  kind: string;
  namespace?: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
  /** What the API server said besides (`Warning:` lines, e.g. from Pod Security's warn mode). */
  warnings?: string[];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface PodRef {
  namespace: string;
  name: string;
  container?: string;
}

/** Long operations report what they are doing; the CLI prints it, the web app streams it. */
export interface ProgressEvent {
  step: string;
  detail?: string;
  /** Milliseconds since the operation started. */
  elapsedMs: number;
  level?: 'info' | 'warn';
}

export type ProgressFn = (e: ProgressEvent) => void;

export interface ReadyReport {
  ready: boolean;
  /** One entry per pod that is not ready, e.g. `np-lab/db1-7c9f-abcde: ContainersNotReady (ImagePullBackOff)`. */
  notReady: string[];
}

export interface Cluster {
  readonly mode: 'simulated' | 'kube';
  /** Human description, e.g. `simulated cluster` or `context kind-kubelab`. */
  readonly description: string;

  /** Creates or updates objects (server-side apply on a real cluster). Invalid objects -> BAD_INPUT. */
  apply(objects: KubeObject[], opts?: { onProgress?: ProgressFn }): Promise<ApplyOutcome[]>;

  /** Deletes one object; absent objects are not an error. */
  delete(kind: string, name: string, namespace?: string): Promise<void>;

  /** Lists objects of a kind, in one namespace or all. */
  list(kind: ListableKind, namespace?: string): Promise<KubeObject[]>;

  /** Polls until every pod in the namespaces is Ready or the deadline passes. */
  waitReady(namespaces: string[], opts: { timeoutMs: number; onProgress?: ProgressFn }): Promise<ReadyReport>;

  /**
   * Runs argv in a container and returns its exit code and output. Throws an ENVIRONMENT
   * KubelabError only when the command could not be run at all (no such pod or binary, socket
   * closed without a status, client-side timeout): a failed exec is never a "blocked" verdict.
   */
  exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult>;

  /**
   * Would the API server admit this object now (create as a server-side dry run; nothing is
   * stored)? Throws an ENVIRONMENT error when the question cannot be answered (the API is
   * unreachable, the dry run failed for a reason other than admission): never read that as
   * "admitted". Optional so that test doubles need not implement it; the grader reports a cluster
   * without it as an environment problem.
   */
  dryRunCreate?(object: KubeObject): Promise<AdmissionAnswer>;

  /** Deletes a namespace and waits until it is gone. */
  deleteNamespace(name: string, opts?: { timeoutMs?: number; onProgress?: ProgressFn }): Promise<void>;
}
