/**
 * `kubelab lab new ID`: a lab and its scenario that pass `kubelab lab test` as written, for an
 * instructor to change. Written against the current lab.yaml schema (server/labs/schema.ts): when
 * the schema gains fields, this is the one file to update.
 *
 * The scenario: namespace ID with a `client` and a `server` (agnhost porter, SERVE_PORT_8080) behind
 * Service `server`. The task: client may reach server on 8080 and nothing else (egress, DNS kept).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import type { CliIO } from './io.js';

const IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

/** Every file of a new lab and scenario, by path relative to the labs and scenarios folders. */
export function scaffold(id: string): { lab: Record<string, string>; scenario: Record<string, string> } {
  const policy = (egress: string) =>
    [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: client-egress',
      `  namespace: ${id}`,
      'spec:',
      '  podSelector:',
      '    matchLabels:',
      '      app: client',
      '  policyTypes: [Egress]',
      egress,
    ].join('\n');
  const dns = [
    '    - to:',
    '        - namespaceSelector:',
    '            matchLabels:',
    '              kubernetes.io/metadata.name: kube-system',
    '          podSelector:',
    '            matchLabels:',
    '              k8s-app: kube-dns',
    '      ports:',
    '        - {port: 53, protocol: UDP}',
    '        - {port: 53, protocol: TCP}',
  ];
  const toServer = [
    '    - to:',
    '        - podSelector:',
    '            matchLabels:',
    '              app: server',
    '      ports:',
    '        - {port: 8080, protocol: TCP}',
  ];
  const deployment = (name: string, args: string[], env: string[]) =>
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      `  name: ${name}`,
      `  namespace: ${id}`,
      'spec:',
      '  replicas: 1',
      '  selector:',
      `    matchLabels: {app: ${name}}`,
      '  template:',
      '    metadata:',
      `      labels: {app: ${name}}`,
      '    spec:',
      '      containers:',
      `        - name: ${name}`,
      `          image: ${IMAGE}`,
      `          args: [${args.join(', ')}]`,
      ...env,
    ].join('\n');
  return {
    scenario: {
      'scenario.yaml': [
        `name: ${id}`,
        `description: A client and a server (agnhost porter on TCP 8080 and 9090) in namespace ${id}.`,
        'namespaces:',
        `  - ${id}`,
        '# manifests: every *.yaml here except this file, in name order.',
        '',
      ].join('\n'),
      '00-namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${id}\n`,
      '10-apps.yaml': [
        '# Probes run in the client: agnhost carries curl, nc and dig.',
        deployment('client', ['pause'], []),
        '---',
        '# The simulated cluster (and the real pod) listens where porter is told to: SERVE_PORT_<n>.',
        '# 9090 is a decoy: a policy that opens every port is caught there.',
        deployment(
          'server',
          ['porter'],
          [
            '          env:',
            '            - {name: SERVE_PORT_8080, value: server}',
            '            - {name: SERVE_PORT_9090, value: decoy}',
          ],
        ),
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: server',
        `  namespace: ${id}`,
        'spec:',
        '  selector: {app: server}',
        '  ports:',
        '    - {name: http, port: 8080, targetPort: 8080}',
        '    - {name: decoy, port: 9090, targetPort: 9090}',
        '',
      ].join('\n'),
    },
    lab: {
      'lab.yaml': [
        `id: ${id}`,
        `title: 'The client reaches the server on 8080 only (${id})'`,
        'summary: Write NetworkPolicy client-egress so that the client reaches the server on 8080 and nothing else.',
        'difficulty: beginner',
        'tags: [CKA, CKS, NetworkPolicy]',
        'minutes: 15',
        'competency: >-',
        '  CKA Services & Networking: define and enforce Network Policies (egress, DNS).',
        'catches: forgetting DNS egress, and opening every port of the server',
        `scenario: ${id}`,
        `namespace: ${id}`,
        'pages: {task: task.md, concept: concept.md, completion: completion.md}',
        'solution: solution.yaml',
        'hints:',
        "  - 'Select the client with `podSelector` and list `Egress` under `policyTypes`.'",
        "  - 'The client finds the server by name, so allow UDP and TCP 53 to the `kube-dns` pods in `kube-system`.'",
        'checks:',
        '  - id: policy',
        '    kind: policy',
        '    title: NetworkPolicy client-egress selects exactly the client and restricts egress',
        '    name: client-egress',
        '    selects: {matchLabels: {app: client}}',
        '    policyTypes: [Egress]',
        '  - id: client-dns',
        '    kind: dns',
        '    title: The client still resolves the server by name',
        '    from: {podSelector: {matchLabels: {app: client}}}',
        '    expect: resolves',
        '    names: [server]',
        '  - id: client-reaches-server',
        '    kind: connectivity',
        '    title: The client reaches the server on 8080',
        '    from: {podSelector: {matchLabels: {app: client}}}',
        '    expect: open',
        '    to:',
        '      - {service: server, ports: [8080]}',
        '  - id: client-blocked-elsewhere',
        '    kind: connectivity',
        '    title: The client reaches no other port',
        '    from: {podSelector: {matchLabels: {app: client}}}',
        '    expect: blocked',
        '    to:',
        '      - {service: server, ports: [9090]}',
        '  - id: client-egress-exactly',
        '    kind: traffic',
        '    title: Over all traffic, the client reaches the server on TCP 8080 and CoreDNS on 53, nothing else',
        '    from: {pods: {podSelector: {matchLabels: {app: client}}}}',
        '    open:',
        '      - to: {service: server}',
        '        ports: [{port: 8080}]',
        '      - to: {pods: {namespace: kube-system, podSelector: {matchLabels: {k8s-app: kube-dns}}}}',
        '        ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]',
        '  - id: nothing-else-changes',
        '    kind: unchanged',
        '    title: Over all traffic, every connection that does not start at the client is as before',
        '    except:',
        '      - from: {pods: {podSelector: {matchLabels: {app: client}}}}',
        'knownWrong:',
        '  - file: wrong/01-forgot-dns.yaml',
        '    failsCheck: client-dns',
        '    mistake: egress to the server only; the name cannot be resolved',
        '  - file: wrong/02-every-port.yaml',
        '    failsCheck: client-blocked-elsewhere',
        '    mistake: the server on every port instead of 8080',
        'knownRight:',
        '  - file: right/01-service-port-by-name.yaml',
        '    why: the same rules with the DNS peers in one rule each; behaviour decides, not the text',
        '',
      ].join('\n'),
      'task.md': `# ${id}\n\nIn namespace \`${id}\`, write NetworkPolicy \`client-egress\` so that the \`client\` pod reaches\nService \`server\` on TCP 8080 by name, and nothing else.\n`,
      'concept.md':
        '# Egress and DNS\n\nA pod selected for Egress may only send what a rule allows, DNS lookups included.\n',
      'completion.md': '# Done\n\nThe client reaches the server on 8080, by name, and nothing else.\n',
      'solution.yaml': `${policy(['  egress:', ...dns, ...toServer].join('\n'))}\n`,
      'wrong/01-forgot-dns.yaml': `${policy(['  egress:', ...toServer].join('\n'))}\n`,
      'wrong/02-every-port.yaml': `${policy(
        [
          '  egress:',
          ...dns,
          '    - to:',
          '        - podSelector:',
          '            matchLabels:',
          '              app: server',
        ].join('\n'),
      )}\n`,
      'right/01-service-port-by-name.yaml': `${policy(
        [
          '  egress:',
          '    - to:',
          '        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}',
          '          podSelector: {matchLabels: {k8s-app: kube-dns}}',
          '      ports: [{port: 53, protocol: UDP}]',
          '    - to:',
          '        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}',
          '          podSelector: {matchLabels: {k8s-app: kube-dns}}',
          '      ports: [{port: 53, protocol: TCP}]',
          ...toServer,
        ].join('\n'),
      )}\n`,
    },
  };
}

