/** The exam catalogue and service as the web app uses them (loaded once per server, like labs). */
import type { Cluster } from '../cluster/types.js';
import type { Problem } from '../errors.js';
import { REAL_CLUSTER_CONCURRENCY, REAL_CLUSTER_SETTLE_MS } from '../grader/index.js';
import { loadExam, validateExams, type ExamRoots } from '../exams/load.js';
import type { LoadedExam } from '../exams/model.js';
import { ExamService } from '../exams/service.js';
import type { ProgressStore } from '../store/index.js';
import { parseLearnerManifests } from './manifests.js';
import type { WebLimits } from './deps.js';

export interface ExamCatalogue {
  list(): Promise<{ exams: LoadedExam[]; problems: Problem[] }>;
  get(id: string): Promise<LoadedExam>;
}

export function examCatalogue(roots?: Partial<ExamRoots>): ExamCatalogue {
  const cache = new Map<string, Promise<LoadedExam>>();
  let all: Promise<{ exams: LoadedExam[]; problems: Problem[] }> | undefined;
  return {
    list: () => (all ??= validateExams(roots)),
    get: (id) => {
      let p = cache.get(id);
      if (!p) {
        p = loadExam(id, roots);
        cache.set(id, p);
        p.catch(() => cache.delete(id));
      }
      return p;
    },
  };
}

export function webExamService(opts: {
  store: ProgressStore;
  clock: () => Date;
  exams: ExamCatalogue;
  limits: WebLimits;
  realCluster: () => Cluster | undefined;
}): ExamService {
  return new ExamService({
    store: opts.store,
    clock: opts.clock,
    load: (id) => opts.exams.get(id),
    realCluster: opts.realCluster,
    parse: (text, lab) =>
      parseLearnerManifests(text, lab, {
        maxBytes: opts.limits.maxManifestBytes,
        maxAliasCount: opts.limits.maxAliasCount,
      }),
    realGrade: { settleMs: REAL_CLUSTER_SETTLE_MS, concurrency: REAL_CLUSTER_CONCURRENCY },
  });
}
