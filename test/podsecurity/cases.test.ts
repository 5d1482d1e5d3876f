/**
 * The Pod Security checks against cases ported from the upstream fixtures: each case must fail
 * exactly the checks it names, at every version it lists.
 */
import { describe, it, expect } from 'vitest';
import { evaluatePod, parseVersion } from '../../server/podsecurity/index.js';
import { loadCases, podModel } from './helpers.js';

const cases = loadCases();

describe('Pod Security cases (ported from upstream fixtures)', () => {
  it('has cases for every check', () => {
    const named = new Set(cases.flatMap((c) => c.denied));
    for (const id of [
      'hostNamespaces',
      'privileged',
      'capabilities_baseline',
      'hostPathVolumes',
      'hostPorts',
      'appArmorProfile',
      'seLinuxOptions',
      'procMount',
      'seccompProfile_baseline',
      'sysctls',
      'windowsHostProcess',
      'hostProbesAndHostLifecycle',
      'restrictedVolumes',
      'runAsNonRoot',
      'runAsUser',
      'allowPrivilegeEscalation',
      'seccompProfile_restricted',
      'capabilities_restricted',
      'procMount_restricted',
    ]) {
      expect(named.has(id), id).toBe(true);
    }
  });

  for (const c of cases) {
    for (const v of c.versions) {
      it(`${c.level}:${v} ${c.name} -> ${c.denied.length === 0 ? 'allowed' : c.denied.join(', ')}`, () => {
        const version = parseVersion(v)!;
        const result = evaluatePod({ level: c.level, version }, podModel(c.pod));
        expect(result.violations.map((x) => x.check)).toEqual(c.denied);
        expect(result.allowed).toBe(c.denied.length === 0);
        for (const x of result.violations) expect(x.paths.length).toBeGreaterThan(0);
      });
    }
  }
});
