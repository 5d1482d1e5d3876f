/**
 * The lab model: what labs/<id>/lab.yaml and scenarios/<name>/scenario.yaml mean once validated.
 * The zod schemas in server/labs/ produce exactly these types. Lab authors read docs in README.md.
 */
import type { LabelSelector, Protocol } from '../netpol/types.js';

export type Difficulty = 'beginner' | 'intermediate' | 'advanced';

/** A set of pods: those in `namespace` matching `podSelector` (`{}` = all pods of the namespace). */
export interface PodSet {
  namespace: string;
  podSelector: LabelSelector;
}

/**
 * Something a probe is aimed at. Exactly one of service / pods / ip:
 * - service: reached by its DNS name `<service>.<namespace>.svc.cluster.local` (so DNS egress matters);
 * - pods: every matching pod, by pod IP (no DNS);
 * - ip: a fixed address (an external host declared by the scenario).
 */
export interface ProbeTarget {
  service?: string;
  pods?: PodSet;
  ip?: string;
  /** Namespace of `service` (default: the lab's namespace). */
  namespace?: string;
  /** One or more ports (numbers, or names resolved on the destination pod). */
  ports: Array<number | string>;
  protocol: Protocol;
  /** Free text shown in the report instead of the generated label. */
  label?: string;
}

export type Check =
  | {
      kind: 'policy';
      id: string;
      title: string;
      namespace: string;
      name: string;
      /** The policy's podSelector must select exactly the pods of this set (same namespace). */
      selects?: LabelSelector;
      /** The policy must include these policyTypes (after defaulting). */
      policyTypes?: Array<'Ingress' | 'Egress'>;
    }
  | {
      kind: 'connectivity';
      id: string;
      title: string;
      /** Every pod of this set is a source. */
      from: PodSet;
      /** `open` = must connect; `blocked` = must time out (dropped by policy). */
      expect: 'open' | 'blocked';
      to: ProbeTarget[];
    }
  | {
      kind: 'dns';
      id: string;
      title: string;
      from: PodSet;
      expect: 'resolves' | 'fails';
      /** Names to resolve; a bare Service name is qualified with the lab namespace. */
      names: string[];
    }
  | ({
      /** Proven over all traffic: in the region, open exactly where `open` says, blocked elsewhere. */
      kind: 'traffic';
      id: string;
      title: string;
      open: TrafficRegion[];
      tolerate: Tolerance[];
    } & TrafficRegion)
  | {
      /** Proven over all traffic: outside `except`, everything behaves as with the scenario alone. */
      kind: 'unchanged';
      id: string;
      title: string;
      except: TrafficRegion[];
      tolerate: Tolerance[];
    }
  | AdmissionCheck
  | StateCheck
  | AccessCheck;

/**
 * Would the API server admit it: a manifest of the lab, or live workloads (each judged as a Pod
 * created now, so a workload whose pods would be refused fails), via a server-side dry run.
 */
export interface AdmissionCheck {
  kind: 'admission';
  id: string;
  title: string;
  namespace: string;
  /** Absolute path of a manifest in the lab folder (one object). */
  manifest?: string;
  /** Named live workloads, or every workload and bare pod of the namespace. */
  workloads?: 'all' | Array<{ kind: string; name: string }>;
  expect: 'admitted' | 'rejected';
  /** With `admitted`: the API server must give no warning, or at least one. */
  warnings?: 'none' | 'some';
}

/** One field of a live object: exactly one of equals, oneOf (null = absent), absent, exists. */
export interface StateAssertion {
  path: string;
  equals?: string | number | boolean;
  oneOf?: Array<string | number | boolean | null>;
  absent?: true;
  exists?: true;
  why?: string;
}

/** Assertions on one live object, or on every live pod of a set (at least one must exist). */
export interface StateCheck {
  kind: 'state';
  id: string;
  title: string;
  object?: { kind: string; name: string; namespace: string };
  pods?: PodSet;
  assert: StateAssertion[];
}

export type Domain = 'networkpolicy' | 'rbac' | 'podsecurity' | 'serviceaccounts' | 'troubleshooting';

/**
 * A scenario object the learner is meant to change (a Deployment to fix, a namespace to label).
 * Submissions may replace it; what it runs stays guarded (see server/grader/scenario-objects.ts).
 */
export interface ChangeableObject {
  kind: string;
  name: string;
  namespace?: string;
  why: string;
}

/**
 * Proven over every request the lab names (and with `nothingElse`, over every resource, verb and
 * namespace the cluster serves): what `subject` may and may not do, asked of the cluster's
 * authorizer (SubjectAccessReview on a real cluster, the RBAC engine on the simulated one).
 */
