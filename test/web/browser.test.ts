/**
 * The real app (real labs, grader and simulated cluster) on an ephemeral loopback port, driven by
 * Debian's chromium through playwright-core. Chromium missing is a failure with instructions: CI
 * installs it (apt-get install -y chromium), so a silent skip would hide a broken pipeline.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/cli/serve.js';
import {
  REPO_ROOT,
  SOLUTION_FILE,
  WRONG_POLICY_FILE,
  pressCheck,
  writePolicy,
} from '../../scripts/screenshots.js';
import { keepScreenshot, sharedChromium, type ContextOptions } from './chromium.js';

const OUT = join(REPO_ROOT, 'test-output', 'browser');

let server: RunningServer;
const chromium = sharedChromium();

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, dbPath: ':memory:', mode: 'simulated' });
});

afterAll(async () => {
  await chromium.close();
  await server?.close();
});

/** Script errors and console errors (a CSP violation shows up there) of the learner now on the page. */
const errorsOf = new WeakMap<Page, string[]>();

function recordErrors(page: Page): void {
  const errors: string[] = [];
  errorsOf.set(page, errors);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
}

/** A new learner's page: the file's reused page, or a context of its own when JavaScript is off. */
async function open(opts: ContextOptions = {}): Promise<Page> {
  if (opts.javaScriptEnabled === false) {
    const browser = await chromium.open(opts);
    onTestFinished(() => browser.close());
    const page = await browser.context.newPage();
    recordErrors(page);
    return page;
  }
  const page = await chromium.learnerPage(opts);
  if (!errorsOf.has(page)) recordErrors(page);
  errorsOf.get(page)!.length = 0; // the errors of the learner before are not this one's
  return page;
}

const jsErrors = (page: Page) => errorsOf.get(page) ?? [];

