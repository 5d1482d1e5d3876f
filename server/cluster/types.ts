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
  | RbacListableKind;

/** The RBAC objects and ServiceAccounts the `access` checks read (to explain verdicts). */
export type RbacListableKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding' | 'ServiceAccount';

export interface ApplyOutcome {
  kind: string;
  namespace?: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
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

/**
 * "May this user make this request?", as a SubjectAccessReview asks it: the user name and every
 * group it is in (the caller adds the implicit ones), the verb, and the resource in its API group.
 * No namespace: cluster-wide (a cluster-scoped resource, or a namespaced one in every namespace).
 */
export interface AccessQuery {
  user: string;
  groups: string[];
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

export interface AccessAnswer {
  allowed: boolean;
  /** The authorizer's reason (`RBAC: allowed by RoleBinding "x/ns" of Role "y" to ...`), may be empty. */
  reason: string;
  /**
   * The authorizer could not evaluate everything (SubjectAccessReview status.evaluationError): a
   * denial that comes with one is not proof that the request is denied.
   */
  evaluationError?: string;
}

/** A resource (or subresource) the API server serves, from discovery. */
export interface ServedResource {
  group: string;
  version: string;
  /** Plural name, e.g. `pods`. */
  resource: string;
  /** e.g. `log` for `pods/log`. */
  subresource?: string;
  namespaced: boolean;
  verbs: string[];
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

  /** Deletes a namespace and waits until it is gone. */
  deleteNamespace(name: string, opts?: { timeoutMs?: number; onProgress?: ProgressFn }): Promise<void>;

  /**
   * Asks the cluster's authorizer about each query (SubjectAccessReview on a real cluster, the
   * RBAC engine on the simulated one), answers in the order asked. Throws an ENVIRONMENT error
   * when a review could not be made. Optional: a cluster without it cannot grade `access` checks.
   */
  reviewAccess?(queries: AccessQuery[]): Promise<AccessAnswer[]>;

  /** Every resource and subresource the API server serves (discovery). */
  servedResources?(): Promise<ServedResource[]>;
}
