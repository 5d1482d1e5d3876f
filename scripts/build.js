/**
 * The compiled build: every server/**\/*.ts transpiled (not bundled, not type-checked: `npm run
 * typecheck` does that) to dist/, one .js per source file. `npm install` runs it through the
 * `prepare` script, so there is no step to remember; bin/kubelab.js runs dist/ when it matches the
 * sources and the TypeScript through tsx when it does not (a checkout edited since the last build).
 *
 * dist/ replaces server/ at the same depth (dist/labs/index.js for server/labs/index.ts), so paths
 * computed from import.meta.url (`../../labs`) mean the same in both.
 *
 * Plain JavaScript on purpose: it must run before anything is compiled, without tsx.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, rmSync, renameSync, existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const STAMP = 'build-stamp.json';

/** The TypeScript files that make up the build, relative to `root`, in a stable order. */
function sourceFiles(root) {
  const server = join(root, 'server');
  return readdirSync(server, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) =>
      relative(root, join(e.parentPath ?? e.path, e.name))
        .split(sep)
        .join('/'),
    )
    .sort();
}

/**
 * What the build was made from: every source's path, size and modification time. Any edit, added,
 * removed or renamed file (a git checkout, a pull) changes it. Costs a few milliseconds.
 */
export function sourceFingerprint(root = REPO_ROOT) {
  return sourceFiles(root)
    .map((file) => {
      const s = statSync(join(root, file));
      return `${file} ${s.size} ${Math.trunc(s.mtimeMs)}`;
    })
    .join('\n');
}

/** `fresh`: dist/ was built from the sources as they are now. Never throws. */
export function buildState(root = REPO_ROOT) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, 'dist', STAMP), 'utf8'));
  } catch {
    return { fresh: false, reason: 'there is no compiled build (dist/)' };
  }
  try {
    if (stamp.fingerprint === sourceFingerprint(root)) return { fresh: true };
  } catch {
    return { fresh: false, reason: 'the sources could not be read' };
  }
  return { fresh: false, reason: 'the sources changed since the last build' };
}

/**
 * Compiles server/ into dist/. Builds into a temporary folder and swaps it in, so a process
 * starting meanwhile finds either no build (and uses tsx) or a whole one, never half of one.
 */
export async function build(root = REPO_ROOT) {
  const { build: esbuild } = await import('esbuild');
  const fingerprint = sourceFingerprint(root);
  const files = sourceFiles(root);
  const tmp = join(root, `dist.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    await esbuild({
      absWorkingDir: root,
      entryPoints: files,
      outdir: tmp,
      outbase: 'server',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
    });
    writeFileSync(join(tmp, STAMP), `${JSON.stringify({ fingerprint })}\n`);
    const dist = join(root, 'dist');
    if (existsSync(dist)) rmSync(dist, { recursive: true, force: true });
    renameSync(tmp, dist);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { files: files.length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t0 = performance.now();
  const { files } = await build();
  console.log(`kubelab: compiled ${files} files to dist/ in ${Math.round(performance.now() - t0)} ms`);
}
