/**
 * SimulatedCluster: an API server, controllers, kubelet, CoreDNS, kube-proxy and a
 * NetworkPolicy-enforcing CNI in memory. Objects go in and come out in their wire shape; probe
 * commands built by server/probe are answered with the output the real tools print.
 *
 * Differences from a real cluster, on purpose:
 * - apply is all-or-nothing: every object is checked first and any problem rejects the whole
 *   batch (a real `kubectl apply` applies the valid objects and reports the rest);
 * - namespaced objects must name their namespace (nothing defaults to `default`);
 * - everything settles at once: pods are Running and Ready right away (unless a fault says
 *   otherwise), rollouts complete immediately, policies apply instantly;
 * - exec runs only kubelab's probe commands, from images whose tools are known (agnhost, netshoot,
 *   curl, busybox, alpine). Anything else is an ENVIRONMENT error, never a guess.
 */
import { FrozenMemo } from '../../freeze.js';
import { deserialize, serialize } from 'node:v8';
import { accessRequestOf } from '../access-query.js';
import { badInput, environmentError, KubelabError, type Problem } from '../../errors.js';
import type { ExternalHost } from '../../labs/model.js';
import type {
  AdmissionAnswer,
  AccessAnswer,
  AccessQuery,
  ApplyOutcome,
  Cluster,
  ServedResource,
  ExecResult,
  KubeObject,
  ListableKind,
  PodRef,
  ProgressFn,
  ReadyReport,
} from '../types.js';
import { parseProbeCommand } from '../../probe/command.js';
import { validateKubeObject, type LocatedFieldProblem } from './validate.js';
import {
  allKinds,
  kindInfo,
  isWorkloadKind,
  qualifiedName,
  RESOURCE_VERBS,
  SUBRESOURCES,
  subresourceVerbs,
  type KindInfo,
} from './kinds.js';
import {
  authorize,
  isAllowed,
  isRbacKind,
  type AccessRequest,
  type AccessVerdict,
  type CompiledRbac,
  type UserInfo,
} from '../../rbac/index.js';
import { aggregatedRules, compileClusterRbac } from './rbac.js';
import {
  NODES,
  allocateClusterIp,
  coreDnsObjects,
  defaultNetworkPolicySpec,
  defaultDeploymentSpec,
  defaultServiceSpec,
  isServiceCidr,
  kubernetesServiceObjects,
  namespaceObject,
  nodeObject,
  stampNew,
} from './objects.js';
import { deepCopy } from '../../copy.js';
import {
  controllersWatch,
  createPod,
  deleteCascade,
  reconcile,
  podStatus,
  type ControllerContext,
} from './controllers.js';
import { DataPlane } from './network.js';
import type { SharedPlanes } from './shared-planes.js';
import { admissionVerdict, relabelWarnings } from './admission.js';
import { policyFromLabels } from '../../podsecurity/index.js';
import { runProbe, type ProbeRun } from './exec.js';
import { runTypedCommand, type CommandRun } from './commands.js';
import { podFileCommand } from './pod-files.js';
import { imageName } from './listeners.js';
import { randomInt, stableStringify } from './random.js';
import {
  asArray,
  asRecord,
  adoptState,
  emptyState,
  forkState,
  getObject,
  keyOf,
  listObjects,
  objectKey,
  putObject,
  removeObject,
  revised,
  specOf,
  statusOf,
  type Json,
  type SimState,
} from './state.js';

export interface SimulatedFaults {
  /** Return a message to make exec in this pod fail as if the command could not run. */
  execFails?: (pod: PodRef, argv: string[]) => string | undefined;
  /** Pods whose `namespace/name` starts with one of these never become ready (ImagePullBackOff). */
  notReady?: string[];
}

export interface SimulatedClusterOptions {
  /** false models a CNI without NetworkPolicy support (e.g. Flannel): everything is allowed. Default true. */
  enforcePolicies?: boolean;
  faults?: SimulatedFaults;
  /** Addresses outside the pod network that answer on the given ports. */
  externalHosts?: ExternalHost[];
  /** Seed for generated names, UIDs and addresses (default 1): same seed, same cluster. */
  seed?: number;
  /** Clock for timestamps (default: the real one). */
  now?: () => Date;
  /**
   * Data planes to share with other clusters of the same content (forks keep the same one), so
   * a server's many learner clusters do not each build and judge the same network again.
   */
  sharedPlanes?: SharedPlanes;
}

export interface ProbeExplanation extends ProbeRun {
  /** `ns/name` of the pod the command ran in. */
  pod: string;
}

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
];

/** Images whose programs we know, so a probe can tell "not installed" from "blocked". */
const IMAGE_PROGRAMS: Record<string, readonly string[]> = {
  agnhost: ['timeout', 'curl', 'nc', 'dig', '/agnhost'],
  netshoot: ['timeout', 'curl', 'nc', 'dig'],
  curl: ['timeout', 'curl'],
  busybox: ['timeout', 'nc'],
  alpine: ['timeout', 'nc'],
  // Distroless: only the coredns binary, not even a shell.
  coredns: [],
};

