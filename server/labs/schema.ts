/**
 * The zod schemas for labs/<id>/lab.yaml and scenarios/<name>/scenario.yaml. Every object is strict
 * (an unknown key is an error, so a typo such as `failCheck` cannot silently drop a field), and
 * every message is written for a lab author reading `file:line: path: message`.
 */
import { z } from 'zod';
import type { LabelSelector } from '../netpol/types.js';

/** Lab ids, scenario names and check ids: safe as folder names and URL segments. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * A strict object whose unknown-key message lists each unknown key with a suggestion. The issue
 * carries one line per key, in the order of `issue.keys` (see problems.ts, which splits them).
 */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys.map((key) => unknownKeyMessage(key, allowed)).join('\n');
    },
  });
}

export function unknownKeyMessage(key: string, allowed: string[]): string {
  const near = closest(key, allowed);
  const hint = near ? `did you mean "${near}"?` : `allowed here: ${allowed.join(', ')}`;
  return `unknown field "${key}" (${hint})`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Suggest only near misses; a far-off name is more likely a field of some other object.
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((row[j - 1] ?? 0) + 1, (prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

const text = (what: string) => z.string({ error: `must be ${what}` }).trim().min(1, `must not be empty`);

const id = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .regex(ID_PATTERN, 'must use only lowercase letters, digits and dashes, starting with a letter or digit');

const namespaceName = z
  .string({ error: 'must be a namespace name' })
  .regex(DNS_LABEL, 'must be a valid namespace name (lowercase letters, digits and dashes)');

/** A file inside the lab or scenario folder: relative, forward slashes, no `..`. */
const relativeFile = z
  .string({ error: 'must be a file name relative to this folder' })
  .min(1, 'must not be empty')
  .refine(
    (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((seg) => seg === '..' || seg === ''),
    'must be a relative path inside this folder (no leading /, no .., no backslashes)',
  );

const port = z.union(
  [z.number().int().min(1).max(65535), z.string().regex(PORT_NAME).max(15)],
  { error: 'must be a port number (1-65535) or a container port name' },
);

const protocol = z.enum(['TCP', 'UDP', 'SCTP'], { error: 'must be one of TCP, UDP, SCTP' });

export const labelSelectorSchema = strictObject({
  matchLabels: z.record(z.string(), z.string({ error: 'label values must be strings' })).optional(),
  matchExpressions: z
    .array(
      strictObject({
        key: text('a label key'),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
          error: 'must be one of In, NotIn, Exists, DoesNotExist',
        }),
        values: z.array(z.string()).optional(),
      }).superRefine((req, ctx) => {
        const needsValues = req.operator === 'In' || req.operator === 'NotIn';
        const count = req.values?.length ?? 0;
        if (needsValues && count === 0) {
          ctx.addIssue({ code: 'custom', path: ['values'], message: `must list at least one value for ${req.operator}` });
        }
        if (!needsValues && count > 0) {
          ctx.addIssue({ code: 'custom', path: ['values'], message: `must be empty for ${req.operator}` });
        }
      }),
    )
    .optional(),
}) satisfies z.ZodType<LabelSelector>;

/** `namespace` defaults to the lab's namespace; it is filled in after parsing (see lab.ts). */
const podSetSchema = strictObject({
  namespace: namespaceName.optional(),
  podSelector: labelSelectorSchema,
});

const probeTargetSchema = strictObject({
  service: namespaceName.optional(),
  pods: podSetSchema.optional(),
  ip: z.string().regex(IPV4, 'must be an IPv4 address').optional(),
  namespace: namespaceName.optional(),
  ports: z.array(port, { error: 'must be a list of ports' }).min(1, 'must list at least one port'),
  protocol: protocol.default('TCP'),
  label: text('a short label').optional(),
}).superRefine((target, ctx) => {
  const given = (['service', 'pods', 'ip'] as const).filter((k) => target[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: given.length > 1 ? [given[1] ?? 'service'] : [],
      message:
        given.length === 0
          ? 'must name exactly one of service, pods or ip'
          : `must name exactly one of service, pods or ip (found ${given.join(' and ')})`,
    });
  }
  if (target.namespace !== undefined && target.service === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['namespace'],
      message: 'only applies to a service target (pods carry their own namespace)',
    });
  }
});

