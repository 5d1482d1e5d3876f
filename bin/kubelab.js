#!/usr/bin/env node
// Entry for `npx kubelab` and `npm start`: runs the TypeScript sources directly through tsx,
// so there is no build step to forget after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// After Ctrl-C the command has cleaned up; work it abandoned (a poll, an open exec) must not keep
// the process alive until its own deadline.
if (process.exitCode === 130) process.exit(130);