/** Images whose tools a learner's typed commands may use (./commands.ts); the texts are Alpine's. */
const TYPED_IMAGE_PROGRAMS: Record<string, readonly string[]> = {
  agnhost: ['curl', 'wget', 'nc', 'nslookup', 'dig'],
  netshoot: ['curl', 'wget', 'nc', 'nslookup', 'dig'],
};

const TOOL_PROGRAM = { curl: 'curl', nc: 'nc', 'agnhost-connect': '/agnhost', dig: 'dig' } as const;

/** What the user asked for, without what the server fills in: the basis of configured/unchanged. */
function userIntent(obj: Record<string, unknown>): Json {
  const copy = deepCopy(obj) as Json;
  delete copy.status;
  const meta = asRecord(copy.metadata);
  if (meta) for (const f of SERVER_METADATA) delete meta[f];
  return copy;
}

/**
 * The text lastApplied keeps of a frozen input, by input: a server applies the same frozen
 * objects (a parsed answer, shared by every learner who sent that text) again and again.
 */
const intentJsons = new FrozenMemo<Json, string>();

function intentJsonOf(input: Json, intent: Json): string {
  return intentJsons.get(input, () => stableStringify(intent));
}

function asKubeObject(obj: Record<string, unknown>): KubeObject {
  return obj as unknown as KubeObject;
}

/** Bumped whenever SimState changes shape: older saved clusters are then rebuilt from the scenario. */
const SAVED_FORMAT = 1;

interface SavedCluster {
  format: number;
  state: SimState;
  externalHosts?: ExternalHost[];
  enforcePolicies?: false;
}

export class SimulatedCluster implements Cluster {
  readonly mode = 'simulated' as const;
  readonly description: string;
  private readonly options: SimulatedClusterOptions;
  private readonly state: SimState;
  private cache: { version: number; plane: DataPlane } | undefined;
  private rbacCache: { version: number; rbac: CompiledRbac } | undefined;

  constructor(options: SimulatedClusterOptions = {}, fromState?: SimState) {
    this.options = { ...options };
    this.description =
      options.enforcePolicies === false
        ? 'simulated cluster (NetworkPolicy not enforced)'
        : 'simulated cluster';
    if (fromState) {
      this.state = fromState;
      // A fork may carry different faults: let the kubelet report pod status under them.
      if (options.faults) reconcile(this.state, this.controllerContext());
      return;
    }
    this.state = emptyState(options.seed ?? 1);
    this.bootstrap();
  }

  /**
   * Names the cluster's content apart from NetworkPolicies: equal numbers, here or in a fork, mean
   * the same objects besides policies (see newVersion in ./state.ts); undefined when not known.
   */
  versionBesidesPolicies(): number | undefined {
    return this.state.versionBesidesPolicies;
  }

  /** The newest resourceVersion handed out (list metadata carries it). */
  get resourceVersion(): string {
    return String(this.state.resourceVersion);
  }

  /** The cluster's clock (for ages in tables and timestamps in tools' output). */
  clock(): Date {
    return this.now();
  }

  private get enforcePolicies(): boolean {
    return this.options.enforcePolicies !== false;
  }

