// A grading worker thread does not inherit the main thread's tsx loader: register it, then load
// the TypeScript worker. The test suite, which builds dist/ before it starts (test/setup/build.ts),
// sets KUBELAB_COMPILED_WORKERS=1 to load the compiled worker instead: the same code, without
// compiling a hundred modules again in every worker a test starts.
if (globalThis.process.env.KUBELAB_COMPILED_WORKERS === '1') {
  await import('../../dist/web/sim-worker.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./sim-worker.ts');
}
