/**
 * Screenshots of the web app in Debian's chromium, driven by playwright-core: the catalogue, the
 * np-backend lab before and after a failing and a passing check, at desktop and phone widths.
 *
 *   node --import tsx scripts/screenshots.ts [out-dir]     (default test-output/screenshots)
 *
 * The browser test (test/web/browser.test.ts) uses the same launcher.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.KUBELAB_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile; a clear error (not a skip) when it is not installed. */
export async function launchChromium(
  opts: { javaScriptEnabled?: boolean; width?: number; height?: number } = {},
): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}: install it (apt-get update && apt-get install -y chromium), ` +
        'as CI does, or point KUBELAB_CHROMIUM at a chromium binary.',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'kubelab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Replaces the editor's text the way a paste would (CodeMirror when present, else the textarea). */
export async function writePolicy(page: Page, yaml: string): Promise<void> {
  const editor = page.locator('.CodeMirror');
  if ((await editor.count()) > 0) {
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(yaml);
  } else {
    await page.locator('textarea#manifests').fill(yaml);
  }
}

/** Presses Check and waits until the page shows the answer to this check (not a previous one). */
export async function pressCheck(page: Page): Promise<void> {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/check'));
  await page.getByRole('button', { name: /^Check/ }).click();
  await answered;
  await page.waitForFunction(() => {
    const button = document.getElementById('check-button');
    return button !== null && !button.hasAttribute('disabled');
  });
  await page.locator('#section-result .verdict').waitFor();
}

export const WRONG_POLICY_FILE = join(REPO_ROOT, 'labs/np-backend/wrong/01-forgot-dns.yaml');
export const SOLUTION_FILE = join(REPO_ROOT, 'labs/np-backend/solution.yaml');

/** Walks the np-backend lab and saves screenshots; returns the files written. */
export async function captureScreenshots(baseUrl: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const shot = async (page: Page, name: string, fullPage = true) => {
    const file = join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage });
    files.push(file);
  };
  const wrong = await readFile(WRONG_POLICY_FILE, 'utf8');
  const right = await readFile(SOLUTION_FILE, 'utf8');

  for (const [label, width, height] of [
    ['desktop', 1280, 900],
    ['phone', 390, 844],
  ] as const) {
    const browser = await launchChromium({ width, height });
    try {
      const page = await browser.context.newPage();
      await page.goto(baseUrl);
      await shot(page, `${label}-catalogue`);
      await page
        .getByRole('link', { name: /backend/i })
        .first()
        .click();
      await page.locator('.CodeMirror').waitFor();
      await shot(page, `${label}-lab`);
      await writePolicy(page, wrong);
      await pressCheck(page);
      await shot(page, `${label}-result-failed`);
      await writePolicy(page, right);
      await pressCheck(page);
      await page.locator('#result').scrollIntoViewIfNeeded();
      await shot(page, `${label}-result-passed`, false);
      await page.getByRole('link', { name: 'Continue to the completion page' }).click();
      await shot(page, `${label}-completion`);
    } finally {
      await browser.close();
    }
  }
  return files;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { startServer } = await import('../server/cli/serve.js');
  const out = process.argv[2] ?? join(REPO_ROOT, 'test-output', 'screenshots');
  const server = await startServer({ port: 0, dbPath: ':memory:', mode: 'simulated' });
  try {
    const files = await captureScreenshots(server.url, out);
    for (const f of files) console.log(f);
  } finally {
    await server.close();
  }
}