  private now(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  private controllerContext(): ControllerContext {
    const prefixes = this.options.faults?.notReady ?? [];
    return {
      now: () => this.now(),
      notReadyReason: (ns, name) =>
        prefixes.some((p) => `${ns}/${name}`.startsWith(p)) ? 'ImagePullBackOff' : undefined,
    };
  }

  /** What every new kind cluster has: nodes, system namespaces, CoreDNS and the kubernetes Service. */
  private bootstrap(): void {
    const now = this.now();
    for (const node of NODES) {
      const obj = nodeObject(node, now);
      stampNew(this.state, obj, now);
      putObject(this.state, obj);
    }
    const controlPlane = NODES.find((n) => n.controlPlane)!;
    this.applyNow([
      ...['default', 'kube-system', 'kube-public', 'kube-node-lease'].map((n) => namespaceObject(n)),
      ...coreDnsObjects(),
      ...kubernetesServiceObjects(controlPlane),
    ]);
  }

  /** An independent copy of this cluster (state, names to come, options), e.g. for a pre-flight run. */
  fork(overrides: Partial<SimulatedClusterOptions> = {}): SimulatedCluster {
    return new SimulatedCluster({ ...this.options, ...overrides }, forkState(this.state));
  }

  clone(overrides: Partial<SimulatedClusterOptions> = {}): SimulatedCluster {
    return this.fork(overrides);
  }

  /**
   * The cluster as bytes, to keep a learner's cluster across server restarts. Only the state and
   * the plain options travel (a clock or injected faults do not).
   */
  saveState(): Uint8Array {
    const saved: SavedCluster = {
      format: SAVED_FORMAT,
      state: this.state,
      ...(this.options.externalHosts ? { externalHosts: this.options.externalHosts } : {}),
      ...(this.options.enforcePolicies === false ? { enforcePolicies: false } : {}),
    };
    return serialize(saved);
  }

  /** A cluster from saveState()'s bytes; undefined when they are not a cluster this version can read. */
  static restore(
    bytes: Uint8Array,
    options: Partial<SimulatedClusterOptions> = {},
  ): SimulatedCluster | undefined {
    let saved: unknown;
    try {
      saved = deserialize(bytes);
    } catch {
      return undefined;
    }
    const s = asRecord(saved);
    if (!s || s.format !== SAVED_FORMAT || !(asRecord(s.state)?.objects instanceof Map)) return undefined;
    const { externalHosts, enforcePolicies } = s as unknown as SavedCluster;
    const state = adoptState((s as unknown as SavedCluster).state);
    return new SimulatedCluster(
      {
        ...(externalHosts ? { externalHosts } : {}),
        ...(enforcePolicies === false ? { enforcePolicies } : {}),
        ...options,
      },
      state,
    );
  }

  // ---- apply ---------------------------------------------------------------------------------------

  async apply(objects: KubeObject[], opts: { onProgress?: ProgressFn } = {}): Promise<ApplyOutcome[]> {
    const started = Date.now();
    const outcomes = this.applyNow(objects);
    opts.onProgress?.({
      step: 'applied',
      detail: `${outcomes.length} object(s)`,
      elapsedMs: Date.now() - started,
    });
    return outcomes;
  }

  private applyNow(objects: readonly unknown[]): ApplyOutcome[] {
    if (!Array.isArray(objects)) throw badInput('apply expects a list of Kubernetes objects');
    const checked = objects.map((obj) => ({ obj, ...validateKubeObject(obj) }));
    const batchNamespaces = new Set(
      checked
        .filter((c) => c.info?.kind === 'Namespace' && c.problems.length === 0)
        .map((c) => String(asRecord(asRecord(c.obj)?.metadata)?.name)),
    );
    const invalid: Array<{ what: string; short: string; problems: LocatedFieldProblem[] }> = [];
    checked.forEach((c, index) => {
      const problems = [...c.problems];
      const obj = asRecord(c.obj);
      if (obj && c.info && asRecord(obj.metadata))
        problems.push(...this.statefulProblems(obj, c.info, batchNamespaces, checked.slice(0, index)));
      if (problems.length > 0)
        invalid.push({
          what: describeObject(c.obj, c.info, index),
          short: shortName(c.obj, index),
          problems,
        });
    });
    if (invalid.length > 0) throw invalidObjects(invalid);
    const warnings = this.admission(checked.map((c) => asRecord(c.obj)!));

    // Namespaces first, so objects of the same batch land in them.
    const order = checked
      .map((c, index) => ({ ...c, index }))
      .sort(
        (a, b) =>
          Number(b.info?.kind === 'Namespace') - Number(a.info?.kind === 'Namespace') || a.index - b.index,
      );
    const outcomes: ApplyOutcome[] = new Array<ApplyOutcome>(objects.length);
    const ctx = this.controllerContext();
    for (const c of order) {
      outcomes[c.index] = this.store(asRecord(c.obj)!, c.info!, ctx);
    }
    // A learner's check applies NetworkPolicies only: reconciling every workload for them is waste.
    const stored = outcomes.map((o) => getObject(this.state, o.kind, o.namespace, o.name));
    if (stored.some((o) => o === undefined || controllersWatch(this.state, o))) reconcile(this.state, ctx);
    warnings.forEach((w, i) => {
      if (w.length > 0) outcomes[i] = { ...outcomes[i]!, warnings: w };
    });
    if (stored.some((o) => o?.kind === 'ClusterRole')) this.aggregateClusterRoles();
    return outcomes;
  }

  /**
   * Pod Security admission for a checked batch (see ./admission.ts): throws FORBIDDEN for a new
   * Pod that violates its namespace's enforce level (nothing of the batch is applied, as for any
   * refused object here); returns each object's warnings.
   */
  private admission(objects: Json[]): string[][] {
    const pending = new Map<string, Json>();
    for (const o of objects) if (o.kind === 'Namespace') pending.set(String(asRecord(o.metadata)?.name), o);
    return objects.map((o) => {
      if (o.kind === 'Namespace') {
        const name = String(asRecord(o.metadata)?.name);
        const before = getObject(this.state, 'Namespace', undefined, name);
        return relabelWarnings(this.state, before as unknown as Json | undefined, o);
      }
      const verdict = admissionVerdict(this.state, o, pending);
      if (!verdict) return [];
      const meta = asRecord(o.metadata)!;
      const exists =
        o.kind === 'Pod' && getObject(this.state, 'Pod', String(meta.namespace), String(meta.name));
      // Pod Security judges a pod when it is created; updates may only change images and the like.
      if (!verdict.admitted && !exists) throw forbidden(verdict.error ?? 'forbidden by Pod Security');
      return exists ? [] : verdict.warnings;
    });
  }

  /** A server-side dry run of creating one object: admission runs on a copy; nothing is stored. */
  async dryRunCreate(object: KubeObject): Promise<AdmissionAnswer> {
    const base = {
      kind: object.kind,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      name: object.metadata.name,
    };
    const info = kindInfo(object.kind);
    const existing = info
      ? getObject(
          this.state,
          info.kind,
          info.namespaced ? object.metadata.namespace : undefined,
          object.metadata.name,
        )
      : undefined;
    if (existing)
      throw badInput(
        `${object.kind} ${object.metadata.name} already exists, so a dry-run create of it says nothing about admission`,
        [],
        'Ask about an object under a name that is not taken.',
      );
    try {
      const [outcome] = this.fork().applyNow([object]);
      return { ...base, admitted: true, warnings: outcome?.warnings ?? [] };
    } catch (e) {
      if (e instanceof KubelabError && e.code === 'FORBIDDEN')
        return { ...base, admitted: false, message: e.message, warnings: [] };
      throw e;
    }
  }

  /** The clusterrole-aggregation controller: aggregated ClusterRoles' rules follow their selectors. */
  private aggregateClusterRoles(): void {
    const roles = listObjects(this.state, 'ClusterRole');
    for (const { name, rules } of aggregatedRules(roles, this.rbac())) {
      const obj = getObject(this.state, 'ClusterRole', undefined, name);
      if (!obj) continue;
      putObject(this.state, revised(obj, { rules }));
    }
  }

  // ---- RBAC ------------------------------------------------------------------------------------

  /** The authorizer's view: every stored Role, ClusterRole and binding over the API server's defaults. */
  rbac(): CompiledRbac {
    if (!this.rbacCache || this.rbacCache.version !== this.state.version) {
      const objects = [...this.state.objects.values()].filter((o) => isRbacKind(o.kind));
      this.rbacCache = { version: this.state.version, rbac: compileClusterRbac(objects) };
    }
    return this.rbacCache.rbac;
  }

  authorize(user: UserInfo, req: AccessRequest): AccessVerdict {
    return authorize(this.rbac(), user, req);
  }

  async reviewAccess(queries: AccessQuery[]): Promise<AccessAnswer[]> {
    return queries.map((q) => {
      const user = { name: q.user, groups: q.groups };
      const req = accessRequestOf(q);
      // Most answers of a sweep are denials, whose explanation nobody reads here.
      if (!isAllowed(this.rbac(), user, req)) return { allowed: false, reason: '' };
      return { allowed: true, reason: this.authorize(user, req).reasons[0] ?? '' };
    });
  }

  async servedResources(): Promise<ServedResource[]> {
    const out: ServedResource[] = [];
    for (const info of allKinds()) {
      const [group, version] = info.apiVersion.includes('/')
        ? (info.apiVersion.split('/') as [string, string])
        : ['', info.apiVersion];
      out.push({
        group,
        version,
        resource: info.resource,
        namespaced: info.namespaced,
        verbs: [...RESOURCE_VERBS],
      });
      for (const sub of SUBRESOURCES[info.resource] ?? [])
        out.push({
          group,
          version,
          resource: info.resource,
          subresource: sub,
          namespaced: info.namespaced,
          verbs: subresourceVerbs(sub),
        });
    }
    return out;
  }

  /** Checks that need the cluster: namespace exists, immutable fields, ClusterIP free and in range. */
  private statefulProblems(
    obj: Json,
    info: KindInfo,
    batchNamespaces: Set<string>,
    earlier: ReadonlyArray<{ obj: unknown }>,
  ): LocatedFieldProblem[] {
    const problems: LocatedFieldProblem[] = [];
    const add = (fieldPath: Array<string | number>, message: string) =>
      problems.push({
        path: fieldPath.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join(''),
        fieldPath,
        message,
      });
    const meta = asRecord(obj.metadata)!;
    if (
      typeof meta.name !== 'string' ||
      (info.namespaced && (typeof meta.namespace !== 'string' || meta.namespace === ''))
    ) {
      return problems; // already reported by the shape checks
    }
    const name = meta.name;
    const namespace = info.namespaced ? String(meta.namespace) : undefined;
    if (
      namespace !== undefined &&
      !batchNamespaces.has(namespace) &&
      !getObject(this.state, 'Namespace', undefined, namespace)
    ) {
      add(
        ['metadata', 'namespace'],
        `namespaces "${namespace}" not found: create the Namespace first (or apply it in the same batch)`,
      );
    }
    if (info.kind === 'Namespace') {
      const labels = Object.fromEntries(
        Object.entries(asRecord(meta.labels) ?? {}).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      );
      for (const e of policyFromLabels(labels).errors)
        add(['metadata', 'labels', e.label], `Invalid value: ${JSON.stringify(e.value)}: ${e.message}`);
    }
    const existing = getObject(this.state, info.kind, namespace, name);
    const spec = asRecord(obj.spec) ?? {};
    if (existing && isWorkloadKind(info.kind)) {
      if (stableStringify(specOf(existing).selector) !== stableStringify(spec.selector)) {
        add(['spec', 'selector'], `Invalid value: ${JSON.stringify(spec.selector)}: field is immutable`);
      }
    }
    if (existing && info.kind === 'Pod') {
      const before =
        asRecord(asRecord(JSON.parse(this.state.lastApplied.get(keyOf(existing)) ?? '{}'))?.spec) ?? {};
      // Through the API a client sends back the stored spec (defaults filled in) or what it applied.
      const unchanged = (basis: Json) =>
        stableStringify(withoutImages(basis)) === stableStringify(withoutImages(spec));
      if (!unchanged(before) && !unchanged(specOf(existing))) {
        add(
          ['spec'],
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`; delete the pod and create it again',
        );
      }
    }
    if (existing && (info.kind === 'RoleBinding' || info.kind === 'ClusterRoleBinding')) {
      if (stableStringify(existing.roleRef) !== stableStringify(obj.roleRef))
        add(['roleRef'], `Invalid value: ${JSON.stringify(obj.roleRef)}: cannot change roleRef`);
    }
    if (info.kind === 'Service') {
      const requested = spec.clusterIP;
      const current = existing ? specOf(existing).clusterIP : undefined;
      if (existing && typeof requested === 'string' && requested !== '' && requested !== current) {
        add(['spec', 'clusterIP'], `Invalid value: "${requested}": field is immutable`);
      } else if (!existing && typeof requested === 'string' && requested !== '' && requested !== 'None') {
        if (!isServiceCidr(requested)) {
          add(
            ['spec', 'clusterIP'],
            `Invalid value: "${requested}": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`,
          );
        } else if (this.clusterIpsInUse(earlier).has(requested)) {
          add(['spec', 'clusterIP'], `Invalid value: "${requested}": provided IP is already allocated`);
        }
      }
    }
    return problems;
  }

  private clusterIpsInUse(earlierInBatch: ReadonlyArray<{ obj: unknown }> = []): Set<string> {
    const ips = new Set<string>();
    for (const svc of listObjects(this.state, 'Service')) {
      const ip = specOf(svc).clusterIP;
      if (typeof ip === 'string') ips.add(ip);
    }
    for (const { obj } of earlierInBatch) {
      const o = asRecord(obj);
      const ip = o?.kind === 'Service' ? asRecord(o.spec)?.clusterIP : undefined;
      if (typeof ip === 'string') ips.add(ip);
    }
    return ips;
  }

  /** Creates or updates one validated object; controllers run afterwards. */
  private store(input: Json, info: KindInfo, ctx: ControllerContext): ApplyOutcome {
    const intent = userIntent(input);
    const meta = asRecord(intent.metadata)!;
    const name = String(meta.name);
    const namespace = info.namespaced ? String(meta.namespace) : undefined;
    if (!info.namespaced) delete meta.namespace;
    const key = objectKey(info.kind, namespace, name);
    const intentJson = intentJsonOf(input, intent);
    const outcome = (action: ApplyOutcome['action']): ApplyOutcome => ({
      kind: info.kind,
      ...(namespace ? { namespace } : {}),
      name,
      action,
    });
    const existing = this.state.objects.get(key);
    if (existing && this.state.lastApplied.get(key) === intentJson) return outcome('unchanged');
    this.state.lastApplied.set(key, intentJson);

    if (info.kind === 'Pod') {
      if (existing) {
        const updated = deepCopy(existing);
        updated.metadata.labels = {
          ...((asRecord(meta.labels) as Record<string, string> | undefined) ?? {}),
        };
        updated.metadata.annotations = {
          ...((asRecord(meta.annotations) as Record<string, string> | undefined) ?? {}),
        };
        updateImages(updated, asRecord(intent.spec) ?? {});
        putObject(this.state, updated);
        return outcome('configured');
      }
      createPod(this.state, ctx, {
        namespace: namespace!,
        name,
        labels: (asRecord(meta.labels) as Record<string, string> | undefined) ?? {},
        annotations: (asRecord(meta.annotations) as Record<string, string> | undefined) ?? {},
        spec: asRecord(intent.spec) ?? {},
      });
      return outcome('created');
    }

    // `intent` is already this call's own copy, and nothing below reads it again.
    const obj = asKubeObject(intent);
    if (info.kind === 'Namespace') {
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
    } else if (info.kind === 'Service') {
      const spec = defaultServiceSpec(asRecord(obj.spec) ?? {});
      this.assignServiceAddresses(spec, existing ? specOf(existing) : undefined);
      obj.spec = spec;
      obj.status = { loadBalancer: {} };
    } else if (info.kind === 'NetworkPolicy') {
      obj.spec = defaultNetworkPolicySpec(asRecord(obj.spec) ?? {});
    } else if (info.kind === 'Deployment') {
      obj.spec = defaultDeploymentSpec(asRecord(obj.spec) ?? {});
    }
    if (existing) {
      obj.metadata.uid = existing.metadata.uid;
      obj.metadata.creationTimestamp = existing.metadata.creationTimestamp;
      if (existing.metadata.generation !== undefined) {
        const changed = stableStringify(existing.spec) !== stableStringify(obj.spec);
        obj.metadata.generation = Number(existing.metadata.generation) + (changed ? 1 : 0);
      }
      if (existing.status !== undefined && obj.status === undefined) obj.status = existing.status;
      putObject(this.state, obj);
      return outcome('configured');
    }
    stampNew(this.state, obj, ctx.now());
    putObject(this.state, obj);
    return outcome('created');
  }

  private assignServiceAddresses(spec: Json, previous: Json | undefined): void {
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      return;
    }
    const requested = spec.clusterIP;
    let ip: string;
    if (typeof previous?.clusterIP === 'string') ip = previous.clusterIP;
    else if (typeof requested === 'string' && requested !== '') ip = requested;
    else ip = allocateClusterIp(this.state, this.clusterIpsInUse());
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      const used = new Set(
        listObjects(this.state, 'Service').flatMap((s) =>
          asArray(specOf(s).ports).map((p) => asRecord(p)?.nodePort),
        ),
      );
      const old = asArray(previous?.ports);
      spec.ports = asArray(spec.ports).map((p, i) => {
        const port = asRecord(p) ?? {};
        if (typeof port.nodePort === 'number') return port;
        const kept = asRecord(old[i])?.nodePort;
        if (typeof kept === 'number') return { ...port, nodePort: kept };
        let n: number;
        do n = 30000 + randomInt(this.state.random, 2768);
        while (used.has(n));
        used.add(n);
        return { ...port, nodePort: n };
      });
    }
  }

  // ---- read and delete -------------------------------------------------------------------------

  async list(kind: ListableKind, namespace?: string): Promise<KubeObject[]> {
    return this.listNow(kind, namespace);
  }

  /** Synchronous list of any served kind (deep copies). */
  listNow(kind: string, namespace?: string): KubeObject[] {
    const info = kindInfo(kind);
    if (!info) throw badInput(`the server doesn't have a resource type "${kind}"`);
    return listObjects(this.state, info.kind, info.namespaced ? namespace : undefined).map((o) =>
      deepCopy(o),
    );
  }

  /**
   * Like listNow, without the copies: the stored objects themselves, frozen (see ./state.ts). For
   * readers that only read, such as the grader's snapshot, which would otherwise copy every pod of
   * the cluster at every grade.
   */
  listFrozen(kind: ListableKind, namespace?: string): readonly KubeObject[] {
    const info = kindInfo(kind);
    if (!info) throw badInput(`the server doesn't have a resource type "${kind}"`);
    return listObjects(this.state, info.kind, info.namespaced ? namespace : undefined);
  }

  /** One object (a deep copy), or undefined. */
  get(kind: string, name: string, namespace?: string): KubeObject | undefined {
    const info = kindInfo(kind);
    if (!info) throw badInput(`the server doesn't have a resource type "${kind}"`);
    const obj = getObject(this.state, info.kind, info.namespaced ? namespace : undefined, name);
    return obj ? deepCopy(obj) : undefined;
  }

  async delete(kind: string, name: string, namespace?: string): Promise<void> {
    const info = kindInfo(kind);
    if (!info) throw badInput(`the server doesn't have a resource type "${kind}"`);
    if (info.kind === 'Namespace') return this.deleteNamespace(name);
    if (info.namespaced && !namespace) throw badInput(`deleting ${info.kind} "${name}" needs a namespace`);
    const obj = getObject(this.state, info.kind, info.namespaced ? namespace : undefined, name);
    if (!obj) return;
    const watched = controllersWatch(this.state, obj);
    deleteCascade(this.state, obj);
    if (watched) reconcile(this.state, this.controllerContext());
    if (info.kind === 'ClusterRole') this.aggregateClusterRoles();
  }

  async deleteNamespace(
    name: string,
    opts: { timeoutMs?: number; onProgress?: ProgressFn } = {},
  ): Promise<void> {
    if (PROTECTED_NAMESPACES.has(name))
      throw badInput(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    const ns = getObject(this.state, 'Namespace', undefined, name);
    if (!ns) return;
    for (const obj of [...this.state.objects.values()]) {
      if (obj.metadata.namespace === name) removeObject(this.state, obj.kind, name, obj.metadata.name);
    }
    removeObject(this.state, 'Namespace', undefined, name);
    reconcile(this.state, this.controllerContext());
    opts.onProgress?.({ step: 'namespace deleted', detail: name, elapsedMs: 0 });
  }

  async waitReady(
    namespaces: string[],
    opts: { timeoutMs: number; onProgress?: ProgressFn },
  ): Promise<ReadyReport> {
    const notReady: string[] = [];
    for (const ns of namespaces) {
      if (!getObject(this.state, 'Namespace', undefined, ns)) {
        notReady.push(`${ns}: namespace not found`);
        continue;
      }
      for (const pod of listObjects(this.state, 'Pod', ns)) {
        const reason = notReadyText(pod);
        if (reason) notReady.push(`${ns}/${pod.metadata.name}: ${reason}`);
      }
    }
    opts.onProgress?.({
      step: 'pods ready',
      detail:
        notReady.length === 0
          ? `every pod in ${namespaces.join(', ')} is ready`
          : `${notReady.length} not ready`,
      elapsedMs: 0,
      ...(notReady.length > 0 ? { level: 'warn' as const } : {}),
    });
    return { ready: notReady.length === 0, notReady };
  }

  // ---- exec ------------------------------------------------------------------------------------------

  async exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const run = this.execNow(pod, argv);
    if (run.seconds * 1000 > timeoutMs) {
      throw environmentError(
        `exec in ${pod.namespace}/${pod.name} did not finish within ${timeoutMs} ms (the command needs about ${Math.ceil(run.seconds)} s)`,
        'Give the exec a deadline longer than the probe command itself (see probeDeadlineMs in server/probe).',
      );
    }
    return run.result;
  }

  /** Runs a probe command and also says, step by step, why it printed what it printed. */
  explainExec(pod: PodRef, argv: string[]): ProbeExplanation {
    return { pod: `${pod.namespace}/${pod.name}`, ...this.execNow(pod, argv) };
  }

  /**
   * Forgets what is derived from the state (the data plane, the compiled RBAC): about 120 kB for a
   * lab's cluster, rebuilt on the next use. For a server that keeps many idle clusters.
   */
  releaseDerived(): void {
    this.cache = undefined;
    this.rbacCache = undefined;
  }

  private plane(): DataPlane {
    if (!this.cache || this.cache.version !== this.state.version) {
      const hosts = this.options.externalHosts ?? [];
      this.cache = {
        version: this.state.version,
        plane:
          this.options.sharedPlanes?.plane(this.state, this.enforcePolicies, hosts) ??
          new DataPlane(this.state, this.enforcePolicies, hosts),
      };
    }
    return this.cache.plane;
  }

  /**
   * Runs a command a person typed (`kubectl exec ... -- curl -sS http://db1:1111`): kubelab's own
   * probe commands exactly as `exec` does, then the learner's tools (./commands.ts). A command
   * the simulation does not model comes back as `notSimulated` with a sentence saying so.
   */
  execTyped(ref: PodRef, argv: string[]): CommandRun {
    if (parseProbeCommand(argv)) return this.execNow(ref, argv);
    const { pod, container } = this.execTarget(ref, argv);
    const image = imageName(String(container.image ?? ''));
    const programs = TYPED_IMAGE_PROGRAMS[image];
    if (programs) {
      const fileRun = podFileCommand(
        {
          pod,
          container,
          services: listObjects(this.state, 'Service', ref.namespace),
          kubernetesService: getObject(this.state, 'Service', 'default', 'kubernetes'),
          nameserver: this.plane().nameserver(),
        },
        argv,
      );
      if (fileRun) return fileRun;
    }
    if (!programs) {
      return {
        notSimulated: `the simulated cluster does not know which programs image ${String(container.image)} contains; run commands in pods of image agnhost or netshoot`,
      };
    }
    const plane = this.plane();
    const source = plane.podEntry(ref.namespace, ref.name);
    if (!source) throw environmentError(`${ref.namespace}/${ref.name} has no IP address yet`);
    return runTypedCommand(
      { plane, source: source.model, has: (p) => programs.includes(p), now: this.now() },
      argv,
    );
  }

  /** The pod and container a command runs in, with the checks the kubelet makes first. */
  private execTarget(ref: PodRef, argv: string[]): { pod: KubeObject; container: Json } {
    const where = `${ref.namespace}/${ref.name}`;
    const pod = getObject(this.state, 'Pod', ref.namespace, ref.name);
    if (!pod)
      throw environmentError(
        `pods "${ref.name}" not found in namespace "${ref.namespace}"`,
        'List the pods again: it may have been replaced.',
      );
    const containers = asArray(specOf(pod).containers).map((c) => asRecord(c) ?? {});
    const container = ref.container ? containers.find((c) => c.name === ref.container) : containers[0];
    if (!container) {
      throw environmentError(
        `container ${ref.container ?? '(none)'} is not valid for pod ${ref.name}`,
        `Pick one of: ${containers.map((c) => String(c.name)).join(', ')}.`,
      );
    }
    const cname = String(container.name);
    const cstatus = asArray(statusOf(pod).containerStatuses)
      .map((s) => asRecord(s) ?? {})
      .find((s) => s.name === cname);
    if (!asRecord(cstatus?.state)?.running) {
      throw environmentError(
        `unable to upgrade connection: container not found ("${cname}") in ${where}`,
        `The pod is not running: ${notReadyText(pod) ?? 'not ready'}.`,
      );
    }
    const injected = this.options.faults?.execFails?.(ref, argv);
    if (injected !== undefined) throw environmentError(`exec in ${where} failed: ${injected}`);
    return { pod, container };
  }

  private execNow(ref: PodRef, argv: string[]): ProbeRun {
    const where = `${ref.namespace}/${ref.name}`;
    const { container } = this.execTarget(ref, argv);
    const command = parseProbeCommand(argv);
    if (!command) {
      throw environmentError(
        `the simulated cluster only runs kubelab's probe commands, not: ${argv.join(' ')}`,
        'Build commands with buildProbeArgv (server/probe).',
      );
    }
    const image = imageName(String(container.image ?? ''));
    const programs = IMAGE_PROGRAMS[image];
    if (!programs) {
      throw environmentError(
        `the simulated cluster does not know which programs image ${String(container.image)} contains, so it cannot run a probe in ${where}`,
        'Run probes from pods using registry.k8s.io/e2e-test-images/agnhost:2.53.',
      );
    }
    if (!programs.includes('timeout')) {
      throw environmentError(
        `OCI runtime exec failed: exec failed: unable to start container process: exec: "timeout": executable file not found in $PATH`,
      );
    }
    const program = TOOL_PROGRAM[command.tool];
    if (!programs.includes(program)) {
      return {
        result: {
          exitCode: 127,
          stdout: '',
          stderr: `timeout: can't execute '${program}': No such file or directory\n`,
        },
        seconds: 0.01,
        trace: [`${image} has no ${program}`],
      };
    }
    const plane = this.plane();
    const source = plane.podEntry(ref.namespace, ref.name);
    if (!source) throw environmentError(`${where} has no IP address yet`);
    return runProbe(plane, source.model, command);
  }
}

function withoutImages(spec: Json): Json {
  const copy = deepCopy(spec);
  for (const list of ['containers', 'initContainers']) {
    for (const c of asArray(copy[list])) {
      const container = asRecord(c);
      if (container) delete container.image;
    }
  }
  return copy;
}

function updateImages(pod: KubeObject, spec: Json): void {
  for (const list of ['containers', 'initContainers']) {
    const wanted = asArray(spec[list]).map((c) => asRecord(c) ?? {});
    for (const c of asArray(specOf(pod)[list])) {
      const container = asRecord(c);
      const w = wanted.find((x) => x.name === container?.name);
      if (container && typeof w?.image === 'string') container.image = w.image;
    }
  }
  for (const s of asArray(statusOf(pod).containerStatuses)) {
    const st = asRecord(s);
    const w = asArray(spec.containers)
      .map((c) => asRecord(c) ?? {})
      .find((x) => x.name === st?.name);
    if (st && typeof w?.image === 'string') st.image = w.image;
  }
}

/** `ContainersNotReady (ImagePullBackOff)` for a pod that is not ready, undefined for a ready one. */
function notReadyText(pod: KubeObject): string | undefined {
  const conditions = asArray(statusOf(pod).conditions).map((c) => asRecord(c) ?? {});
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  const waiting = asArray(statusOf(pod).containerStatuses)
    .map((s) => asRecord(asRecord(asRecord(s)?.state)?.waiting)?.reason)
    .filter((r): r is string => typeof r === 'string');
  const reason = typeof ready?.reason === 'string' ? ready.reason : String(statusOf(pod).phase ?? 'NotReady');
  return waiting.length > 0 ? `${reason} (${[...new Set(waiting)].join(', ')})` : reason;
}

function describeObject(obj: unknown, info: KindInfo | undefined, index: number): string {
  const o = asRecord(obj);
  const meta = asRecord(o?.metadata);
  const name = typeof meta?.name === 'string' ? meta.name : undefined;
  const ns = typeof meta?.namespace === 'string' ? meta.namespace : undefined;
  if (info && name)
    return `${qualifiedName(info, name)}${info.namespaced && ns ? ` in namespace "${ns}"` : ''}`;
  const kind = typeof o?.kind === 'string' ? o.kind : 'object';
  return `${kind} #${index + 1}${name ? ` "${name}"` : ''}`;
}

/** `NetworkPolicy np-lab/np-backend`, to say which object a problem belongs to. */
function shortName(obj: unknown, index: number): string {
  const o = asRecord(obj);
  const meta = asRecord(o?.metadata);
  const kind = typeof o?.kind === 'string' ? o.kind : `object #${index + 1}`;
  const name = typeof meta?.name === 'string' ? meta.name : `#${index + 1}`;
  return `${kind} ${typeof meta?.namespace === 'string' ? `${meta.namespace}/` : ''}${name}`;
}

function forbidden(message: string): KubelabError {
  return new KubelabError('FORBIDDEN', message, {
    hint: "Change the pod so it meets the namespace's Pod Security level (the message names each field), or ask why the namespace enforces it.",
  });
}

function invalidObjects(
  invalid: Array<{ what: string; short: string; problems: LocatedFieldProblem[] }>,
): KubelabError {
  const single = invalid.length === 1;
  const problems: Problem[] = invalid.flatMap(({ short, problems: list }) =>
    list.map((p) => ({ path: p.path, message: single ? p.message : `(${short}) ${p.message}` })),
  );
  const headline = single
    ? `${invalid[0]!.what} is invalid`
    : `${invalid.length} objects are invalid: ${invalid.map((i) => i.what).join(', ')}`;
  return badInput(`${headline}; nothing was applied`, problems, 'Fix every field listed, then apply again.');
}

export { podStatus };
