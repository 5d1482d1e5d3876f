// A grading worker thread does not inherit the main thread's tsx loader: register it, then load
// the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./sim-worker.ts');
