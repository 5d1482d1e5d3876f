import { describe, it, expect } from 'vitest';
import { validateNetworkPolicy } from '../../server/netpol/index.js';
import { freezeDeep } from '../../server/freeze.js';

const base = (spec: unknown, metadata: Record<string, unknown> = { name: 'p', namespace: 'x' }) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata,
  spec,
});

/** `path: message` lines, for compact expectations. */
function problems(obj: unknown, defaultNamespace?: string): string[] {
  return validateNetworkPolicy(obj, defaultNamespace).problems.map((p) => `${p.path}: ${p.message}`);
}

function expectProblem(obj: unknown, path: string, fragment: string | RegExp) {
  const found = validateNetworkPolicy(obj).problems;
  const hit = found.find(
    (p) =>
      p.path === path &&
      (typeof fragment === 'string' ? p.message.includes(fragment) : fragment.test(p.message)),
  );
  expect(
    hit,
    `expected a problem at ${path} matching ${String(fragment)}; got:\n${found.map((p) => `${p.path}: ${p.message}`).join('\n')}`,
  ).toBeDefined();
}

describe('validateNetworkPolicy: valid policies', () => {
  it('returns the policy as written (no defaulting), with its namespace', () => {
    const obj = base({
      podSelector: { matchLabels: { app: 'backend' } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ podSelector: { matchLabels: { app: 'db1' } } }], ports: [{ port: 1111 }] },
        {
          to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { port: 8000, endPort: 9000 },
          ],
        },
        { ports: [{ port: 'dns-tcp', protocol: 'TCP' }] },
        {},
      ],
    });
    const { policy, problems: found } = validateNetworkPolicy(obj);
    expect(found).toEqual([]);
    expect(policy).toEqual({ namespace: 'x', name: 'p', spec: obj.spec });
  });

  it('uses the default namespace when metadata.namespace is absent, and requires one otherwise', () => {
    const obj = base({ podSelector: {} }, { name: 'p' });
    expect(validateNetworkPolicy(obj, 'np-lab').policy?.namespace).toBe('np-lab');
    expect(validateNetworkPolicy(obj, { defaultNamespace: 'other' }).policy?.namespace).toBe('other');
    expect(problems(obj)).toEqual([
      'metadata.namespace: Required value: give metadata.namespace (or a default namespace)',
    ]);
  });

  it('treats an absent podSelector as {} and accepts empty rules, empty from/to and ports', () => {
    const { policy } = validateNetworkPolicy(
      base({ ingress: [{ from: [], ports: [] }], egress: [{ to: [] }] }),
    );
    expect(policy?.spec.podSelector).toEqual({});
    expect(policy?.spec.ingress).toEqual([{ from: [], ports: [] }]);
  });

  it('accepts live objects with server-side metadata fields', () => {
    const obj = base(
      { podSelector: {}, policyTypes: ['Ingress'] },
      {
        name: 'p',
        namespace: 'x',
        uid: 'u',
        resourceVersion: '1',
        generation: 1,
        creationTimestamp: '2024-01-01T00:00:00Z',
        annotations: { a: 'b' },
        managedFields: [],
      },
    );
    expect(problems(obj)).toEqual([]);
  });
});

