/**
 * One Chromium per test file, a fresh browser context per learner. Launching Chromium with a new
 * profile costs seconds of CPU each time (measured: ~5 s per persistent launch against ~1 s per
 * context of one running browser, on a loaded 2-core machine); a context has its own cookies,
 * storage and permissions, so each learner still starts as a stranger to the server, as a fresh
 * profile would.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser as PlaywrightBrowser } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, type Browser } from '../../scripts/screenshots.js';

export interface SharedChromium {
  /** A fresh context (a new learner), closed by `close()` if the test does not close it. */
  open(opts?: {
    javaScriptEnabled?: boolean;
    width?: number;
    height?: number;
    /** 'reduce' unless said otherwise: see below. */
    reducedMotion?: 'reduce' | 'no-preference';
  }): Promise<Browser>;
  close(): Promise<void>;
}

export function sharedChromium(): SharedChromium {
  let launched: Promise<PlaywrightBrowser> | undefined;
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
      // A learner who asked for less motion: the editor's and the terminal's cursors stop blinking.
      // A blinking cursor in a focused editor makes headless Chromium paint twice a second for as
      // long as the page is open (measured: ~0.15 CPU-s per second per page, the largest part of
      // Chromium's share of the suite); what the tests look at is the same either way.
      reducedMotion: opts.reducedMotion ?? 'reduce',
    });
    return { context, close: () => context.close() };
  };
  return {
    open,
    close: async () => {
      // Closing the browser closes every context still open.
      if (launched) await (await launched).close();
    },
  };
}