const checkBase = {
  id: id('a check id'),
  title: text('a one-line title'),
};

const policyCheckSchema = strictObject({
  kind: z.literal('policy'),
  ...checkBase,
  namespace: namespaceName.optional(),
  name: z
    .string({ error: 'must be the NetworkPolicy name' })
    .regex(DNS_LABEL, 'must be a valid object name (lowercase letters, digits and dashes)'),
  selects: labelSelectorSchema.optional(),
  policyTypes: z
    .array(z.enum(['Ingress', 'Egress'], { error: 'must be Ingress or Egress' }))
    .min(1, 'must list at least one of Ingress, Egress')
    .optional(),
});

const connectivityCheckSchema = strictObject({
  kind: z.literal('connectivity'),
  ...checkBase,
  from: podSetSchema,
  expect: z.enum(['open', 'blocked'], { error: 'must be one of open, blocked' }),
  to: z.array(probeTargetSchema, { error: 'must be a list of targets' }).min(1, 'must list at least one target'),
});

const dnsCheckSchema = strictObject({
  kind: z.literal('dns'),
  ...checkBase,
  from: podSetSchema,
  expect: z.enum(['resolves', 'fails'], { error: 'must be one of resolves, fails' }),
  names: z.array(text('a DNS name'), { error: 'must be a list of names' }).min(1, 'must list at least one name'),
});

/**
 * A set of endpoints in a statement of intent. Exactly one of: pods (existing and future ones, in
 * one namespace or in every namespace a selector matches), the pods behind a Service, or addresses
 * outside the cluster.
 */
const endpointSetSchema = strictObject({
  pods: strictObject({
    namespace: namespaceName.optional(),
    namespaceSelector: labelSelectorSchema.optional(),
    podSelector: labelSelectorSchema.default({}),
  })
    .refine((p) => !(p.namespace !== undefined && p.namespaceSelector !== undefined), {
      message: 'give namespace or namespaceSelector, not both',
    })
    .optional(),
  service: namespaceName.optional(),
  namespace: namespaceName.optional(),
  external: strictObject({
    cidr: z.string({ error: 'must be a CIDR' }).optional(),
    except: z.array(z.string({ error: 'must be a CIDR' })).optional(),
  }).optional(),
}).superRefine((set, ctx) => {
  const given = (['pods', 'service', 'external'] as const).filter((k) => set[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message:
        given.length === 0
          ? 'must name exactly one of pods, service or external'
          : `must name exactly one of pods, service or external (found ${given.join(' and ')})`,
    });
  }
  if (set.namespace !== undefined && set.service === undefined) {
    ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'only applies to a service (pods carry their own namespace)' });
  }
});

/** One set or a list of sets (their union). */
const endpointSetsSchema = z
  .union([endpointSetSchema, z.array(endpointSetSchema).min(1, 'must list at least one set')], {
    error: 'must be a set of endpoints (pods, service or external) or a list of them',
  })
  .transform((v) => (Array.isArray(v) ? v : [v]));

/** Like a NetworkPolicy port: protocol defaults to TCP; no port means every port of the protocol. */
const portSpecSchema = strictObject({
  port: port.optional(),
  endPort: z.number({ error: 'must be a port number' }).int().min(1).max(65535).optional(),
  protocol: protocol.default('TCP'),
}).superRefine((p, ctx) => {
  if (p.endPort !== undefined && typeof p.port !== 'number') {
    ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'needs a numeric port to start the range' });
  } else if (p.endPort !== undefined && typeof p.port === 'number' && p.endPort < p.port) {
    ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'must not be below port' });
  }
});

const regionShape = {
  from: endpointSetsSchema.optional(),
  to: endpointSetsSchema.optional(),
  ports: z.array(portSpecSchema, { error: 'must be a list of ports' }).min(1, 'must list at least one port (or leave ports out for every port)').optional(),
};
const regionSchema = strictObject(regionShape);
const toleranceSchema = strictObject({ ...regionShape, why: text('why the task does not constrain this traffic, in one line') });

