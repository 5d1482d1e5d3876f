import { describe, it, expect } from 'vitest';
import { compileNetwork, evaluate } from '../../server/netpol/index.js';
import { computeMatrix } from '../../server/netpol/matrix.js';
import { loadCases } from './helpers.js';

describe('computeMatrix agrees with evaluate on every pair', () => {
  for (const c of loadCases()) {
    it(c.file, () => {
      const net = compileNetwork(c.model);
      const ports = [
        { port: 80, protocol: 'TCP' as const },
        { port: 53, protocol: 'UDP' as const },
        { port: 'serve-81-tcp', protocol: 'TCP' as const },
        { port: 'dns', protocol: 'UDP' as const },
      ];
      for (const port of ports) {
        const m = computeMatrix(net, { port });
        let allowed = 0;
        m.pods.forEach((src, i) =>
          m.pods.forEach((dst, j) => {
            const v = evaluate(
              net,
              { kind: 'pod', pod: src },
              { kind: 'pod', pod: dst },
              port.port,
              port.protocol,
            );
            expect(m.allowed(i, j), `${v.from} -> ${v.to} ${port.protocol}/${port.port}`).toBe(v.allowed);
            if (v.allowed) allowed++;
          }),
        );
        expect(m.counts.allowed).toBe(allowed);
        expect(m.counts.denied).toBe(m.counts.pairs - allowed);
      }
      // Declared-ports mode: each cell lists exactly the declared ports evaluate allows.
      const m = computeMatrix(net);
      m.pods.forEach((src, i) =>
        m.pods.forEach((dst, j) => {
          const expected = dst.ports
            .filter(
              (p) =>
                evaluate(net, { kind: 'pod', pod: src }, { kind: 'pod', pod: dst }, p.port, p.protocol)
                  .allowed,
            )
            .map((p) => `${p.port}/${p.protocol}`);
          expect(m.allowedPorts(i, j).map((p) => `${p.port}/${p.protocol}`)).toEqual([...new Set(expected)]);
          expect(m.allowed(i, j)).toBe(expected.length > 0);
        }),
      );
    });
  }
});