export function registerLabNew(lab: Command, io: CliIO): void {
  lab
    .command('new')
    .description(
      'Create a lab and its scenario that pass `kubelab lab test` as they are, to change from there',
    )
    .argument('<id>', 'the new lab id (lowercase letters, digits and dashes)')
    .option('--labs <dir>', 'labs folder (default: the labs/ of this kubelab)')
    .option('--scenarios <dir>', 'scenarios folder (default: scenarios/ next to the labs folder)')
    .action(async (id: string, opts: { labs?: string; scenarios?: string }) => {
      // Loaded here, so declaring the command does not load the YAML parser and the schemas.
      const [{ catalogRoots }, { ID_PATTERN }, { fileKind }] = await Promise.all([
        import('../labs/index.js'),
        import('../labs/schema.js'),
        import('../labs/files.js'),
      ]);
      if (!ID_PATTERN.test(id)) {
        throw badInput(
          `"${id}" is not a valid lab id`,
          [],
          'Use lowercase letters, digits and dashes, e.g. np-my-lab.',
        );
      }
      const roots = catalogRoots({
        ...(opts.labs ? { labs: resolve(io.cwd, opts.labs) } : {}),
        ...(opts.scenarios ? { scenarios: resolve(io.cwd, opts.scenarios) } : {}),
      });
      const labDir = join(roots.labs, id);
      const scenarioDir = join(roots.scenarios, id);
      for (const dir of [labDir, scenarioDir]) {
        if ((await fileKind(dir)) !== 'missing') {
          throw badInput(`${dir} already exists`, [], 'Pick another id, or remove the folder first.');
        }
      }
      const files = scaffold(id);
      const written: string[] = [];
      for (const [base, set] of [
        [scenarioDir, files.scenario],
        [labDir, files.lab],
      ] as const) {
        for (const [rel, text] of Object.entries(set)) {
          const path = join(base, rel);
          await mkdir(join(path, '..'), { recursive: true });
          await writeFile(path, text, { flag: 'wx' });
          written.push(path);
        }
      }
      io.stdout(`${written.map((p) => `created ${p}`).join('\n')}\n`);
      io.stdout(`Next: kubelab lab validate ${labDir} && kubelab lab test ${id}\n`);
    });
}