/**
 * "Traffic from these sources to these destinations is open exactly where `open` says, and blocked
 * everywhere else", over every pod that exists or could exist and every port and protocol.
 */
const trafficCheckSchema = strictObject({
  kind: z.literal('traffic'),
  ...checkBase,
  ...regionShape,
  open: z.array(regionSchema, { error: 'must be a list of regions' }).default([]),
  tolerate: z.array(toleranceSchema, { error: 'must be a list of tolerated regions' }).default([]),
});

/** "Every connection outside `except` behaves as it does with only the scenario's own objects." */
const unchangedCheckSchema = strictObject({
  kind: z.literal('unchanged'),
  ...checkBase,
  except: z.array(regionSchema, { error: 'must be a list of regions' }).default([]),
  tolerate: z.array(toleranceSchema, { error: 'must be a list of tolerated regions' }).default([]),
});

const objectName = z
  .string({ error: 'must be an object name' })
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a valid object name (lowercase letters, digits, dashes and dots)');

/** Kinds whose pods Pod Security judges (a Pod, or a workload's pod template). */
export const POD_BEARING_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;
const podBearingKind = z.enum(POD_BEARING_KINDS, { error: `must be one of ${POD_BEARING_KINDS.join(', ')}` });

/**
 * "Would the API server admit this?": a manifest of the lab (a pod an attacker might try), named
 * live workloads, or every workload and bare pod of the namespace, each judged as a Pod created
 * now (server-side dry run), so a workload whose pods would be refused fails even though the
 * workload object itself is accepted.
 */
const admissionCheckSchema = strictObject({
  kind: z.literal('admission'),
  ...checkBase,
  namespace: namespaceName.optional(),
  manifest: relativeFile.optional(),
  workloads: z
    .union([
      z.literal('all'),
      z
        .array(strictObject({ kind: podBearingKind, name: objectName }), { error: 'must be a list of {kind, name}' })
        .min(1, 'must list at least one workload'),
    ], { error: 'must be "all" (every workload and bare pod of the namespace) or a list of {kind, name}' })
    .optional(),
  expect: z.enum(['admitted', 'rejected'], { error: 'must be one of admitted, rejected' }),
  warnings: z.enum(['none', 'some'], { error: 'must be one of none, some' }).optional(),
}).superRefine((c, ctx) => {
  if ((c.manifest === undefined) === (c.workloads === undefined))
    ctx.addIssue({ code: 'custom', path: [], message: 'must name exactly one of manifest or workloads' });
  if (c.warnings !== undefined && c.expect === 'rejected')
    ctx.addIssue({ code: 'custom', path: ['warnings'], message: 'only applies with expect: admitted (a refused object gets no warnings)' });
});

/** A field of a live object: `equals` a value, is `oneOf` some (null = absent), is `absent`, or `exists`. */
const assertionSchema = strictObject({
  path: z
    .string({ error: 'must be a field path such as spec.replicas or metadata.labels["app"]' })
    .regex(
      /^[A-Za-z_][A-Za-z0-9_]*(\[(\d+|\*|"[^"]+")\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[(\d+|\*|"[^"]+")\])*)*$/,
      'must be a field path such as spec.replicas, spec.containers[*].image or metadata.labels["pod-security.kubernetes.io/enforce"]',
    ),
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  oneOf: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).min(1, 'must list at least one value').optional(),
  absent: z.literal(true, { error: 'must be true (leave it out otherwise)' }).optional(),
  exists: z.literal(true, { error: 'must be true (leave it out otherwise)' }).optional(),
  why: text('what this field means for the task, in one line').optional(),
}).superRefine((a, ctx) => {
  const given = (['equals', 'oneOf', 'absent', 'exists'] as const).filter((k) => a[k] !== undefined);
  if (given.length !== 1)
    ctx.addIssue({ code: 'custom', path: [], message: 'must give exactly one of equals, oneOf, absent, exists' });
});

/**
 * Assertions on live objects: one object (`object`), or every live pod of a set (`pods`, at least
 * one must exist), each assertion holding for each of them.
 */
