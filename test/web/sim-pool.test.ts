/** The grading worker pool with the real np-backend lab: results, errors and learner affinity. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubelabError } from '../../server/errors.js';
import type { GradeReport } from '../../server/grader/report.js';
import { loadLab } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { parseLearnerManifests } from '../../server/web/manifests.js';
import { SimulatedWorkerPool } from '../../server/web/sim-pool.js';

let pool: SimulatedWorkerPool;
let lab: Lab;
const logs: string[] = [];

beforeAll(async () => {
  pool = new SimulatedWorkerPool({ size: 2, log: (m) => void logs.push(m) });
  lab = await loadLab('np-backend');
});
afterAll(() => pool.close());

async function objects(file: string) {
  return parseLearnerManifests(await readFile(join(lab.dir, file), 'utf8'), lab, {
    maxBytes: 1 << 20,
    maxAliasCount: 50,
  });
}

/** Two learner ids that the pool sends to different workers. */
function learnersOnBothWorkers(): [string, string] {
  const a = 'learner-a';
  for (let i = 0; i < 100; i++) {
    const b = `learner-b${i}`;
    if (pool.workerIndex(b) !== pool.workerIndex(a)) return [a, b];
  }
  throw new Error('no two learners on different workers');
}

describe('SimulatedWorkerPool', () => {
  it('grades in worker threads with the same verdicts, keeping each learner on one worker', async () => {
    const [a, b] = learnersOnBothWorkers();
    const [right, wrong] = await Promise.all([
      pool.check({ lab, learnerId: a, manifests: await objects('solution.yaml') }),
      pool.check({ lab, learnerId: b, manifests: await objects(lab.knownWrong[0]!.file) }),
    ]);
    expect(right.passed).toBe(true);
    expect(wrong.passed).toBe(false);
    expect(wrong.checks.some((c) => c.id === lab.knownWrong[0]!.failsCheck && c.status === 'fail')).toBe(
      true,
    );
    // The learner's cluster lives in their worker: the matrix sees their policy.
    expect((await pool.matrix({ lab, learnerId: a })).before).toBe(false);
    expect((await pool.matrix({ lab, learnerId: 'someone-new' })).before).toBe(true);
    await pool.reset({ lab, learnerId: a });
    expect((await pool.matrix({ lab, learnerId: a })).before).toBe(true);
  });

  it('passes KubelabErrors back with their code, problems and hint', async () => {
    const bad = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'x', namespace: 'np-lab' },
        spec: { podSelector: {}, policyTypes: ['Sideways'] },
      },
    ];
    const error = await pool.check({ lab, learnerId: 'c', manifests: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubelabError);
    expect((error as KubelabError).code).toBe('BAD_INPUT');
    const missing = await pool
      .matrix({ lab: { ...lab, id: 'no-such-lab' }, learnerId: 'c' })
      .catch((e: unknown) => e);
    expect((missing as KubelabError).code).toBe('NOT_FOUND');
  });

  it('a worker that dies fails its pending requests and is replaced on the next one', async () => {
    const p = new SimulatedWorkerPool({ size: 1, log: (m) => void logs.push(m) });
    try {
      await p.matrix({ lab, learnerId: 'd' });
      // Reach into the pool: hold the next request back from the worker (so it is certainly still
      // pending, however fast the worker is), then kill the worker, as a crash mid-request would.
      const slots = (
        p as unknown as {
          slots: Array<
            { worker: { terminate(): Promise<number>; postMessage(m: unknown): void } } | undefined
          >;
        }
      ).slots;
      slots[0]!.worker.postMessage = () => {};
      const pending = p.matrix({ lab, learnerId: 'd' }).catch((e: unknown) => e);
      await slots[0]!.worker.terminate();
      const error = await pending;
      expect(error).toBeInstanceOf(KubelabError);
      expect((error as KubelabError).message).toContain('grading worker stopped unexpectedly');
      expect(logs.some((l) => l.includes('grading worker 0 stopped'))).toBe(true);
      // A fresh worker, so a fresh cluster for the learner.
      expect((await p.matrix({ lab, learnerId: 'd' })).before).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('a closed pool refuses work', async () => {
    const p = new SimulatedWorkerPool({ size: 1 });
    p.warm();
    await p.close();
    p.warm();
    await expect(p.matrix({ lab, learnerId: 'x' })).rejects.toThrow('shut down');
    expect(() => new SimulatedWorkerPool({ size: 0 })).toThrow('size');
  });

  it('reads and grades in one round trip, answering the report as JSON text', async () => {
    const limits = { maxBytes: 128 * 1024, maxAliasCount: 50 };
    const solution = await readFile(join(lab.dir, 'solution.yaml'), 'utf8');
    const known = lab.knownWrong[0]!;
    const wrongText = await readFile(join(lab.dir, known.file), 'utf8');
    // Two learners send the same text (one parse kept in the worker, shared): both are graded on it.
    const [first, second] = await Promise.all(
      ['t1', 't2'].map((learnerId) =>
        pool.checkText({ lab, learnerId, text: solution, limits, apply: true }),
      ),
    );
    for (const record of [first!, second!]) {
      const report = JSON.parse(record.json) as GradeReport;
      expect(report.passed).toBe(true);
      expect(record).toMatchObject({ passed: true, status: 'passed', failedChecks: [] });
    }
    const wrong = await pool.checkText({ lab, learnerId: 't1', text: wrongText, limits, apply: true });
    const wrongReport = JSON.parse(wrong.json) as GradeReport;
    expect(wrongReport.passed).toBe(false);
    expect(wrong.failedChecks).toContain(known.failsCheck);
    expect(wrong.failedChecks).toEqual(
      wrongReport.checks.filter((c) => c.status === 'fail').map((c) => c.id),
    );
    expect(wrong).toMatchObject({ passed: false, status: wrongReport.status });
    // apply: false reads the text but grades the live cluster as it is (t2 still has the solution).
    const untouched = await pool.checkText({ lab, learnerId: 't2', text: wrongText, limits, apply: false });
    expect(untouched.passed).toBe(true);
    // Bad YAML is refused with where it is, whether or not it would be applied.
    for (const apply of [true, false]) {
      const error = await pool
        .checkText({ lab, learnerId: 't2', text: 'kind: NetworkPolicy\nmetadata: [\n', limits, apply })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KubelabError);
      expect((error as KubelabError).code).toBe('BAD_INPUT');
      expect((error as KubelabError).problems[0]).toMatchObject({ file: 'your manifests', line: 3 });
    }
    expect(
      (await pool.checkText({ lab, learnerId: 't2', text: wrongText, limits, apply: false })).passed,
    ).toBe(true);
  });

  it('parses learner YAML in the worker: same objects as in-process, errors as KubelabErrors', async () => {
    const text = await readFile(join(lab.dir, 'solution.yaml'), 'utf8');
    const limits = { maxBytes: 128 * 1024, maxAliasCount: 50 };
    expect(await pool.parse({ lab, learnerId: 'p', text, limits })).toEqual(
      parseLearnerManifests(text, lab, limits),
    );
    const hostile = await pool
      .parse({ lab, learnerId: 'p', text: `a: ${'['.repeat(120_000)}`, limits })
      .catch((e: unknown) => e);
    expect(hostile).toBeInstanceOf(KubelabError);
    expect((hostile as KubelabError).code).toBe('BAD_INPUT');
    expect((hostile as KubelabError).problems).toHaveLength(1);
  });
});
