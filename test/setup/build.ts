/**
 * Builds dist/ before the suite, as `npm install` does for users: the tests that start
 * `node bin/kubelab.js` (test/cli/bin.test.ts, the server in test/web) then run the compiled code
 * people run, not a build left over from before the last edit.
 */
import { build } from '../../scripts/build.js';

export default async function setup(): Promise<void> {
  await build();
}
