#!/usr/bin/env node
// Entry for `npx kubelab` and `npm start`. It runs the compiled build (dist/, made by `npm install`
// through the prepare script) when that build matches the sources: starting Node on plain
// JavaScript takes a tenth of the time of transpiling the TypeScript at every start. A checkout
// edited since its last build runs the sources through tsx instead, so an edit is never silently
// ignored; `npm run build` makes it quick again.
import { buildState } from '../scripts/build.js';

const state = process.env.KUBELAB_RUN_SOURCES
  ? { fresh: false, reason: 'KUBELAB_RUN_SOURCES is set' }
  : buildState();
let main;
if (state.fresh) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  if (!process.env.KUBELAB_RUN_SOURCES)
    process.stderr.write(
      `kubelab: ${state.reason}; running the TypeScript sources (slower start). Run npm run build.\n`,
    );
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../server/cli/main.ts'));
}
if (process.env.KUBELAB_DEBUG)
  process.stderr.write(`kubelab: running ${state.fresh ? 'dist/ (compiled)' : 'server/ through tsx'}\n`);
process.exitCode = await main(process.argv.slice(2));
// After Ctrl-C the command has cleaned up; work it abandoned (a poll, an open exec) must not keep
// the process alive until its own deadline.
if (process.exitCode === 130) process.exit(130);
