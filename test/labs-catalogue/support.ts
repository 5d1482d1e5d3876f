/**
 * What every catalogue test needs: each lab self-tested once (sharing deployed scenarios), and
 * small readers for the resulting reports.
 */
import { beforeAll, expect } from 'vitest';
import { loadLab } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { selfTestLab, type SelfTestResult } from '../../server/grader/selftest.js';
import { ScenarioClusters } from '../../server/grader/simulated.js';
import type { GradeReport, ProbeResult } from '../../server/grader/report.js';

export const SELF_TEST_TIMEOUT_MS = 180_000;

export interface SelfTestedLabs {
  labs: Map<string, Lab>;
  results: Map<string, SelfTestResult>;
  clusters: ScenarioClusters;
  /** The report of one case, by its file relative to the lab folder (`wrong/01-x.yaml`). */
  report(id: string, file: string): GradeReport;
}

/** Registers a beforeAll that loads and self-tests the labs. */
export function selfTestedLabs(ids: string[]): SelfTestedLabs {
  const labs = new Map<string, Lab>();
  const results = new Map<string, SelfTestResult>();
  const clusters = new ScenarioClusters();
  beforeAll(async () => {
    for (const id of ids) {
      const lab = await loadLab(id);
      labs.set(id, lab);
      results.set(id, await selfTestLab(lab, { clusters }));
    }
  }, SELF_TEST_TIMEOUT_MS);
  return {
    labs,
    results,
    clusters,
    report(id, file) {
      const found = results.get(id)!.cases.find((c) => caseFile(id, c.file) === file);
      expect(found?.report, `a grade report for ${id} ${file}`).toBeDefined();
      return found!.report!;
    },
  };
}

/** A case's file relative to its lab folder. */
export const caseFile = (id: string, file: string) => file.replace(`labs/${id}/`, '');

/** Ids of the checks that did not pass. */
export const notPassing = (r: GradeReport | undefined) =>
  (r?.checks ?? []).filter((c) => c.status !== 'pass').map((c) => c.id);

export function probesOf(r: GradeReport, checkId: string): ProbeResult[] {
  const check = r.checks.find((c) => c.id === checkId);
  expect(check, `check ${checkId} in the report`).toBeDefined();
  return check!.probes;
}

/** `ns/deploy-5d8f9c7b6-x2v4k` -> `ns/deploy`; bare pods keep their name. */
export const workloadOf = (podRef: string) => podRef.replace(/-[a-z0-9]{8,10}-[a-z0-9]{5}$/, '');
