/**
 * The NetworkPolicy engine's public API. Read the files in this order to follow the rules:
 *   types.ts         the data model and the Verdict shape
 *   selectors.ts     label selectors (matchLabels, matchExpressions)
 *   names.ts         name and label syntax the API server enforces
 *   ports.ts         port rules: numbers, names (resolved on the destination), ranges, protocols
 *   ipblock.ts       CIDR parsing and ipBlock membership (IPv4 and IPv6)
 *   validate.ts      validateNetworkPolicy: every problem with its field path
 *   policy-types.ts  policyTypes defaulting
 *   model.ts         buildNetworkModel from Kubernetes objects (workloads expanded to pods)
 *   bitset.ts        pod sets
 *   compile.ts       compileNetwork: who each policy selects, who each peer matches
 *   evaluate.ts      evaluate one connection -> Verdict with reasons; explainVerdict
 *   matrix.ts        every source x destination at once
 *   format.ts        matrix as table, json, csv, md, dot, summary
 */
export * from './types.js';
export { matchesSelector, matchesRequirement, isEmptySelector, formatSelector } from '../selectors/index.js';
export { validateNetworkPolicy, type LocatedFieldProblem } from './validate.js';
export { effectivePolicyTypes } from './policy-types.js';
export {
  buildNetworkModel,
  podModelFromPod,
  namespaceModelFromNamespace,
  assignSyntheticIps,
  SYNTHETIC_POD_SUBNET,
  SYNTHETIC_NODE_IP,
  type BuildOptions,
  type IndexedProblem,
} from './model.js';
export { resolveNamedPort, portsMatch, portEntryMatches, isProtocol, PROTOCOLS } from './ports.js';
export { parseCidr, CompiledIpBlock } from './ipblock.js';
export {
  compileNetwork,
  CompiledNetwork,
  podKey,
  type CompiledPolicy,
  type CompiledRule,
  type Direction,
} from './compile.js';
export {
  evaluate,
  explainVerdict,
  formatRuleRef,
  describeEndpoint,
  type ConnectionVerdict,
} from './evaluate.js';
export {
  computeMatrix,
  type Matrix,
  type MatrixOptions,
  type MatrixPort,
  type MatrixCounts,
} from './matrix.js';
export { formatMatrix, matrixJson, isMatrixFormat, MATRIX_FORMATS, type MatrixFormat } from './format.js';
