/**
 * The editor on the lab page (simulated clusters): what it holds before the first attempt, and
 * whether a submitted text is a change the learner made or what the editor was already showing.
 */
import { readFileSync } from 'node:fs';
import type { Lab } from '../labs/model.js';
import type { LabProgress } from '../store/index.js';

/** The NetworkPolicy the lab asks for by name, or a neutral one. */
export function policyNameOf(lab: Lab): string {
  const policyCheck = lab.checks.find((c) => c.kind === 'policy');
  return policyCheck?.kind === 'policy' ? policyCheck.name : 'my-policy';
}

/** What the editor holds before the first attempt: the frame of a policy, not the answer. */
export function starterManifest(lab: Lab): string {
  // A lab with its own starter (RBAC labs: a Role frame, or the scenario objects to cut down).
  if (lab.starter) {
    try {
      return readFileSync(lab.starter, 'utf8');
    } catch {
      // Validation names a missing starter; until then fall back to the policy frame.
    }
  }
  const name = policyNameOf(lab);
  return [
    '# Write your NetworkPolicy here, then press Check.',
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${lab.namespace}`,
    'spec:',
    '  podSelector:',
    '    matchLabels: {}',
    '',
  ].join('\n');
}

/**
 * The learner has not touched the editor: it still holds the starter and nothing was ever applied
 * from it. Check then grades the live cluster as kubectl left it instead of applying the starter
 * over the learner's work.
 */
export function editorUntouched(lab: Lab, progress: LabProgress, submitted: string): boolean {
  return progress.lastManifests === undefined && isStarterText(lab, submitted);
}

/** The text is the editor's starter (line endings and surrounding blank space aside). */
export function isStarterText(lab: Lab, submitted: string): boolean {
  const norm = (t: string) => t.replace(/\r\n/g, '\n').trim();
  return norm(submitted) === norm(starterManifest(lab));
}
