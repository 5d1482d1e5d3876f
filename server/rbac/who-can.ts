/**
 * whoCan: every subject some binding gives a rule that allows the request. Groups stand for all
 * their members: `system:authenticated` means every signed-in user, `system:serviceaccounts`
 * every ServiceAccount, `system:serviceaccounts:NS` every ServiceAccount in NS.
 */
import { bindingsInScope, describeRequest } from './authorize.js';
import { bindingKey, type CompiledRbac } from './compile.js';
import { ruleAllows } from './rules.js';
import type { AccessRequest, Subject } from './types.js';

export interface WhoCanEntry {
  subject: Subject;
  /** `User "alice"`, `ServiceAccount "deployer/ci"`. */
  subjectText: string;
  binding: string;
  role: string;
  rule: number;
}

export interface WhoCanResult {
  request: string;
  entries: WhoCanEntry[];
  reasons: string[];
}

export function whoCan(rbac: CompiledRbac, req: AccessRequest): WhoCanResult {
  const entries: WhoCanEntry[] = [];
  const reasons: string[] = [];
  for (const binding of bindingsInScope(rbac, req)) {
    if (req.kind === 'nonResource' && binding.kind === 'RoleBinding') continue;
    const { key, rules } = rbac.roleOfBinding(binding);
    if (!rules) {
      reasons.push(`${bindingKey(binding)} refers to ${key}, which does not exist, so it grants nothing`);
      continue;
    }
    const ruleIndex = rules.findIndex((r) => ruleAllows(r, req));
    if (ruleIndex < 0) continue;
    for (const s of binding.subjects) {
      const subject: Subject =
        s.kind === 'ServiceAccount' ? { ...s, namespace: s.namespace || binding.namespace! } : s;
      const subjectText =
        subject.kind === 'ServiceAccount'
          ? `ServiceAccount "${subject.name}/${subject.namespace}"`
          : `${subject.kind} "${subject.name}"`;
      entries.push({ subject, subjectText, binding: bindingKey(binding), role: key, rule: ruleIndex });
    }
  }
  const what = describeRequest(req);
  reasons.unshift(
    entries.length === 0
      ? `nobody may ${what}`
      : `${new Set(entries.map((e) => e.subjectText)).size} subject(s) may ${what}`,
  );
  return { request: what, entries, reasons };
}
