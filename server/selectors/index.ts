/**
 * Label selectors with the API machinery's semantics (k8s.io/apimachinery labels.Selector), shared
 * by the engines that select objects by label (NetworkPolicy peers, ClusterRole aggregation):
 * every matchLabels entry and every matchExpressions requirement must hold (AND); an empty selector
 * selects everything. NotIn and DoesNotExist also hold when the key is absent.
 */

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  if (selector.matchLabels) {
    for (const [key, value] of Object.entries(selector.matchLabels)) {
      if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
    }
  }
  if (selector.matchExpressions) {
    for (const requirement of selector.matchExpressions) {
      if (!matchesRequirement(requirement, labels)) return false;
    }
  }
  return true;
}

export function matchesRequirement(requirement: LabelSelectorRequirement, labels: Labels): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(value as string);
    case 'NotIn':
      return !present || !values.includes(value as string);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      // Validation rejects unknown operators; a selector that slipped through selects nothing,
      // which is what the API server's conversion to labels.Selector would refuse to build anyway.
      return false;
  }
}

/** True for `{}` (and for a selector whose lists are empty): it selects every object. */
export function isEmptySelector(selector: LabelSelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0
  );
}

/** `app=backend,tier in (a,b),!legacy` — the notation kubectl uses, for human-readable reasons. */
export function formatSelector(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const values = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${values})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${values})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else parts.push(`!${r.key}`);
  }
  return parts.length === 0 ? '(all)' : parts.join(',');
}

/**
 * The same test as matchesSelector, prepared once: used when one selector is checked against
 * every pod of a large cluster.
 */
export function compileSelector(selector: LabelSelector): (labels: Labels) => boolean {
  const pairs = Object.entries(selector.matchLabels ?? {});
  const requirements = (selector.matchExpressions ?? []).map((r) => ({
    key: r.key,
    operator: r.operator,
    values: new Set(r.values ?? []),
  }));
  if (pairs.length === 0 && requirements.length === 0) return () => true;
  return (labels) => {
    for (const [key, value] of pairs) {
      if (labels[key] !== value || !Object.hasOwn(labels, key)) return false;
    }
    for (const r of requirements) {
      const present = Object.hasOwn(labels, r.key);
      switch (r.operator) {
        case 'In':
          if (!present || !r.values.has(labels[r.key]!)) return false;
          break;
        case 'NotIn':
          if (present && r.values.has(labels[r.key]!)) return false;
          break;
        case 'Exists':
          if (!present) return false;
          break;
        case 'DoesNotExist':
          if (present) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  };
}
