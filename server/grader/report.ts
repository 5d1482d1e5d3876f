/** What a grade looks like, for the CLI (`--json`), the web app and the tests. */
import type { ProbeOutcome } from '../probe/types.js';

export type Expectation = 'open' | 'blocked' | 'resolves' | 'fails';

export interface ProbeResult {
  /** Source pod, `ns/name`. */
  from: string;
  /** What was aimed at, as a person would say it: `db1.np-lab:1111/TCP`, `outside/web-0 (10.0.3.4):8080/TCP`. */
  to: string;
  port?: number | string;
  protocol?: string;
  expected: Expectation;
  actual: ProbeOutcome;
  passed: boolean;
  /** How many times the probe ran (real clusters re-probe until the policy has applied). */
  attempts: number;
  /** What the probe printed, in one line. */
  detail: string;
  /** The engine's explanation in plain words. */
  explanation: string;
  /** Set when the result is the environment's fault, not the learner's. */
  environmentProblem?: string;
}

export interface CheckResult {
  id: string;
  title: string;
  kind: 'preflight' | 'scenario' | 'policy' | 'connectivity' | 'dns' | 'traffic' | 'unchanged' | 'admission' | 'state';
  status: 'pass' | 'fail' | 'error';
  /** One or more lines saying why. */
  messages: string[];
  probes: ProbeResult[];
}

export interface GradeReport {
  lab: string;
  passed: boolean;
  /** `environment-error` means the grade could not be trusted: nothing is blamed on the learner. */
  status: 'passed' | 'failed' | 'environment-error';
  cluster: { mode: 'simulated' | 'kube'; description: string };
  checks: CheckResult[];
  /** `ns/pod` -> `ns/workload` for the pods a controller made, so reports can speak of workloads. */
  workloads?: Record<string, string>;
  /** One line for the top of the page / terminal: the diagnosis first. */
  summary: string;
  /** What is most wrong, in one line (absent on a pass). */
  diagnosis?: string;
  startedAt: string;
  durationMs: number;
}
