import { describe, it, expect } from 'vitest';
import { compileNetwork, evaluate, explainVerdict } from '../../server/netpol/index.js';
import { loadCases, podOf } from './helpers.js';

const cases = loadCases();

describe('reference NetworkPolicy cases (every probe, engineOnly included)', () => {
  it('finds all the cases', () => {
    expect(cases.length).toBe(17);
  });

  for (const c of cases) {
    describe(c.file, () => {
      const net = compileNetwork(c.model);
      for (const probe of c.probes) {
        const title = `${probe.from} -> ${probe.to} ${probe.protocol}/${probe.port}: ${probe.expect}${probe.why ? ` (${probe.why})` : ''}`;
        it(title, () => {
          const v = evaluate(
            net,
            { kind: 'pod', pod: podOf(net, probe.from) },
            { kind: 'pod', pod: podOf(net, probe.to) },
            probe.port,
            probe.protocol,
          );
          expect(v.allowed, explainVerdict(v).join('\n')).toBe(probe.expect === 'allow');
          expect(v.reasons.length).toBeGreaterThan(0);
        });
      }
    });
  }
});
