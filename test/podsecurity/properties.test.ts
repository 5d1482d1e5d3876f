/** Invariants of Pod Security over random pods: restricted implies baseline, levels and versions nest. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { evaluatePod, readPodSpec, LATEST, NEWEST_MINOR } from '../../server/podsecurity/index.js';

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const strip = <T extends object>(o: T) => JSON.parse(JSON.stringify(o)) as T;

const securityContext = fc.record({
  privileged: maybe(fc.boolean()),
  allowPrivilegeEscalation: maybe(fc.boolean()),
  runAsNonRoot: maybe(fc.boolean()),
  runAsUser: maybe(fc.constantFrom(0, 1000)),
  procMount: maybe(fc.constantFrom('Default', 'Unmasked')),
  capabilities: maybe(
    fc.record({
      add: fc.subarray(['NET_RAW', 'CHOWN', 'NET_BIND_SERVICE', 'SYS_ADMIN']),
      drop: fc.subarray(['ALL', 'NET_RAW']),
    }),
  ),
  seccompProfile: maybe(fc.record({ type: fc.constantFrom('RuntimeDefault', 'Localhost', 'Unconfined') })),
  seLinuxOptions: maybe(fc.record({ type: fc.constantFrom('container_t', 'spc_t', 'container_engine_t') })),
});

const container = (name: string) =>
  fc.record({
    name: fc.constant(name),
    securityContext: maybe(securityContext),
    ports: maybe(
      fc.array(fc.record({ containerPort: fc.constant(80), hostPort: fc.constantFrom(0, 8080) }), {
        maxLength: 1,
      }),
    ),
  });

const pod = fc.record({
  metadata: fc.record({ name: fc.constant('p') }),
  spec: fc.record({
    hostNetwork: maybe(fc.boolean()),
    hostUsers: maybe(fc.boolean()),
    os: maybe(fc.record({ name: fc.constantFrom('linux', 'windows') })),
    securityContext: maybe(
      fc.record({
        runAsNonRoot: maybe(fc.boolean()),
        runAsUser: maybe(fc.constantFrom(0, 1000)),
        seccompProfile: maybe(fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined') })),
        sysctls: maybe(
          fc.subarray([
            { name: 'kernel.shm_rmid_forced', value: '0' },
            { name: 'kernel.msgmax', value: '1' },
            { name: 'net.ipv4.tcp_rmem', value: '1' },
          ]),
        ),
      }),
    ),
    volumes: maybe(
      fc.subarray([
        { name: 'h', hostPath: { path: '/' } },
        { name: 'e', emptyDir: {} },
        { name: 'n', nfs: { server: 's', path: '/' } },
      ]),
    ),
    containers: fc.tuple(container('app')),
    initContainers: maybe(fc.tuple(container('init'))),
  }),
});

const version = fc.oneof(
  fc.constant(LATEST),
  fc.integer({ min: 0, max: NEWEST_MINOR + 2 }).map((minor) => ({ latest: false as const, minor })),
);

describe('Pod Security invariants', () => {
  // Upstream exempts Windows pods (spec.os.name: windows, from v1.25) from the restricted
  // capabilities and seccomp checks, which REPLACE the baseline ones: such a pod can pass restricted
  // and fail baseline. The engine keeps that quirk (see the test below); the invariants hold for
  // every other pod.
  const linuxPod = pod.filter((p) => p.spec.os?.name !== 'windows');

  it('a pod restricted admits is admitted by baseline at the same version; privileged admits all', () => {
    fc.assert(
      fc.property(linuxPod, version, (raw, v) => {
        const { pod: model, problems } = readPodSpec(strip(raw), ['metadata'], ['spec']);
        expect(problems).toEqual([]);
        const restricted = evaluatePod({ level: 'restricted', version: v }, model);
        const baseline = evaluatePod({ level: 'baseline', version: v }, model);
        if (restricted.allowed) expect(baseline.allowed).toBe(true);
        expect(evaluatePod({ level: 'privileged', version: v }, model).allowed).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('every baseline violation not replaced by a restricted check shows up at restricted too', () => {
    const replaced: Record<string, string> = {
      hostPathVolumes: 'restrictedVolumes',
      seccompProfile_baseline: 'seccompProfile_restricted',
      capabilities_baseline: 'capabilities_restricted',
      procMount: 'procMount_restricted',
    };
    fc.assert(
      fc.property(linuxPod, version, (raw, v) => {
        const { pod: model } = readPodSpec(strip(raw), ['metadata'], ['spec']);
        const restricted = new Set(
          evaluatePod({ level: 'restricted', version: v }, model).violations.map((x) => x.check),
        );
        for (const x of evaluatePod({ level: 'baseline', version: v }, model).violations) {
          const stand = replaced[x.check];
          // A replacing check may only be active from a later version; then the baseline one still runs.
          expect(restricted.has(x.check) || (stand !== undefined && restricted.has(stand))).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps the upstream Windows exception: restricted may admit what baseline rejects', () => {
    const { pod: model } = readPodSpec(
      {
        metadata: { name: 'w' },
        spec: {
          os: { name: 'windows' },
          securityContext: { runAsNonRoot: true },
          containers: [{ name: 'c', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }],
        },
      },
      ['metadata'],
      ['spec'],
    );
    expect(evaluatePod({ level: 'restricted', version: LATEST }, model).allowed).toBe(true);
    expect(evaluatePod({ level: 'baseline', version: LATEST }, model).violations.map((v) => v.check)).toEqual(
      ['capabilities_baseline'],
    );
    expect(evaluatePod({ level: 'restricted', version: { latest: false, minor: 24 } }, model).allowed).toBe(
      false,
    );
  });

  it('latest and any future version judge like the newest known version', () => {
    fc.assert(
      fc.property(pod, fc.constantFrom('baseline' as const, 'restricted' as const), (raw, level) => {
        const { pod: model } = readPodSpec(strip(raw), ['metadata'], ['spec']);
        const newest = evaluatePod({ level, version: { latest: false, minor: NEWEST_MINOR } }, model);
        expect(evaluatePod({ level, version: LATEST }, model)).toEqual(newest);
        expect(evaluatePod({ level, version: { latest: false, minor: NEWEST_MINOR + 5 } }, model)).toEqual(
          newest,
        );
      }),
      { numRuns: 200 },
    );
  });
});
