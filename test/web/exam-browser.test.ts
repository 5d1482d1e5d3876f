/**
 * Exams and the instructor's view in Chromium, on the real app (real labs, exams, grader and
 * simulated cluster): an exam taken to the end with a partial score, reviewable later; the
 * countdown surviving a reload; two learners in one class on the dashboard, with the CSV export
 * matching the table; a learner refused at /instructor and at its API.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { request, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/cli/serve.js';
import { REPO_ROOT } from '../../scripts/screenshots.js';
import { keepScreenshot, sharedChromium } from './chromium.js';

const OUT = join(REPO_ROOT, 'test-output', 'browser');
const TOKEN = 'test-instructor-token-0123456789';
const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

let server: RunningServer;
const chromium = sharedChromium();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-exam-browser-'));
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dbPath: join(dir, 'kubelab.db'),
    mode: 'simulated',
    simulatedWorkers: 0,
    instructorToken: TOKEN,
  });
});

afterAll(async () => {
  await chromium.close();
  await server?.close();
});

async function open(width = 1280): Promise<Page> {
  const browser = await chromium.open({ width, height: 900 });
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  return page;
}
const jsErrors = (page: Page) => (page as Page & { jsErrors: string[] }).jsErrors;

async function joinClass(page: Page, name: string, code: string): Promise<void> {
  await page.goto(`${server.url}me`);
  await page.fill('#displayName', name);
  await page.fill('#classCode', code);
  await page.click('.profile-form button[type=submit]');
  await page.waitForURL(/\/me\?saved=1$/);
}

/** The class, made by the instructor over the API with the token (as a script would). */
async function createClass(name: string): Promise<string> {
  const res = await fetch(`${server.url}instructor/classes`, {
    method: 'POST',
    redirect: 'manual',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name }).toString(),
  });
  expect(res.status).toBe(303);
  return /class=([A-Z0-9]{6})/.exec(res.headers.get('location') ?? '')![1]!;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  return rows;
}