const stateCheckSchema = strictObject({
  kind: z.literal('state'),
  ...checkBase,
  object: strictObject({
    kind: z.enum(['Namespace', 'ServiceAccount', 'Service', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet'], {
      error: 'must be one of Namespace, ServiceAccount, Service, Pod, Deployment, StatefulSet, DaemonSet',
    }),
    name: objectName,
    namespace: namespaceName.optional(),
  }).optional(),
  pods: podSetSchema.optional(),
  assert: z.array(assertionSchema, { error: 'must be a list of assertions' }).min(1, 'must list at least one assertion'),
}).superRefine((c, ctx) => {
  if ((c.object === undefined) === (c.pods === undefined))
    ctx.addIssue({ code: 'custom', path: [], message: 'must name exactly one of object or pods' });
});

const k8sName = z
  .string({ error: 'must be a name' })
  .min(1, 'must not be empty')
  .regex(/^[^/%\s]+$/, 'must be a valid object name (no /, % or spaces)');

const accessStatementShape = {
  verbs: z
    .array(z.string({ error: 'must be a verb' }).regex(/^[a-z]+$/, 'must be a lowercase verb such as get, list, create'), {
      error: 'must be a list of verbs',
    })
    .min(1, 'must list at least one verb'),
  resources: z
    .array(
      z
        .string({ error: 'must be a resource' })
        .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9.-]+)?(\/[a-z]+)?$/, 'must be RESOURCE[.GROUP][/SUBRESOURCE], e.g. pods, pods/log, deployments.apps'),
      { error: 'must be a list of resources' },
    )
    .min(1, 'must list at least one resource'),
  namespaces: z.array(namespaceName, { error: 'must be a list of namespaces' }).min(1, 'must list at least one namespace (or leave it out for the lab namespace)').optional(),
  cluster: z.boolean({ error: 'must be true or false' }).default(false),
  names: z.array(k8sName, { error: 'must be a list of object names' }).min(1, 'must list at least one name').optional(),
};
const refineStatement = (st: { namespaces?: string[] | undefined; cluster: boolean }, ctx: z.RefinementCtx) => {
  if (st.cluster && st.namespaces !== undefined)
    ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'give namespaces or cluster: true, not both' });
};
const accessStatementSchema = strictObject(accessStatementShape).superRefine(refineStatement);
const accessToleranceSchema = strictObject({
  ...accessStatementShape,
  why: text('why the task does not constrain these requests, in one line'),
}).superRefine(refineStatement);

/**
 * "SUBJECT can / cannot VERB RESOURCE", proven for every verb, resource and namespace listed;
 * with nothingElse, every other request the cluster serves must be denied.
 */
const accessCheckSchema = strictObject({
  kind: z.literal('access'),
  ...checkBase,
  subject: z
    .string({ error: 'must be a user name or system:serviceaccount:NAMESPACE:NAME' })
    .min(1, 'must not be empty')
    .refine((s) => !s.startsWith('system:serviceaccount:') || /^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/.test(s), {
      message: 'a ServiceAccount is written system:serviceaccount:NAMESPACE:NAME',
    }),
  groups: z.array(text('a group name'), { error: 'must be a list of groups' }).default([]),
  can: z.array(accessStatementSchema, { error: 'must be a list of statements' }).default([]),
  cannot: z.array(accessStatementSchema, { error: 'must be a list of statements' }).default([]),
  nothingElse: z.boolean({ error: 'must be true or false' }).default(false),
  tolerate: z.array(accessToleranceSchema, { error: 'must be a list of tolerated statements' }).default([]),
}).superRefine((c, ctx) => {
  if (c.can.length === 0 && c.cannot.length === 0 && !c.nothingElse)
    ctx.addIssue({ code: 'custom', path: [], message: 'must say something: can, cannot or nothingElse: true' });
  if (c.tolerate.length > 0 && !c.nothingElse)
    ctx.addIssue({ code: 'custom', path: ['tolerate'], message: 'only means something with nothingElse: true' });
});

export const checkSchema = z.discriminatedUnion('kind', [
  policyCheckSchema,
  connectivityCheckSchema,
  dnsCheckSchema,
  trafficCheckSchema,
  unchangedCheckSchema,
  admissionCheckSchema,
  stateCheckSchema,
  accessCheckSchema,
]);

