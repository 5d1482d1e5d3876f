/**
 * Builds dist/ before the suite, as `npm install` does for users: the tests that start
 * `node bin/kubelab.js` (test/cli/bin.test.ts, the server in test/web) then run the compiled code
 * people run, not a build left over from before the last edit.
 *
 * A build that is current is kept (the build takes seconds at the start of every run, before any
 * test can start). Current means what bin/kubelab.js itself checks (the stamp matches every
 * source's path, size and mtime), and beyond that: the stamp is newer than the build script (a
 * changed build recipe rebuilds) and every source has its compiled file (one deleted by hand
 * rebuilds).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, build, buildState } from '../../scripts/build.js';

function current(): boolean {
  if (!buildState().fresh) return false;
  const stampFile = join(REPO_ROOT, 'dist', 'build-stamp.json');
  if (statSync(join(REPO_ROOT, 'scripts', 'build.js')).mtimeMs >= statSync(stampFile).mtimeMs) return false;
  // The stamp lists "server/x/y.ts size mtime" per source, and matches the sources (buildState).
  const { fingerprint } = JSON.parse(readFileSync(stampFile, 'utf8')) as { fingerprint: string };
  return fingerprint
    .split('\n')
    .map((line) => line.slice(0, line.indexOf(' ')))
    .every((f) => existsSync(join(REPO_ROOT, 'dist', f.replace(/^server\//, '').replace(/\.ts$/, '.js'))));
}

export default async function setup(): Promise<void> {
  if (!current()) await build();
}
