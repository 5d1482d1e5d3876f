/**
 * The lab page terminal in Chromium, end to end: the real app on a loopback port, the real kubectl
 * run by the server, the learner's own simulated cluster. The learner types the task's "Try it"
 * commands, pastes the solution as a heredoc, sees the vault time out, presses Check and passes;
 * history survives a reload; refused commands say why.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../server/cli/serve.js';
import { REPO_ROOT, SOLUTION_FILE, pressCheck } from '../../scripts/screenshots.js';
import { keepScreenshot, sharedChromium } from './chromium.js';
import { kubectlSkipReason } from '../cluster/sim/api/support.js';

const OUT = join(REPO_ROOT, 'test-output', 'terminal');

let server: RunningServer;
const chromium = sharedChromium();
let page: Page;
const jsErrors: string[] = [];

/**
 * What the terminal shows now, read from xterm's screen-reader rows (text in the page, one element
 * per row): what a screen reader gets, and there even while the pane is scrolled out of view.
 */
async function screenText(): Promise<string> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#terminal .xterm-accessibility-tree > div'))
      .map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' '))
      .join('\n'),
  );
}

async function shows(text: string | RegExp): Promise<void> {
  await expect
    .poll(screenText, { timeout: 15_000 })
    .toMatch(typeof text === 'string' ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : text);
}

/**
 * Clears the screen, then enters a line: typed key by key and Enter, or pasted with Ctrl-V with
 * its line end, as a learner copying a command from the task does (and quicker to drive).
 */
async function run(line: string, how: 'type' | 'paste' = 'paste'): Promise<void> {
  await page.locator('#terminal .xterm').click();
  await page.keyboard.press('Control+L');
  // The same patience as shows(): on a loaded machine the screen may take seconds to redraw.
  await expect.poll(screenText, { timeout: 15_000 }).toMatch(/^\$ \s*$/m);
  if (how === 'paste') return paste(`${line}\n`);
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

async function paste(text: string): Promise<void> {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.locator('#terminal .xterm').click();
  await page.keyboard.press('Control+V');
}

async function connected(): Promise<void> {
  // xterm draws (and updates its screen-reader rows) only while the pane is in view.
  await page.locator('#terminal-screen').scrollIntoViewIfNeeded();
  await expect
    .poll(() => page.locator('#terminal-status').textContent(), { timeout: 15_000 })
    .toBe('connected');
  await shows(/^\$ /m);
}

describe.skipIf(kubectlSkipReason !== undefined)('the lab page terminal', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    server = await startServer({ host: '127.0.0.1', port: 0, dbPath: ':memory:', mode: 'simulated' });
    const browser = await chromium.open({ width: 1280, height: 900 });
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    page = await browser.context.newPage();
    page.on('pageerror', (e) => jsErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') jsErrors.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await chromium.close();
    await server?.close();
  });

  it('runs the Try it commands, applies the solution from a heredoc, and Check passes', async () => {
    await page.goto(`${server.url}labs/np-backend`);
    await connected();
    await shows('Type help');

    await run('kubectl -n np-lab get pods,svc --show-labels', 'type');
    await shows(/service\/db1\s/);
    await shows('app=backend');

    await run('k -n np-lab exec deploy/backend -- curl -sS --max-time 2 http://db1:1111');
    await shows('db1 on 1111');
    await run('kubectl -n np-lab exec deploy/backend -- curl -sS --max-time 2 http://vault:3333');
    await shows('vault on 3333');

    const solution = await readFile(SOLUTION_FILE, 'utf8');
    await page.keyboard.press('Control+L');
    await paste(`kubectl apply -f - <<EOF\n${solution.trimEnd()}\nEOF\n`);
    await shows('networkpolicy.networking.k8s.io/np-backend created');

    await run('kubectl -n np-lab exec deploy/backend -- curl -sS --max-time 2 http://vault:3333');
    await shows(/curl: \(28\) .*[Tt]imed out/);
    await keepScreenshot(page, join(OUT, 'desktop-terminal.png'), { fullPage: false });
    await keepScreenshot(page.locator('#terminal'), join(OUT, 'desktop-terminal-pane.png'));

    // Check grades the cluster kubectl changed (the editor was never touched).
    await pressCheck(page);
    expect(await page.locator('#section-result .verdict-title').textContent()).toBe('Passed');
  });

  it('opens a small shell in a pod that answers as exec does', async () => {
    await run('kubectl -n np-lab exec -it deploy/backend -- sh', 'type');
    await shows(/^\/ # /m);
    await page.keyboard.type('cat /etc/resolv.conf');
    await page.keyboard.press('Enter');
    await shows(/nameserver \d+\.\d+\.\d+\.\d+/);
    await shows('search np-lab.svc.cluster.local');
    await paste('curl -sS --max-time 2 http://db2:2222\n');
    await shows('db2 on 2222');
    await page.keyboard.type('hostname');
    await page.keyboard.press('Enter');
    await shows(/^backend-/m);
    await page.keyboard.type('exit');
    await page.keyboard.press('Enter');
    await shows(/^\$ /m);
  });

  it('completes with Tab, stops a watch with Ctrl-C, and refuses what is dangerous with a reason', async () => {
    await run('');
    await page.keyboard.type('kubectl -n np-lab get networkp');
    await page.keyboard.press('Tab');
    await shows('get networkpolicies');
    await page.keyboard.type('np-b');
    await page.keyboard.press('Tab');
    await shows('get networkpolicies np-backend');
    await page.keyboard.press('Enter');
    await shows(/np-backend\s+app=backend/);

    await run('kubectl -n np-lab get pods -w');
    await shows(/db1-\S+\s+1\/1\s+Running/);
    await page.keyboard.press('Control+C');
    await shows(/\^C\s*\n\$ /);

    await run('kubectl get secrets --kubeconfig /root/.kube/config', 'type');
    await shows('kubelab: --kubeconfig reads another kubeconfig file');
    await run('kubectl get pods | grep db');
    await shows('kubelab: pipes (|) are not available');
    await keepScreenshot(page.locator('#terminal'), join(OUT, 'desktop-refused.png'));
  });

  it('keeps the history across a reload', async () => {
    await page.reload();
    await connected();
    await page.locator('#terminal .xterm').click();
    await page.keyboard.press('ArrowUp');
    await shows('$ kubectl get pods | grep db');
    await page.keyboard.press('ArrowUp');
    await shows('$ kubectl get secrets --kubeconfig /root/.kube/config');
    await page.keyboard.press('Control+C');
    // This learner asked for less motion: the focused terminal's cursor holds still.
    expect(await page.locator('#terminal .xterm-cursor-blink').count()).toBe(0);
  });

  it('is readable at 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await connected();
    await run('kubectl -n np-lab get pods');
    await shows(/backend-\S+\s+1\/1/);
    const box = await page.locator('#terminal .xterm-screen').boundingBox();
    expect(box!.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.locator('#terminal').scrollIntoViewIfNeeded();
    await keepScreenshot(page, join(OUT, 'phone-terminal.png'), { fullPage: false });
    await keepScreenshot(page, join(OUT, 'phone-full.png'), { fullPage: true });
    expect(jsErrors).toEqual([]);
  });
});
