/**
 * Makes a progress database refuse every write from now on, the way a disk that turned read-only
 * does, through a second connection (file modes would not stop a test that runs as root).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { expect } from 'vitest';
import type { Express } from 'express';
import { ProgressStore } from '../../server/store/index.js';

export function refuseWrites(file: string): void {
  const db = new Database(file);
  for (const table of ['learners', 'progress', 'events', 'settings']) {
    for (const op of ['INSERT', 'UPDATE']) {
      db.exec(
        `CREATE TRIGGER refuse_${op.toLowerCase()}_${table} BEFORE ${op} ON ${table}
         BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END;`,
      );
    }
  }
  db.close();
}

/** Runs `body` with a progress store on a fresh file that refuses every write. */
export async function withReadOnlyStore(body: (store: ProgressStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-ro-'));
  const file = join(dir, 'kubelab.db');
  const store = ProgressStore.open(file);
  try {
    refuseWrites(file);
    await body(store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A right answer is graded and passes, through the API and the page, with a 503 note that progress was not saved. */
export async function expectGradedButNotSaved(app: Express, manifests: string): Promise<void> {
  const api = await request(app).post('/api/labs/np-fake/check').send({ manifests });
  expect(api.status).toBe(503);
  expect(api.body.passed).toBe(true);
  expect(api.body.checks.length).toBeGreaterThan(0);
  expect(api.body.progressNotSaved).toContain('your progress could not be saved');
  const partial = await request(app)
    .post('/labs/np-fake/check')
    .set('X-Kubelab-Partial', '1')
    .type('form')
    .send({ manifests });
  expect(partial.status).toBe(503);
  expect(partial.body.sections.result).toContain('Passed');
  expect(partial.body.sections.result).toContain('not saved to your progress');
}