export interface AccessCheck {
  kind: 'access';
  id: string;
  title: string;
  /** A user name; `system:serviceaccount:NS:NAME` for a ServiceAccount (its groups are implied). */
  subject: string;
  /** Groups of a user subject, as `--as-group` gives them. */
  groups: string[];
  can: AccessStatement[];
  cannot: AccessStatement[];
  /** Everything outside `can` and `tolerate` must be denied (requests every signed-in user may make aside). */
  nothingElse: boolean;
  tolerate: Array<AccessStatement & { why: string }>;
}

/** Every verb on every resource, in every namespace listed (or cluster-wide), for the names listed (or any). */
export interface AccessStatement {
  verbs: string[];
  /** `pods`, `pods/log`, `deployments.apps`, `roles.rbac.authorization.k8s.io`. */
  resources: string[];
  /** Default: the lab's namespace (unless `cluster`). */
  namespaces: string[];
  /** Cluster-wide: cluster-scoped resources, or namespaced ones in every namespace at once. */
  cluster: boolean;
  /** Object names (resourceNames); absent: requests without a name, and the statement covers any name. */
  names?: string[];
}

/**
 * A set of endpoints in a statement of intent (see README, "Statements of intent"). Exactly one of:
 * - pods: pods that exist now or could be created later, in `namespace` (default: the lab's) or in
 *   every namespace, existing or new, matching `namespaceSelector`;
 * - service: the pods a Service selects (its `namespace`, default: the lab's);
 * - external: addresses outside the cluster, IPv4 and IPv6 (`cidr` narrows them, `except` cuts holes).
 */
export interface EndpointSet {
  pods?: { namespace?: string; namespaceSelector?: LabelSelector; podSelector: LabelSelector };
  service?: string;
  namespace?: string;
  external?: { cidr?: string; except?: string[] };
}

/** A port as in a NetworkPolicy rule, on the destination pod: a number, a range or a name. */
export interface PortSpec {
  port?: number | string;
  endPort?: number;
  protocol: Protocol;
}

/** Connections from any of `from` to any of `to` on any of `ports`; an absent field means "any". */
export interface TrafficRegion {
  from?: EndpointSet[];
  to?: EndpointSet[];
  ports?: PortSpec[];
}

/** A region where the task does not say what should happen: any behaviour passes there. */
export interface Tolerance extends TrafficRegion {
  why: string;
}

export interface KnownWrongAttempt {
  /** File with the attempt (relative to the lab folder). */
  file: string;
  /** The check id this attempt must fail. */
  failsCheck: string;
  /** The mistake, in one line (shown by `kubelab lab test`). */
  mistake: string;
}

/** A different answer that must still pass: guards the grader against failing correct work. */
export interface KnownRightAttempt {
  /** File with the attempt (relative to the lab folder). */
  file: string;
  /** Why it is correct although it differs from the solution, in one line. */
  why: string;
}

export interface Lab {
  id: string;
  title: string;
  summary: string;
  difficulty: Difficulty;
  tags: string[];
  minutes: number;
  /** The CKA/CKS competency this lab trains. */
  competency: string;
  /** The mistake the lab is designed to catch. */
  catches: string;
  scenario: string;
  /** The namespace the learner works in. */
  namespace: string;
  hints: string[];
  checks: Check[];
  knownWrong: KnownWrongAttempt[];
  /** Optional so hand-built Lab values stay valid; the loader always sets it. */
  knownRight?: KnownRightAttempt[];
  /** The catalogue section (absent: networkpolicy, the first domain). */
  domain?: Domain;
  /** Scenario objects the learner is meant to change (absent: none). */
  changeable?: ChangeableObject[];
  starter?: string;
  /** Absolute paths. */
  dir: string;
  /** The scenarios folder this lab was validated against (absent: the repository's). */
  scenariosRoot?: string;
  files: { labYaml: string; task: string; concept: string; completion: string; solution: string };
}

export interface ExternalHost {
  /** A name for reports, e.g. `partner-api`. */
  name: string;
  ip: string;
  /** TCP/UDP ports that answer on this host (the simulated cluster connects them; others are refused). */
  ports: Array<{ port: number; protocol: Protocol }>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Namespaces the scenario creates (deleted and re-created by reset). */
  namespaces: string[];
  /** The probe image's pods need these binaries (curl, nc) - informative. */
  externalHosts: ExternalHost[];
  dir: string;
  /** Absolute paths of the manifest files, in apply order. */
  manifests: string[];
}

/** The check every lab with `access` checks gets implicitly: nobody the checks do not name gains or loses access. */
export const OTHERS_UNCHANGED_ID = 'others-unchanged';
