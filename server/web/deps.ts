/**
 * Everything the web app needs from the rest of kubelab, as narrow interfaces. createApp() only sees
 * these, so tests run it with fakes and server/web/wiring.ts plugs in the real labs, grader and
 * clusters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Lab } from '../labs/model.js';
import type { GradeReport } from '../grader/report.js';
import type { KubeObject, ProgressFn } from '../cluster/types.js';
import type { Problem } from '../errors.js';
import type { ProgressStore, ReportRecord } from '../store/index.js';
import type { ConnectivityMatrix } from './matrix.js';
import type { Cluster } from '../cluster/types.js';
import type { ExamCatalogue } from './exams.js';

export type LabPageKind = 'task' | 'concept' | 'completion';

/** The labs on disk. `get` throws a NOT_FOUND KubelabError for an unknown id. */
export interface LabCatalogue {
  /** The valid labs, and what is wrong with the others (one broken lab must not hide the rest). */
  list(): Promise<{ labs: Lab[]; problems: Problem[] }>;
  get(id: string): Promise<Lab>;
  /** The Markdown source of one of the lab's pages. */
  page(lab: Lab, kind: LabPageKind): Promise<string>;
  /** The reference solution (YAML text), shown only after the learner confirms. */
  solution(lab: Lab): Promise<string>;
  /** The scenario's objects as applied to a fresh cluster (for the picture of the scenario). */
  scenarioObjects(lab: Lab): Promise<KubeObject[]>;
}

export interface ModeInfo {
  mode: 'simulated' | 'kube';
  /** e.g. `simulated cluster (in-process)` or `context kind-kubelab`. */
  description: string;
  /** Why this mode was chosen, in one sentence for the banner (e.g. `Docker is not running`). */
  reason?: string;
  /** The technical detail behind the reason (a tool's own error), shown on the cluster page only. */
  detail?: string;
}

/**
 * Grades a learner's work in one mode, always on the live cluster. Simulated: every learner has
 * their own simulated cluster per lab (which kubectl reaches too), and `manifests`, when given,
 * first replaces what the editor applied before. Kube: the learner changes the cluster with
 * kubectl and `manifests` is ignored.
 */
export interface Checker {
  check(req: { lab: Lab; learnerId: string; manifests?: KubeObject[] }): Promise<GradeReport>;
  /**
   * Reads the learner's YAML (parseLearnerManifests) where the grading runs, so a large or
   * hostile text never blocks the HTTP thread. Optional: without it the app parses in-process.
   */
  parse?(req: { lab: Lab; learnerId: string; text: string; limits: ManifestLimits }): Promise<KubeObject[]>;
  /**
   * parse() then check() where the grading runs, in one round trip, answering the report already
   * serialised (the HTTP thread only stores and sends it). `apply: false` still reads the text
   * (bad YAML is refused the same) but grades the live cluster as it is. Optional, like parse().
   */
  checkText?(req: {
    lab: Lab;
    learnerId: string;
    text: string;
    limits: ManifestLimits;
    apply: boolean;
  }): Promise<ReportRecord>;
  /** What the policies in the learner's cluster predict right now for the lab's connectivity checks. */
  matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix>;
  /** Back to the scenario as shipped (the learner's policies removed). */
  reset(req: { lab: Lab; learnerId: string }): Promise<void>;
}

/**
 * The Kubernetes API of learners' simulated clusters, for kubectl: one endpoint under `/sim/TOKEN/`
 * on the web app's own port, the token naming one learner's cluster of one lab.
 */
export interface KubectlEndpoint {
  /** Answers a request whose path starts with `/sim/` (never throws). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Answers a WebSocket upgrade under `/sim/` (exec). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close?(): Promise<void>;
}

export interface ManifestLimits {
  maxBytes: number;
  maxAliasCount: number;
}

export interface ActiveCluster {
  info: ModeInfo;
  checker: Checker;
  /** Present where kubectl can reach learners' clusters (the simulated mode). */
  kubectl?: KubectlEndpoint;
  /** The real cluster itself (kube mode): an exam deploys all its scenarios on it at once. */
  cluster?: Cluster;
}

export interface WebLimits {
  /** Largest accepted request body (bytes); bigger -> 413. */
  maxBodyBytes: number;
  /** Largest accepted manifest text (bytes); bigger -> 400. */
  maxManifestBytes: number;
  /** Most YAML aliases expanded per document (billion-laughs guard). */
  maxAliasCount: number;
}

export const DEFAULT_LIMITS: WebLimits = {
  maxBodyBytes: 256 * 1024,
  maxManifestBytes: 128 * 1024,
  maxAliasCount: 50,
};

export interface WebDeps {
  labs: LabCatalogue;
  /** The cluster learners work on when the app starts. */
  cluster: ActiveCluster;
  /**
   * Creates the real cluster (kind + Calico) and returns it, reporting progress as it goes. Absent
   * when there is no Docker/kind: the page then explains how to get a real cluster instead.
   */
  provision?: (onProgress: ProgressFn) => Promise<ActiveCluster>;
  /** Why provisioning is unavailable, when `provision` is absent (shown on the page). */
  provisionUnavailable?: string;
  store: ProgressStore;
  clock: () => Date;
  limits?: Partial<WebLimits>;
  /**
   * Host names the app answers to (guards a loopback server against DNS rebinding). Undefined:
   * any Host is accepted (the server was exposed deliberately with --host).
   */
  allowedHostnames?: string[];
  /** Where unexpected errors are logged (never shown to the learner). */
  log?: (message: string) => void;
  /** The terminal pane of the lab page (kubectl in the browser); absent: off. */
  terminal?: TerminalSettings;
  /** Opens /instructor; without it the instructor's view stays closed. */
  instructorToken?: string;
  /** The exams (default: the repository's exams/). */
  exams?: ExamCatalogue;
}

export interface TerminalSettings {
  /** kubectl's path, or undefined when it is not installed (the pane says how to get it). */
  kubectl: string | undefined;
  /** Off, with the reason the pane shows, when the server is exposed beyond loopback. */
  enabled: boolean;
  disabledReason?: string;
  /**
   * The real cluster's kubeconfig for the terminal; given only where the terminal may reach the
   * real cluster (kubelab serving on loopback, for one person).
   */
  realClusterKubeconfig?: () => Promise<string>;
  /** Time and output limits of a command (tests shorten them). */
  limits?: Partial<import('../terminal/kubectl-runner.js').RunLimits>;
}
