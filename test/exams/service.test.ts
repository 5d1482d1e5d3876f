/**
 * The exam clock is the server's: the deadline is stored at start, survives a restart (a new
 * service on the same database, the simulated cluster restored from it), every change after it is
 * refused, and the score is taken as the cluster stood at the deadline, once.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExamService } from '../../server/exams/service.js';
import { loadExam } from '../../server/exams/load.js';
import { ProgressStore } from '../../server/store/index.js';
import { parseLearnerManifests } from '../../server/web/manifests.js';
import { isKubelabError } from '../../server/errors.js';

const REPO = join(import.meta.dirname, '../..');
const L = '11111111-2222-4333-8444-555555555555';

function service(store: ProgressStore, now: { t: number }) {
  return new ExamService({
    store,
    clock: () => new Date(now.t),
    load: (id) => loadExam(id),
    parse: (text, lab) => parseLearnerManifests(text, lab, { maxBytes: 128 * 1024, maxAliasCount: 50 }),
  });
}

describe('exam attempts on the server', () => {
  it(
    'keeps the deadline and the cluster across a restart, refuses changes after it, scores once',
    { timeout: 60_000 },
    async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'kubelab-exam-svc-')), 'kubelab.db');
      const now = { t: Date.parse('2026-01-01T10:00:00Z') };
      let store = ProgressStore.open(file);
      let svc = service(store, now);
      const attempt = await svc.start(L, 'cks-network');
      expect(attempt.deadlineAt).toBe('2026-01-01T12:00:00.000Z');
      await svc.apply(
        attempt.id,
        L,
        'np-named-ports',
        readFileSync(join(REPO, 'labs/np-named-ports/solution.yaml'), 'utf8'),
      );
      // cks-network allows no check before submit.
      await expect(svc.checkTask(attempt.id, L, 'np-named-ports')).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      // Someone else's attempt does not exist for them.
      await expect(svc.view(attempt.id, '99999999-2222-4333-8444-555555555555')).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      svc.close();
      store.close();

      // Restart an hour later: same deadline, the applied work still in the cluster.
      now.t += 60 * 60_000;
      store = ProgressStore.open(file);
      svc = service(store, now);
      const v = await svc.view(attempt.id, L);
      expect(v.remainingMs).toBe(60 * 60_000);
      expect(v.tasks.find((t) => t.labId === 'np-named-ports')?.manifests).toContain('NetworkPolicy');

      // The deadline passes: a late change is refused and the score is what stood at the deadline.
      now.t += 61 * 60_000;
      try {
        await svc.apply(
          attempt.id,
          L,
          'np-and-vs-or',
          readFileSync(join(REPO, 'labs/np-and-vs-or/solution.yaml'), 'utf8'),
        );
        expect.fail('a change after the deadline must be refused');
      } catch (e) {
        expect(isKubelabError(e) && e.code).toBe('FORBIDDEN');
      }
      const done = await svc.view(attempt.id, L);
      expect(done.finished).toBe(true);
      expect(done.attempt.finishedHow).toBe('time-up');
      expect(done.score?.earned).toBe(6);
      expect(done.score?.tasks.find((t) => t.lab === 'np-and-vs-or')?.earned).toBe(0);
      // A submit afterwards returns the same score.
      expect((await svc.submit(attempt.id, L)).earned).toBe(6);
      svc.close();
      store.close();
    },
  );
});