describe('a learner in the browser', { timeout: 90_000 }, () => {
  it('opens the catalogue, fails with a wrong policy, passes with the right one and reaches the completion page', async () => {
    const page = await open({ width: 1280, height: 900 });
    await page.goto(server.url);
    await expect.poll(() => page.title()).toContain('Labs');
    const link = page.locator('a[href="/labs/np-backend"]');
    const card = page.locator('.lab-card', { has: link });
    expect(await card.textContent()).toMatch(/not started/);
    expect(await card.textContent()).toMatch(/CKA/);
    await link.click();
    await page.waitForURL(/\/labs\/np-backend$/);
    await page.locator('.CodeMirror').waitFor();
    expect(await page.locator('.matrix-caption').textContent()).toContain('Before your policy');
    expect(await page.locator('.cell-bad').count()).toBeGreaterThan(0); // "all open" is not what the lab wants
    await keepScreenshot(page, join(OUT, 'lab-page.png'), { fullPage: true });

    await writePolicy(page, await readFile(WRONG_POLICY_FILE, 'utf8'));
    await pressCheck(page);
    const failed = page.locator('#section-result');
    expect(await failed.locator('.verdict-title').textContent()).toBe('Not yet');
    const failedText = (await failed.textContent()) ?? '';
    expect(failedText).toMatch(/DNS|dns/);
    expect(await failed.locator('table.probes td').count()).toBeGreaterThan(0);
    expect(await page.locator('#matrix-title').isVisible()).toBe(true);
    expect(await page.locator('.matrix-caption').textContent()).toContain('With your policies');
    await keepScreenshot(page, join(OUT, 'result-failed.png'), { fullPage: true });

    await writePolicy(page, await readFile(SOLUTION_FILE, 'utf8'));
    await pressCheck(page);
    expect(await failed.locator('.verdict-title').textContent()).toBe('Passed');
    expect(await page.locator('#section-matrix .cell-bad').count()).toBe(0);
    await keepScreenshot(page, join(OUT, 'result-passed.png'), { fullPage: true });

    await page.getByRole('link', { name: 'Continue to the completion page' }).click();
    await page.waitForURL(/\/labs\/np-backend\/complete$/);
    expect(await page.locator('article.completion').textContent()).not.toBe('');
    await keepScreenshot(page, join(OUT, 'completion.png'), { fullPage: true });

    await page.goto(server.url);
    expect(await card.locator('.progress').textContent()).toContain('passed');
    expect(jsErrors(page)).toEqual([]);
  });

  it('hints open one at a time and the solution only after confirming', async () => {
    const page = await open();
    await page.goto(`${server.url}labs/np-backend`);
    await page.getByRole('button', { name: 'Show a hint' }).click();
    await page.locator('ol.hints li').first().waitFor();
    expect(await page.locator('ol.hints li').count()).toBe(1);
    await page.getByRole('button', { name: 'Show the next hint' }).click();
    await expect.poll(() => page.locator('ol.hints li').count()).toBe(2);

    await page.getByRole('button', { name: 'Show the solution' }).click();
    // The confirmation box is required: nothing is revealed without it.
    expect(await page.locator('pre.solution').count()).toBe(0);
    await page.getByLabel('Yes, show me the solution').check();
    await page.getByRole('button', { name: 'Show the solution' }).click();
    await page.locator('pre.solution').waitFor();
    expect(await page.locator('pre.solution').textContent()).toContain('np-backend');
    await page.reload();
    expect(await page.locator('ol.hints li').count()).toBe(2);
    expect(await page.locator('pre.solution').count()).toBe(1);
    expect(jsErrors(page)).toEqual([]);
  });

  it('works without JavaScript: the plain textarea posts and the page shows the result', async () => {
    const page = await open({ javaScriptEnabled: false });
    await page.goto(`${server.url}labs/np-backend`);
    expect(await page.locator('.CodeMirror').count()).toBe(0);
    await page.locator('textarea#manifests').fill(await readFile(SOLUTION_FILE, 'utf8'));
    await page.getByRole('button', { name: /^Check/ }).click();
    await page.waitForURL(/\/labs\/np-backend(#result)?$/);
    expect(await page.locator('#section-result .verdict-title').textContent()).toBe('Passed');
    await page.locator('textarea#manifests').fill('kind: [broken');
    await page.getByRole('button', { name: /^Check/ }).click();
    expect(await page.locator('#section-result').textContent()).toMatch(/line 1, column \d+/);
  });

  it('is usable from the keyboard: skip link, editor exit with Esc then Tab, visible focus', async () => {
    const page = await open();
    await page.goto(`${server.url}labs/np-backend`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.locator('.CodeMirror').click();
    await page.keyboard.press('Tab'); // indents inside the editor
    expect(await page.evaluate(() => document.activeElement?.closest('.CodeMirror') !== null)).toBe(true);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('check-button');
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    );
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await page.locator('#section-result .verdict').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('result-title');

    // The editor's cursor blinks only for those who did not ask their system for less motion.
    const blinkRate = () =>
      page.evaluate(() =>
        (
          document.querySelector('.CodeMirror') as unknown as {
            CodeMirror: { getOption(name: string): unknown };
          }
        ).CodeMirror.getOption('cursorBlinkRate'),
      );
    expect(await blinkRate()).toBe(0); // this learner's context asks for reduced motion
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    await page.reload();
    await page.locator('.CodeMirror').waitFor();
    expect(await blinkRate()).toBe(530);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const page = await open({ width: 390, height: 844 });
    await page.goto(`${server.url}labs/np-backend`);
    await writePolicy(page, await readFile(WRONG_POLICY_FILE, 'utf8'));
    await pressCheck(page);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await keepScreenshot(page, join(OUT, 'phone-result.png'), { fullPage: true });
    await page.goto(server.url);
    await keepScreenshot(page, join(OUT, 'phone-catalogue.png'), { fullPage: true });
  });

  it('renders hints as Markdown and updates the progress line when hints or the solution are opened', async () => {
    const page = await open({ width: 1280, height: 900 });
    await page.goto(`${server.url}labs/np-backend`);
    await page.getByRole('button', { name: 'Show a hint' }).click();
    await page.locator('ol.hints li').first().waitFor();
    const hint = page.locator('ol.hints li').first();
    expect(await hint.locator('code').count()).toBeGreaterThan(0);
    expect(await hint.textContent()).not.toContain('`');
    await expect.poll(() => page.locator('#section-progress').textContent()).toMatch(/1 of \d+ hints used/);
    await page.getByLabel('Yes, show me the solution').check();
    await page.getByRole('button', { name: 'Show the solution' }).click();
    await page.locator('pre.solution').waitFor();
    await expect.poll(() => page.locator('#section-progress').textContent()).toContain('solution seen');
    await keepScreenshot(page, join(OUT, 'hints-solution.png'), { fullPage: true });
    expect(jsErrors(page)).toEqual([]);
  });

  it('on a phone: the solution wraps and loads into the editor, and the verdict comes into view after Check', async () => {
    const page = await open({ width: 390, height: 844 });
    await page.goto(`${server.url}labs/np-backend`);
    await page.getByLabel('Yes, show me the solution').check();
    await page.getByRole('button', { name: 'Show the solution' }).click();
    const pre = page.locator('pre.solution');
    await pre.waitFor();
    // Long lines wrap instead of being cut off at the edge of the panel.
    expect(await pre.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Load into the editor' }).click();
    const solution = await readFile(SOLUTION_FILE, 'utf8');
    expect(
      await page.evaluate(() =>
        (
          document.querySelector('.CodeMirror') as unknown as { CodeMirror: { getValue(): string } }
        ).CodeMirror.getValue(),
      ),
    ).toBe(solution);
    await pressCheck(page);
    expect(await page.locator('#section-result .verdict-title').textContent()).toBe('Passed');
    await keepScreenshot(page, join(OUT, 'phone-after-check.png'));

    await writePolicy(page, await readFile(WRONG_POLICY_FILE, 'utf8'));
    await pressCheck(page);
    const verdict = await page.locator('#section-result .verdict').boundingBox();
    const viewport = page.viewportSize()!;
    expect(verdict).not.toBeNull();
    expect(verdict!.y).toBeGreaterThanOrEqual(0);
    expect(verdict!.y).toBeLessThan(viewport.height);
    // The report's tables fit the screen: no region of the result scrolls sideways.
    const sideways = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#section-result .table-scroll, #section-result table')).map(
        (el) => el.scrollWidth - el.clientWidth,
      ),
    );
    expect(sideways.length).toBeGreaterThan(0);
    expect(Math.max(...sideways)).toBeLessThanOrEqual(0);
    await keepScreenshot(page, join(OUT, 'phone-failed-in-view.png'));
    expect(jsErrors(page)).toEqual([]);
  });

  it('a YAML indentation error is said in plain words and its line is marked in the editor', async () => {
    const page = await open({ width: 1280, height: 900 });
    await page.goto(`${server.url}labs/np-backend`);
    const bad = [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: np-backend',
      '  namespace: np-lab',
      'spec:',
      '  podSelector:',
      '    matchLabels:',
      '      app: backend',
      '   policyTypes:',
      '  - Egress',
      '',
    ].join('\n');
    await writePolicy(page, bad);
    await pressCheck(page);
    const result = (await page.locator('#section-result').textContent()) ?? '';
    expect(result).toContain('line 10, column 4');
    expect(result).toContain('"policyTypes:" starts in column 4');
    expect(result).not.toContain('mapping items');
    const marked = page.locator('.CodeMirror .cm-problem-line');
    expect(await marked.count()).toBe(1);
    expect(await marked.textContent()).toContain('policyTypes');
    await keepScreenshot(page, join(OUT, 'yaml-error.png'));
    await page.locator('#section-result a.where').first().click();
    const cursorLine = await page.evaluate(
      () =>
        (
          document.querySelector('.CodeMirror') as unknown as {
            CodeMirror: { getCursor(): { line: number } };
          }
        ).CodeMirror.getCursor().line,
    );
    expect(cursorLine).toBe(9);
    // Fixing the line and checking again clears the mark.
    await writePolicy(page, bad.replace('   policyTypes:', '  policyTypes:'));
    await pressCheck(page);
    expect(await page.locator('.CodeMirror .cm-problem-line').count()).toBe(0);
    // Chromium logs the 400 answer to the bad YAML itself; nothing else may appear.
    expect(jsErrors(page).filter((e) => !/status of 400/.test(e))).toEqual([]);
  });
});