describe('validateNetworkPolicy: every problem, with its field path', () => {
  it('metadata.name and namespace syntax', () => {
    expectProblem(base({}, { namespace: 'x' }), 'metadata.name', 'Required value');
    expectProblem(base({}, { name: 'Bad_Name', namespace: 'x' }), 'metadata.name', 'RFC 1123 subdomain');
    expectProblem(base({}, { name: 'p', namespace: 'Bad.NS' }), 'metadata.namespace', 'RFC 1123 label');
    expectProblem(
      base({}, { name: 'p', namespace: 'x', labels: { 'bad key!': 'v' } }),
      'metadata.labels',
      'invalid label key',
    );
  });

  it('a peer with ipBlock and a selector, and an empty peer', () => {
    const obj = base({
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }, {}] }],
    });
    expectProblem(obj, 'spec.ingress[0].from[0]', 'may not specify both ipBlock and another peer');
    expectProblem(obj, 'spec.ingress[0].from[1]', 'must specify a peer');
    expect(validateNetworkPolicy(obj).policy).toBeUndefined();
  });

  it('ports: endPort without a numeric port, endPort < port, out of range, named port syntax, protocol', () => {
    const obj = base({
      egress: [
        {
          ports: [
            { endPort: 90 },
            { port: 'http', endPort: 90 },
            { port: 100, endPort: 90 },
            { port: 0 },
            { port: 65536 },
            { port: 80, endPort: 70000 },
            { port: 'Not_Valid' },
            { port: '80' },
            { port: 'a-very-long-port-name' },
            { port: 'a--b' },
            { protocol: 'HTTP', port: 80 },
            { protocol: 'tcp', port: 80 },
            { port: 1.5 },
          ],
        },
      ],
    });
    const p = 'spec.egress[0].ports';
    expectProblem(obj, `${p}[0].endPort`, 'may not be specified when `port` is not specified');
    expectProblem(obj, `${p}[1].endPort`, 'may not be specified when `port` is non-numeric');
    expectProblem(obj, `${p}[2].endPort`, 'must be greater than or equal to `port`');
    expectProblem(obj, `${p}[3].port`, 'between 1 and 65535');
    expectProblem(obj, `${p}[4].port`, 'between 1 and 65535');
    expectProblem(obj, `${p}[5].endPort`, 'between 1 and 65535');
    expectProblem(obj, `${p}[6].port`, 'alpha-numeric');
    expectProblem(obj, `${p}[7].port`, 'at least one letter');
    expectProblem(obj, `${p}[8].port`, 'no more than 15 characters');
    expectProblem(obj, `${p}[9].port`, 'consecutive hyphens');
    expectProblem(obj, `${p}[10].protocol`, 'supported values: "TCP", "UDP", "SCTP"');
    expectProblem(obj, `${p}[11].protocol`, 'Unsupported value: "tcp"');
    expectProblem(obj, `${p}[12].port`, 'between 1 and 65535');
    expect(validateNetworkPolicy(obj).problems.length).toBeGreaterThanOrEqual(13);
  });

  it('ipBlock: bad CIDR, missing cidr, except not inside cidr, bad except', () => {
    const obj = base({
      egress: [
        {
          to: [
            { ipBlock: { cidr: '10.0.0.0/33' } },
            { ipBlock: { cidr: '' } },
            {
              ipBlock: {
                cidr: '10.0.0.0/16',
                except: ['192.168.0.0/24', '10.0.0.0/16', '10.0.0.0/8', 'nope', '10.0.5.0/24'],
              },
            },
            { ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48', '10.0.0.0/24'] } },
          ],
        },
      ],
    });
    const p = 'spec.egress[0].to';
    expectProblem(obj, `${p}[0].ipBlock.cidr`, 'must be a valid CIDR');
    expectProblem(obj, `${p}[1].ipBlock.cidr`, 'Required value');
    expectProblem(obj, `${p}[2].ipBlock.except[0]`, 'strict subset');
    expectProblem(obj, `${p}[2].ipBlock.except[1]`, 'strict subset');
    expectProblem(obj, `${p}[2].ipBlock.except[2]`, 'strict subset');
    expectProblem(obj, `${p}[2].ipBlock.except[3]`, 'must be a valid CIDR');
    expectProblem(obj, `${p}[3].ipBlock.except[1]`, 'strict subset');
    const paths = validateNetworkPolicy(obj).problems.map((x) => x.path);
    expect(paths).not.toContain(`${p}[2].ipBlock.except[4]`);
    expect(paths).not.toContain(`${p}[3].ipBlock.except[0]`);
  });

  it('policyTypes: unknown values and more than two', () => {
    expectProblem(
      base({ policyTypes: ['Ingress', 'Sideways'] }),
      'spec.policyTypes[1]',
      'Unsupported value: "Sideways"',
    );
    expectProblem(
      base({ policyTypes: ['Ingress', 'Egress', 'Ingress'] }),
      'spec.policyTypes',
      'more than two',
    );
    expectProblem(base({ policyTypes: 'Ingress' }), 'spec.policyTypes', 'must be a list');
  });

  it('selectors: operators, values rules, key and value syntax', () => {
    const obj = base({
      podSelector: {
        matchLabels: { 'Bad Key': 'v', app: 'not valid!', num: 5 },
        matchExpressions: [
          { key: 'a', operator: 'In' },
          { key: 'a', operator: 'NotIn', values: [] },
          { key: 'a', operator: 'Exists', values: ['x'] },
          { key: 'a', operator: 'DoesNotExist', values: ['x'] },
          { key: 'a', operator: 'Equals', values: ['x'] },
          { key: '', operator: 'Exists' },
          { key: 'a', operator: 'In', values: ['bad value!'] },
          { key: 'example.com/ok', operator: 'In', values: ['fine'] },
        ],
      },
      ingress: [
        { from: [{ namespaceSelector: { matchExpressions: [{ key: 'a/b/c', operator: 'Exists' }] } }] },
      ],
    });
    const s = 'spec.podSelector';
    expectProblem(obj, `${s}.matchLabels`, 'invalid label key "Bad Key"');
    expectProblem(obj, `${s}.matchLabels`, 'invalid value "not valid!" for label "app"');
    expectProblem(obj, `${s}.matchLabels`, 'must have a string value');
    expectProblem(
      obj,
      `${s}.matchExpressions[0].values`,
      "must be specified when `operator` is 'In' or 'NotIn'",
    );
    expectProblem(
      obj,
      `${s}.matchExpressions[1].values`,
      "must be specified when `operator` is 'In' or 'NotIn'",
    );
    expectProblem(
      obj,
      `${s}.matchExpressions[2].values`,
      "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    );
    expectProblem(obj, `${s}.matchExpressions[3].values`, 'may not be specified');
    expectProblem(obj, `${s}.matchExpressions[4].operator`, 'Unsupported value: "Equals"');
    expectProblem(obj, `${s}.matchExpressions[5].key`, 'Required value');
    expectProblem(obj, `${s}.matchExpressions[6].values[0]`, 'Invalid value: "bad value!"');
    expectProblem(obj, 'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].key', 'qualified name');
    const paths = validateNetworkPolicy(obj).problems.map((p) => p.path);
    expect(paths).not.toContain(`${s}.matchExpressions[7].key`);
  });

  it('unknown fields are refused, with a suggestion (e.g. the client library trap `_from`)', () => {
    const obj = base({ podSelector: {}, ingress: [{ _from: [{ podSelector: {} }] }], egres: [] });
    expectProblem(obj, 'spec.ingress[0]._from', 'unknown field "_from" (did you mean "from"?)');
    expectProblem(obj, 'spec.egres', 'did you mean "egress"?');
    expectProblem(
      base({ podSelector: {}, egress: [{ to: [{ podselector: {} }] }] }),
      'spec.egress[0].to[0].podselector',
      'did you mean "podSelector"?',
    );
  });

  it('wrong shapes are reported, not thrown', () => {
    expect(problems('nope')).toEqual(
      ['a NetworkPolicy must be an object, got the string "nope"'].map((m) => `: ${m}`),
    );
    expectProblem(base(undefined), 'spec', 'Required value');
    expectProblem(base({ ingress: {} }), 'spec.ingress', 'must be a list');
    expectProblem(base({ ingress: [{ from: {} }] }), 'spec.ingress[0].from', 'must be a list');
    expectProblem(base({ ingress: ['x'] }), 'spec.ingress[0]', 'must be an object');
    expectProblem({ ...base({}), kind: 'Pod' }, 'kind', 'expected kind NetworkPolicy');
    expectProblem({ ...base({}), apiVersion: 'extensions/v1beta1' }, 'apiVersion', 'networking.k8s.io/v1');
  });

  it('reports every problem at once, across the whole object', () => {
    const obj = base(
      {
        policyTypes: ['Bogus'],
        ingress: [{ from: [{}], ports: [{ port: 0 }] }],
        egress: [{ to: [{ ipBlock: { cidr: 'x' } }] }],
      },
      { name: 'Bad!', namespace: 'x' },
    );
    expect(problems(obj).map((l) => l.split(':')[0])).toEqual([
      'metadata.name',
      'spec.policyTypes[0]',
      'spec.ingress[0].from[0]',
      'spec.ingress[0].ports[0].port',
      'spec.egress[0].to[0].ipBlock.cidr',
    ]);
  });
});

describe('frozen policies (the simulated cluster stores its objects so)', () => {
  const frozen = () =>
    freezeDeep(base({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }, { name: 'p' }));

  it('validates a frozen object once per default namespace, and shares a frozen result', () => {
    const obj = frozen();
    const first = validateNetworkPolicy(obj, 'a');
    expect(validateNetworkPolicy(obj, 'a')).toBe(first);
    expect(Object.isFrozen(first.policy?.spec.ingress?.[0])).toBe(true);
    // The default namespace is part of the answer, so it is part of what is remembered.
    expect(first.policy?.namespace).toBe('a');
    expect(validateNetworkPolicy(obj, 'b').policy?.namespace).toBe('b');
    expect(validateNetworkPolicy(obj).problems.map((p) => p.path)).toEqual(['metadata.namespace']);
  });

  it('validates an object that may still change every time', () => {
    const obj = base({ podSelector: {} }, { name: 'p', namespace: 'x' });
    const first = validateNetworkPolicy(obj);
    expect(validateNetworkPolicy(obj)).not.toBe(first);
    (obj.spec as Record<string, unknown>).podSelector = 'nonsense';
    expect(validateNetworkPolicy(obj).policy).toBeUndefined();
  });
});
