/**
 * The RBAC engine's data model (rbac.authorization.k8s.io/v1) and the shape of its answers.
 * Everything in server/rbac/ is pure: no I/O, no clocks, no randomness.
 */

export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

import type { LabelSelector } from '../selectors/index.js';
export type { LabelSelector, LabelSelectorRequirement } from '../selectors/index.js';

export interface RoleModel {
  kind: 'Role' | 'ClusterRole';
  /** Set for Roles only. */
  namespace?: string;
  name: string;
  labels: Record<string, string>;
  /** The rules as written (for an aggregated ClusterRole the controller replaces them). */
  rules: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors: LabelSelector[] };
  /** One of the API server's default roles, not from the inputs. */
  builtIn?: boolean;
}

export type SubjectKind = 'User' | 'Group' | 'ServiceAccount';

export interface Subject {
  kind: SubjectKind;
  name: string;
  /** ServiceAccounts: their namespace (in a RoleBinding it defaults to the binding's). */
  namespace?: string;
}

export interface BindingModel {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  /** Set for RoleBindings only. */
  namespace?: string;
  name: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: Subject[];
  builtIn?: boolean;
}

export interface RbacModel {
  roles: RoleModel[];
  bindings: BindingModel[];
}

/** Who is asking: a user name and every group the authenticator gave it. */
export interface UserInfo {
  name: string;
  groups: string[];
}

export type AccessRequest =
  | {
      kind: 'resource';
      verb: string;
      apiGroup: string;
      resource: string;
      subresource?: string;
      name?: string;
      /** Empty or undefined for cluster-scoped requests. */
      namespace?: string;
    }
  | { kind: 'nonResource'; verb: string; path: string };

/** A rule that grants a request, and how it reaches the user. */
export interface Grant {
  /** e.g. `RoleBinding ci/deployer` or `ClusterRoleBinding cluster-admin`. */
  binding: string;
  /** e.g. `Role ci/deployer`, `ClusterRole view`. */
  role: string;
  /** 0-based index into the role's effective rules. */
  rule: number;
  /** The subject of the binding that matched the user, e.g. `Group "system:masters"`. */
  subject: string;
  /** The API server's words: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`. */
  apiReason: string;
}

export interface AccessVerdict {
  allowed: boolean;
  /** Plain-language reasons, most important first. */
  reasons: string[];
  /** Every rule that grants the request (empty when denied). */
  grants: Grant[];
}

/** A problem found while reading objects: field path relative to the object. */
export interface FieldProblem {
  path: string;
  fieldPath: Array<string | number>;
  message: string;
}
