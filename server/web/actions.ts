/**
 * What a learner can do, independent of how they asked (HTML form, fetch from the page, JSON API).
 * Pages and the API are thin adapters over these functions.
 */
import type { KubeObject } from '../cluster/types.js';
import { badInput, notFound } from '../errors.js';
import type { GradeReport } from '../grader/report.js';
import { simKubeconfig } from '../cluster/sim/api/kubeconfig.js';
import { simServerUrl } from '../cluster/sim/api/server.js';
import type { Lab } from '../labs/model.js';
import { isProgressNotSaved, reportRecord, type LabProgress, type ReportRecord } from '../store/index.js';
import type { ActiveCluster, WebDeps, WebLimits } from './deps.js';
import { editorUntouched, isStarterText } from './editor.js';
import { parseLearnerManifests } from './manifests.js';
import type { ConnectivityMatrix } from './matrix.js';

/** Lab ids are folder names under labs/: anything else is not a lab (and never touches the disk). */
export const LAB_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface AppState {
  active: ActiveCluster;
}

export interface CheckOutcome {
  /** The report as JSON text (what the JSON API answers and the store keeps). */
  record: ReportRecord;
  /** The report itself, read from `record` on first use (the JSON API never needs it). */
  readonly report: GradeReport;
  /** Set when the grade could not be recorded (the progress database refused the write). */
  progressNotSaved?: string;
}

function outcome(record: ReportRecord, report?: GradeReport, progressNotSaved?: string): CheckOutcome {
  let parsed = report;
  return {
    record,
    get report() {
      return (parsed ??= JSON.parse(record.json) as GradeReport);
    },
    ...(progressNotSaved !== undefined ? { progressNotSaved } : {}),
  };
}

export class LabActions {
  constructor(
    private readonly deps: WebDeps,
    private readonly state: AppState,
    private readonly limits: WebLimits,
  ) {}

  get active(): ActiveCluster {
    return this.state.active;
  }

  async lab(id: string): Promise<Lab> {
    if (!LAB_ID.test(id))
      throw notFound(
        `there is no lab called ${JSON.stringify(id.slice(0, 80))}`,
        'Pick a lab from the catalogue.',
      );
    return this.deps.labs.get(id);
  }

  progress(lab: Lab, learnerId: string): LabProgress {
    return this.deps.store.progress(learnerId, lab.id);
  }

  /**
   * Grades the learner's live cluster. In simulated mode `manifests` (the editor's YAML text)
   * first replaces what the editor applied before, unless the learner never touched the editor
   * (then their kubectl work is graded as it is); in kube mode the text is ignored.
   */
  async check(lab: Lab, learnerId: string, manifests: unknown): Promise<CheckOutcome> {
    const simulated = this.state.active.info.mode === 'simulated';
    let text: string | undefined;
    let objects: KubeObject[] | undefined;
    let record: ReportRecord | undefined;
    let report: GradeReport | undefined;
    if (simulated) {
      if (typeof manifests !== 'string') {
        throw badInput(
          'send the manifests to apply as a string field `manifests` (YAML text)',
          [],
          'An empty string removes your policies.',
        );
      }
      text = manifests;
      const limits = { maxBytes: this.limits.maxManifestBytes, maxAliasCount: this.limits.maxAliasCount };
      const checker = this.state.active.checker;
      if (checker.checkText) {
        // One round trip: the worker reads the text and grades, and answers the report as JSON.
        const apply = !this.untouched(lab, learnerId, text);
        record = await checker.checkText({ lab, learnerId, text, limits, apply });
      } else {
        const parsed = checker.parse
          ? await checker.parse({ lab, learnerId, text, limits })
          : parseLearnerManifests(text, lab, limits);
        if (!this.untouched(lab, learnerId, text)) objects = parsed;
      }
    }
    if (!record) {
      report = await this.state.active.checker.check({
        lab,
        learnerId,
        ...(objects !== undefined ? { manifests: objects } : {}),
      });
      record = reportRecord(report);
    }
    try {
      this.deps.store.recordCheck(learnerId, lab.id, this.deps.clock(), {
        ...(text !== undefined ? { manifests: text } : {}),
        report: record,
      });
    } catch (e) {
      // The grade is still true and the learner should see it; only the record of it is lost.
      if (!isProgressNotSaved(e)) throw e;
      return outcome(record, report, e.message);
    }
    return outcome(record, report);
  }

  /**
   * editorUntouched(), reading the learner's progress only when the text is the starter (reading
   * it parses the stored report, and almost every check sends text of the learner's own).
   */
  private untouched(lab: Lab, learnerId: string, text: string): boolean {
    return isStarterText(lab, text) && editorUntouched(lab, this.progress(lab, learnerId), text);
  }

  matrix(lab: Lab, learnerId: string): Promise<ConnectivityMatrix> {
    return this.state.active.checker.matrix({ lab, learnerId });
  }

  /** Reveals the next hint; when all are shown, says so instead of failing. */
  nextHint(
    lab: Lab,
    learnerId: string,
  ): { hint: string | null; index: number | null; hintsUsed: number; total: number } {
    const total = lab.hints.length;
    const before = this.deps.store.progress(learnerId, lab.id).hintsUsed;
    const hintsUsed = this.deps.store.revealHint(learnerId, lab.id, total, this.deps.clock());
    if (hintsUsed === before) return { hint: null, index: null, hintsUsed, total };
    return { hint: lab.hints[hintsUsed - 1] ?? null, index: hintsUsed - 1, hintsUsed, total };
  }

  revealedHints(lab: Lab, progress: LabProgress): string[] {
    return lab.hints.slice(0, progress.hintsUsed);
  }

  async solution(lab: Lab, learnerId: string, confirmed: boolean): Promise<string> {
    if (!confirmed) {
      throw badInput(
        'confirm that you want to see the solution',
        [],
        'Tick the box (or send {"confirm": true}); it is recorded in your progress.',
      );
    }
    const text = await this.deps.labs.solution(lab);
    this.deps.store.recordSolutionViewed(learnerId, lab.id, this.deps.clock());
    return text;
  }

  /** The solution, only if this learner already chose to see it. */
  async shownSolution(lab: Lab, progress: LabProgress): Promise<string | undefined> {
    return progress.solutionViewed ? this.deps.labs.solution(lab) : undefined;
  }

  /**
   * A kubeconfig that opens this learner's simulated cluster of this lab to kubectl, naming the
   * server as the learner reached it (`origin`, e.g. http://127.0.0.1:3000).
   */
  kubeconfig(lab: Lab, learnerId: string, origin: string): string {
    if (!this.state.active.kubectl)
      throw notFound(
        "this kubelab server grades a real cluster: kubectl uses that cluster's own kubeconfig",
        'Use the kubeconfig of the cluster (kind: kubectl config use-context kind-kubelab).',
      );
    const token = this.deps.store.apiToken(learnerId, lab.id, this.deps.clock());
    return simKubeconfig({
      server: simServerUrl(origin, token),
      token,
      name: `kubelab-${lab.id}`,
      namespace: lab.namespace,
    });
  }

  async reset(lab: Lab, learnerId: string): Promise<void> {
    await this.state.active.checker.reset({ lab, learnerId });
    this.deps.store.recordReset(learnerId, lab.id, this.deps.clock());
  }
}

/** `true`, `"true"`, `"yes"`, `"on"` (an HTML checkbox) all confirm. */
export function isConfirmed(v: unknown): boolean {
  return v === true || v === 'true' || v === 'yes' || v === 'on';
}
