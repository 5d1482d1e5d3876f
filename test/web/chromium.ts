/**
 * One Chromium per test file. Chromium's cost in the suite is mostly starting renderers: measured
 * on a 2-core machine, a new context with a lab page costs ~3 CPU-s, a new page in a running
 * context ~1.8 CPU-s, and the same page going to the lab page again ~0.4 CPU-s. So:
 * - `learnerPage()` hands the file's one page to each new learner, with the cookies and storage
 *   of the one before removed: to the server a stranger, as a fresh profile would be;
 * - `open()` makes a context of its own, for learners who must be there at the same time (a
 *   learner and an instructor) or who need another setting (JavaScript off).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  chromium,
  type Browser as PlaywrightBrowser,
  type CDPSession,
  type Locator,
  type Page,
} from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, type Browser } from '../../scripts/screenshots.js';

export interface ContextOptions {
  javaScriptEnabled?: boolean;
  width?: number;
  height?: number;
}

export interface SharedChromium {
  /** A fresh context (a new learner), closed by `close()` if the test does not close it. */
  open(opts?: ContextOptions): Promise<Browser>;
  /** The file's reused page, handed to a new learner: no cookies, no storage, this viewport. */
  learnerPage(opts?: Omit<ContextOptions, 'javaScriptEnabled'>): Promise<Page>;
  close(): Promise<void>;
}

// A learner who asked for less motion: the editor's and the terminal's cursors stop blinking. A
// blinking cursor in a focused editor makes headless Chromium paint twice a second for as long as
// the page is open; what the tests look at is the same either way.
const REDUCED_MOTION = 'reduce';

export function sharedChromium(): SharedChromium {
  let launched: Promise<PlaywrightBrowser> | undefined;
  let reused: Promise<{ page: Page; cdp: CDPSession }> | undefined;

  const open: SharedChromium['open'] = async (opts = {}) => {
    if (!existsSync(CHROMIUM_PATH)) {
      // A failure with instructions, not a skip: CI installs chromium, so a skip would hide a broken pipeline.
      throw new Error(
        `chromium not found at ${CHROMIUM_PATH}: install it (apt-get update && apt-get install -y chromium), ` +
          'as CI does, or point KUBELAB_CHROMIUM at a chromium binary.',
      );
    }
    launched ??= chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const context = await (
      await launched
    ).newContext({
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
      javaScriptEnabled: opts.javaScriptEnabled ?? true,
      reducedMotion: REDUCED_MOTION,
    });
    return { context, close: () => context.close() };
  };

  const learnerPage: SharedChromium['learnerPage'] = async (opts = {}) => {
    reused ??= open().then(async ({ context }) => {
      const page = await context.newPage();
      return { page, cdp: await context.newCDPSession(page) };
    });
    const { page, cdp } = await reused;
    await page.context().clearCookies();
    const at = page.url();
    if (at.startsWith('http')) {
      // localStorage, sessionStorage, caches: whatever the last learner's pages kept on this origin.
      await cdp.send('Storage.clearDataForOrigin', { origin: new URL(at).origin, storageTypes: 'all' });
    }
    await page.setViewportSize({ width: opts.width ?? 1280, height: opts.height ?? 900 });
    await page.emulateMedia({ reducedMotion: REDUCED_MOTION }); // undoes a test's own emulation
    return page;
  };

  return {
    open,
    learnerPage,
    close: async () => {
      // Closing the browser closes every context still open.
      if (launched) await (await launched).close();
    },
  };
}

/**
 * A picture of the page for people to look at (test-output/), taken only when asked for with
 * KUBELAB_TEST_SCREENSHOTS=1: nothing in the suite checks them, and a full-page PNG costs Chromium
 * ~0.4 CPU-s (measured: the suite's 22 pictures were ~9 CPU-s).
 */
export async function keepScreenshot(
  target: Page | Locator,
  path: string,
  opts: { fullPage?: boolean } = {},
): Promise<void> {
  if (process.env.KUBELAB_TEST_SCREENSHOTS !== '1') return;
  await mkdir(dirname(path), { recursive: true });
  await ('goto' in target ? target.screenshot({ path, ...opts }) : target.screenshot({ path }));
}