export const DOMAINS = ['networkpolicy', 'rbac', 'podsecurity', 'serviceaccounts', 'troubleshooting'] as const;

export const CHANGEABLE_KINDS = [
  'Namespace',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Pod',
  'Service',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
] as const;

/** Changeable kinds that live outside any namespace: they never take the lab's. */
export const CLUSTER_SCOPED_CHANGEABLE: ReadonlySet<string> = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

/** A scenario object the learner is meant to change (see README, "Objects the learner may change"). */
export const changeableSchema = strictObject({
  kind: z.enum(CHANGEABLE_KINDS, { error: `must be one of ${CHANGEABLE_KINDS.join(', ')}` }),
  name: objectName,
  namespace: namespaceName.optional(),
  why: text('what the learner changes in it, in one line'),
}).superRefine((o, ctx) => {
  // Such an object never has a namespace, so the entry would match nothing and protect it silently.
  if (o.namespace !== undefined && CLUSTER_SCOPED_CHANGEABLE.has(o.kind))
    ctx.addIssue({ code: 'custom', path: ['namespace'], message: `a ${o.kind} has no namespace: remove this field` });
});

export const pagesSchema = strictObject({
  task: relativeFile,
  concept: relativeFile,
  completion: relativeFile,
});

export const knownWrongSchema = strictObject({
  file: relativeFile,
  failsCheck: id('the id of a check this attempt must fail'),
  mistake: text('the mistake, in one line'),
});

export const knownRightSchema = strictObject({
  file: relativeFile,
  why: text('why this different answer is still correct, in one line'),
});

export const labFileSchema = strictObject({
  id: id('the lab id (the folder name)'),
  title: text('the lab title'),
  summary: text('a one-paragraph summary'),
  difficulty: z.enum(['beginner', 'intermediate', 'advanced'], {
    error: 'must be one of beginner, intermediate, advanced',
  }),
  tags: z.array(text('a tag'), { error: 'must be a list of tags' }).min(1, 'must list at least one tag'),
  minutes: z
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1')
    .max(600, 'must be at most 600'),
  competency: text('the CKA/CKS competency this lab trains'),
  catches: text('the mistake this lab is designed to catch'),
  scenario: id('a scenario name (a folder under scenarios/)'),
  namespace: namespaceName,
  pages: pagesSchema,
  solution: relativeFile,
  hints: z.array(text('a hint'), { error: 'must be a list of hints' }).min(1, 'must give at least one hint'),
  checks: z.array(checkSchema, { error: 'must be a list of checks' }).min(1, 'must define at least one check'),
  knownWrong: z.array(knownWrongSchema, { error: 'must be a list of known-wrong attempts' }).default([]),
  knownRight: z.array(knownRightSchema, { error: 'must be a list of known-right attempts' }).default([]),
  domain: z.enum(DOMAINS, { error: `must be one of ${DOMAINS.join(', ')}` }).optional(),
  changeable: z.array(changeableSchema, { error: 'must be a list of {kind, name, why}' }).default([]),
  starter: relativeFile.optional(),
});

export type LabFile = z.infer<typeof labFileSchema>;

export const scenarioFileSchema = strictObject({
  name: id('the scenario name (the folder name)'),
  description: text('a description'),
  namespaces: z
    .array(namespaceName, { error: 'must be a list of namespace names' })
    .min(1, 'must list at least one namespace'),
  externalHosts: z
    .array(
      strictObject({
        name: id('a short name for reports'),
        ip: z.string({ error: 'must be an IPv4 address' }).regex(IPV4, 'must be an IPv4 address'),
        ports: z
          .array(
            strictObject({
              port: z.number({ error: 'must be a port number' }).int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535'),
              protocol: protocol.default('TCP'),
            }),
          )
          .min(1, 'must list at least one port'),
      }),
      { error: 'must be a list of external hosts' },
    )
    .default([]),
  manifests: z
    .array(relativeFile, { error: 'must be a list of manifest files' })
    .min(1, 'must list at least one file (or leave manifests out to apply every *.yaml in name order)')
    .optional(),
});

export type ScenarioFile = z.infer<typeof scenarioFileSchema>;
export type ParsedCheck = z.infer<typeof checkSchema>;