describe('exams and the instructor in the browser', { timeout: 180_000 }, () => {
  let classCode = '';
  let ada: Page;

  it('an exam taken to the end: the timer survives a reload, a partial score is shown and reviewable later', async () => {
    classCode = await createClass('Tuesday group');
    ada = await open(1280);
    await joinClass(ada, 'Ada', classCode);

    await ada.goto(`${server.url}exams`);
    await keepScreenshot(ada, join(OUT, 'exams-1280.png'), { fullPage: true });
    await ada.locator('form[action="/exams/cka-network/start"] button').click();
    await ada.waitForURL(/\/exams\/attempts\/[A-Za-z0-9_-]{22}$/);
    const attemptUrl = ada.url();
    const timer = ada.locator('#timer');
    const deadline = await timer.getAttribute('data-deadline');
    const before = Number(await timer.getAttribute('data-remaining-ms'));
    expect(before).toBeGreaterThan(59 * 60_000);
    expect(before).toBeLessThanOrEqual(60 * 60_000);
    await expect.poll(() => ada.locator('#timer-value').textContent()).toMatch(/^0:5\d:\d\d$|^1:00:00$/);
    // Hints and solutions are off: the exam page offers neither.
    expect(await ada.locator('text=/Show (a )?hint|Show the solution/i').count()).toBe(0);

    // The timer survives a reload: same deadline, less time left, not a fresh hour.
    await ada.reload();
    expect(await timer.getAttribute('data-deadline')).toBe(deadline);
    const after = Number(await timer.getAttribute('data-remaining-ms'));
    expect(after).toBeLessThanOrEqual(before);
    expect(after).toBeGreaterThan(before - 60_000);

    // Task 3 solved and checked (the exam allows a check per task).
    await ada.locator('.exam-tasks a', { hasText: 'port' }).first().click();
    await ada.waitForURL(/task=np-port-range/);
    await ada.fill('#manifests', read('labs/np-port-range/solution.yaml'));
    await ada.locator('button', { hasText: 'Save and check this task' }).click();
    await ada.waitForURL(/task=np-port-range/);
    expect(await ada.locator('.task-check h3').textContent()).toContain('5/5 points');

    // Task 1: a known-wrong answer, flagged for review.
    await ada.locator('.exam-tasks a').first().click();
    await ada.waitForURL(/task=np-backend/);
    await ada.fill('#manifests', read('labs/np-backend/wrong/01-forgot-dns.yaml'));
    await ada.locator('button', { hasText: 'Save to the cluster' }).click();
    await ada.waitForURL(/task=np-backend/);
    await ada.locator('button', { hasText: 'Flag for review' }).click();
    await ada.waitForURL(/task=np-backend/);
    expect(await ada.locator('.exam-tasks li').first().locator('.flag').textContent()).toBe('flagged');
    expect(await ada.locator('#manifests').inputValue()).toContain('np-backend');
    await keepScreenshot(ada, join(OUT, 'exam-1280.png'), { fullPage: true });
    await ada.setViewportSize({ width: 390, height: 844 });
    await keepScreenshot(ada, join(OUT, 'exam-390.png'), { fullPage: true });
    // Nothing on the page scrolls it sideways on a phone.
    expect(await ada.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await ada.setViewportSize({ width: 1280, height: 900 });

    // Submitting needs the confirmation; then the score, per task and per check, with the reasons.
    await ada.locator('.submit-form button').click();
    expect(await ada.locator('[role=alert]').textContent()).toContain('I am done');
    await ada.locator('.submit-form input[name=confirm]').check();
    await ada.locator('.submit-form button').click();
    await ada.waitForURL(attemptUrl);
    expect(await ada.locator('#score-points').textContent()).toBe('6/18');
    expect(await ada.locator('#score .verdict-title').textContent()).toContain('Not passed');
    expect(await ada.locator('#score').textContent()).toContain('Pass mark: 66%');
    const rows = await ada.locator('.score-table tbody tr').evaluateAll((trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll('td'))
          .map((td) => (td.textContent ?? '').trim())
          .join(' '),
      ),
    );
    expect(rows).toEqual([
      // The policy exists and is named right (1 point); its traffic is wrong (5 points lost).
      expect.stringContaining('1/6 partial'),
      expect.stringContaining('0/7 no points'),
      expect.stringContaining('5/5 full marks'),
    ]);
    const backend = ada.locator('#review-np-backend');
    // The explanation a lab gives for the lost points: its failing check with the grader's reason.
    expect(await backend.locator('.check-fail').count()).toBeGreaterThan(0);
    expect(await backend.textContent()).toMatch(/DNS|53/);
    await keepScreenshot(ada, join(OUT, 'exam-result-1280.png'), { fullPage: true });
    await ada.setViewportSize({ width: 390, height: 844 });
    await keepScreenshot(ada, join(OUT, 'exam-result-390.png'), { fullPage: true });
    // Nothing on the page scrolls it sideways on a phone.
    expect(await ada.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await ada.setViewportSize({ width: 1280, height: 900 });

    // After the end nothing changes the score: a late save is refused.
    const late = await ada.request.post(
      `${attemptUrl.replace('/exams/attempts/', '/api/exam-attempts/')}/tasks/np-backend/apply`,
      {
        data: { manifests: read('labs/np-backend/solution.yaml') },
        headers: { Origin: server.url.replace(/\/$/, '') },
      },
    );
    expect(late.status()).toBe(403);

    // Reviewable later, from the list of attempts.
    await ada.goto(`${server.url}exams`);
    await ada.locator('a', { hasText: 'Review' }).click();
    await ada.waitForURL(attemptUrl);
    expect(await ada.locator('#score-points').textContent()).toBe('6/18');
    // The one 400 is the submit without its confirmation, refused on purpose above.
    expect(jsErrors(ada).filter((e) => !/status of 400/.test(e))).toEqual([]);
  });

  it('lists two learners of a class on the dashboard, and the CSV export matches it', async () => {
    // Bea works without a browser (her pages are not what this test looks at; a browser context
    // would cost Chromium seconds): the same form post to join the class, then a wrong check, a
    // hint and the solution over the API, her cookie kept by the client as a browser keeps it.
    const bea = await request.newContext({ extraHTTPHeaders: { Origin: server.url.replace(/\/$/, '') } });
    onTestFinished(() => bea.dispose());
    const joined = await bea.post(`${server.url}me`, { form: { displayName: 'Bea', classCode } });
    expect(joined.url()).toMatch(/\/me\?saved=1$/);
    const post = (path: string, data: object) => bea.post(`${server.url}${path}`, { data });
    expect(
      (
        await post('api/labs/np-port-range/check', {
          manifests: read('labs/np-backend/wrong/01-forgot-dns.yaml').replace(/np-lab/g, 'portrange-lab'),
        })
      ).status(),
    ).toBe(200);
    expect((await post('api/labs/np-port-range/hints/next', {})).status()).toBe(200);
    const pass = await post('api/labs/np-port-range/check', {
      manifests: read('labs/np-port-range/solution.yaml'),
    });
    expect(((await pass.json()) as { passed: boolean }).passed).toBe(true);

    const teacher = await open(1280);
    await teacher.goto(`${server.url}instructor`);
    expect(await teacher.locator('h1').textContent()).toBe('Instructor');
    await teacher.fill('#token', TOKEN);
    await teacher.locator('.profile-form button').click();
    await teacher.waitForURL(/\/instructor$/);
    await teacher.selectOption('#class', classCode);
    await teacher.locator('.inline-form button', { hasText: 'Show' }).click();
    await teacher.waitForURL(new RegExp(`class=${classCode}`));
    const table = teacher.locator('#dashboard tbody tr');
    const shown = await table.evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())),
    );
    const learners = new Set(shown.map((r) => r[0]));
    expect(learners).toEqual(new Set(['Ada', 'Bea']));
    expect(shown).toContainEqual(
      expect.arrayContaining(['Bea', classCode, 'np-port-range', '2', '1', 'no', 'yes']),
    );
    expect(shown).toContainEqual(
      expect.arrayContaining(['Ada', classCode, 'exam cka-network', '1', '0', 'no', 'no']),
    );
    expect(await teacher.locator('#lab-stats').textContent()).toContain('np-port-range');
    await keepScreenshot(teacher, join(OUT, 'instructor-1280.png'), { fullPage: true });
    await teacher.setViewportSize({ width: 390, height: 844 });
    await keepScreenshot(teacher, join(OUT, 'instructor-390.png'), { fullPage: true });
    await teacher.setViewportSize({ width: 1280, height: 900 });

    // The CSV the page links to: the same rows, the same order, the same values.
    const href = await teacher.locator('#export-csv').getAttribute('href');
    const csv = await teacher.request.get(`${server.url}${href!.replace(/^\//, '')}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const [header, ...records] = parseCsv(await csv.text());
    expect(header!.slice(0, 8)).toEqual([
      'learner',
      'class',
      'kind',
      'lab or exam',
      'attempts',
      'hints opened',
      'solution seen',
      'passed',
    ]);
    expect(records).toHaveLength(shown.length);
    records.forEach((rec, i) => {
      const row = shown[i]!;
      expect([
        rec[0],
        rec[1],
        rec[2] === 'exam' ? `exam ${rec[3]}` : rec[3],
        rec[4],
        rec[5],
        rec[6],
        rec[7],
      ]).toEqual(row.slice(0, 7));
      expect(rec[10]).toBe(row[9]);
    });

    // A learner's timeline.
    await teacher.locator('#dashboard a', { hasText: 'Bea' }).first().click();
    await teacher.waitForURL(/\/instructor\/learners\//);
    const timeline = await teacher.locator('#timeline li').allTextContents();
    expect(timeline.join('\n')).toMatch(
      /np-port-range check[\s\S]*np-port-range hint[\s\S]*np-port-range check/,
    );
    // The one 403 is the login page itself (the instructor's view answers 403 until the token is given).
    expect(jsErrors(teacher).filter((e) => !/status of 403/.test(e))).toEqual([]);
  });

  it('refuses a learner at /instructor and at its API', async () => {
    const res = await ada.goto(`${server.url}instructor`);
    expect(res?.status()).toBe(403);
    const html = await ada.content();
    expect(html).not.toContain('Bea');
    expect(await ada.locator('#dashboard').count()).toBe(0);
    for (const path of [
      'api/instructor/dashboard',
      'api/instructor/export.csv',
      'api/instructor/export.json',
    ]) {
      const api = await ada.request.get(`${server.url}${path}`);
      expect(api.status()).toBe(403);
      expect(await api.text()).not.toContain('Bea');
    }
    const learner = await ada.request.get(
      `${server.url}instructor/learners/00000000-0000-4000-8000-000000000000`,
    );
    expect(learner.status()).toBe(403);
    // A wrong token is refused too.
    await ada.fill('#token', 'not-the-token');
    await ada.locator('.profile-form button').click();
    expect(await ada.locator('[role=alert]').textContent()).toContain('not the instructor token');
  });
});
