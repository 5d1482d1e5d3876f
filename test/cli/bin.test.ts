/**
 * `node bin/kubelab.js` as people run it (a real process on the compiled build that the global
 * setup made, as `npm install` makes it): it picks dist/ when that matches the sources, loads
 * only what the command needs, answers as the in-process CLI does, and falls back to the sources
 * through tsx when the build is stale or missing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { build, buildState } from '../../scripts/build.js';
import { main } from '../../server/cli/main.js';
import { memoryIO } from '../../server/cli/io.js';
import { MATRIX_FORMATS } from '../../server/netpol/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/kubelab.js');
const scratch = mkdtempSync(join(tmpdir(), 'kubelab-bin-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Logs every module the process resolves to fd 3, to see what a command loads.
const hooks = join(scratch, 'hooks.mjs');
writeFileSync(
  hooks,
  "import { writeSync } from 'node:fs';\n" +
    'export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); writeSync(3, r.url + "\\n"); return r; }\n',
);
const traceHook = join(scratch, 'trace.mjs');
writeFileSync(
  traceHook,
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
);

interface Result {
  code: number | null;
  out: string;
  err: string;
  loaded: string[];
}

function kubelab(args: string[], opts: { env?: NodeJS.ProcessEnv; trace?: boolean } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.trace ? ['--import', traceHook] : []), BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, KUBELAB_DEBUG: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let trace = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (s: string) => (trace += s));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err, loaded: trace.split('\n').filter(Boolean) }));
  });
}

/** The npm packages a process loaded, by name. */
function packages(loaded: string[]): string[] {
  const names = loaded.flatMap((u) => {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    return m ? [m[1]!] : [];
  });
  return [...new Set(names)].sort();
}

describe('bin/kubelab.js', () => {
  it('runs the compiled build when it matches the sources, loading nothing but commander for --version', async () => {
    const r = await kubelab(['--version'], { trace: true });
    expect(r.code).toBe(0);
    expect(r.out).toBe('0.1.0\n');
    expect(r.err).toContain('running dist/ (compiled)');
    expect(packages(r.loaded)).toEqual(['commander']);
    expect(r.loaded.some((u) => u.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(r.loaded.some((u) => u.includes('/server/'))).toBe(false);
  });

  it('lab check --simulated grades without loading the Kubernetes client, the web stack or execa', async () => {
    // The two processes are independent: run side by side, they wait on each other's CPU, not in turn.
    const [solution, wrong] = await Promise.all([
      kubelab(['lab', 'check', 'np-backend', '--simulated', '-f', 'labs/np-backend/solution.yaml'], {
        trace: true,
      }),
      kubelab([
        'lab',
        'check',
        'np-backend',
        '--simulated',
        '-f',
        'labs/np-backend/wrong/01-forgot-dns.yaml',
      ]),
    ]);
    expect(solution.code).toBe(0);
    expect(solution.out).toContain('PASSED');
    for (const heavy of ['@kubernetes/client-node', 'express', 'execa', 'better-sqlite3'])
      expect(packages(solution.loaded)).not.toContain(heavy);
    expect(wrong.code).toBe(1);
  });

  it('prints what the in-process CLI prints (netpol check, help, bad input)', async () => {
    const argvs = [
      ['netpol', 'check', 'test/fixtures/netpol/cases/lab-01-correct-np-backend.yaml', '--json'],
      ['netpol', 'matrix', 'test/fixtures/netpol/cases/lab-01-correct-np-backend.yaml', '--format', 'csv'],
      ['--help'],
      ['netpol', 'matrix', '--help'],
      ['netpol', 'matrix', 'no-such-file.yaml'],
    ];
    // The processes are independent of each other: all started at once, compared one by one.
    const children = argvs.map((argv) => kubelab(argv));
    for (const [i, argv] of argvs.entries()) {
      const io = memoryIO({ env: {} });
      const code = await main(argv, io);
      const r = await children[i]!;
      expect({ argv, code: r.code, out: r.out }).toEqual({ argv, code, out: io.stdoutText() });
    }
  });

  it('--help lists every matrix format the engine knows', async () => {
    const r = await kubelab(['netpol', 'matrix', '--help']);
    expect(r.out).toContain(`one of ${MATRIX_FORMATS.join(', ')}`);
  });

  it('runs the TypeScript sources through tsx when asked to (KUBELAB_RUN_SOURCES)', async () => {
    const r = await kubelab(['--version'], { env: { KUBELAB_RUN_SOURCES: '1' } });
    expect(r.code).toBe(0);
    expect(r.out).toBe('0.1.0\n');
    expect(r.err).toContain('running server/ through tsx');
  });
});

describe('the build and its freshness', () => {
  const root = join(scratch, 'repo');
  const source = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };

  it('is fresh after a build and stale after an edit, an added or a removed file, or without dist/', async () => {
    source('server/a.ts', 'export const a: number = 1;\n');
    source('server/sub/b.ts', "import { a } from '../a.js';\nexport const b = a + 1;\n");
    expect(buildState(root)).toEqual({ fresh: false, reason: 'there is no compiled build (dist/)' });

    await build(root);
    expect(buildState(root)).toEqual({ fresh: true });
    // dist/ takes server/'s place at the same depth, and type annotations are gone.
    expect(readFileSync(join(root, 'dist/sub/b.js'), 'utf8')).toContain('from "../a.js"');
    expect(readFileSync(join(root, 'dist/a.js'), 'utf8')).not.toContain(': number');

    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'server/a.ts'), later, later);
    expect(buildState(root)).toEqual({ fresh: false, reason: 'the sources changed since the last build' });
    await build(root);
    expect(buildState(root).fresh).toBe(true);

    source('server/c.ts', 'export const c = 3;\n');
    expect(buildState(root).fresh).toBe(false);
    await build(root);
    rmSync(join(root, 'server/c.ts'));
    expect(buildState(root).fresh).toBe(false);
    await build(root);
    expect(buildState(root).fresh).toBe(true);
  });
});
