/**
 * The fast reader: js-yaml turns a manifest into plain values about eight times faster than the
 * yaml library builds its document model (1000 pods and 500 policies, 700 kB: ~70 ms against
 * ~550 ms), but it knows no positions. load.ts uses it first and asks the yaml library for
 * positions only when a problem must be located, so `file:line` messages are unchanged.
 *
 * It must never accept what the precise parser refuses, nor read a value differently: whenever
 * it is unsure it answers `undefined`, and the precise parser decides as it always did. So it
 * resolves plain scalars exactly as the yaml library's YAML 1.2 core schema does (not js-yaml's
 * own schema, which reads `<<` merges), and steps aside for every feature where the two
 * libraries' values could differ: tags, directives, complex keys, `null` keys, aliases beyond
 * the precise parser's limit.
 */
import jsyaml from 'js-yaml';

export interface FastDocument {
  value: unknown;
  /** Index of the document in its file, counting empty ones, as the yaml library counts them. */
  index: number;
}

/** The nesting limit of load.ts; deeper values go to the precise parser, which explains it. */
const MAX_DEPTH = 40;

// `!` tags, `%` directives, `?` explicit keys, `<<` merges, and a flow collection used as a key
// (`[a]: b`). Anywhere in the text, strings included: a false alarm costs only time.
// Also what js-yaml forgives and the precise parser does not: a tab in the indentation, a `#`
// right after a closing bracket or quote, `---` or `...` with text after it, block scalars with an indentation digit.
const UNSURE = /[!%]|\?(?:\s|$)|<<|[\]}]\s*:|^ *\t|["'\]}]#|^(?:---|\.\.\.)[^\n]*\S|[|>][-+]?[0-9]/m;

/** A plain-scalar type: the first of `forms` whose pattern matches constructs the value. */
const plain = (tag: string, forms: [RegExp, (s: string) => unknown][]) => {
  const form = (s: string | null) => forms.find(([test]) => test.test(s ?? ''));
  return new jsyaml.Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (s: string | null) => form(s) !== undefined,
    construct: (s: string | null) => form(s)![1](s ?? ''),
  });
};

// The yaml library's core schema (node_modules/yaml/dist/schema/core), in its order. js-yaml
// keeps one type per tag, so the forms of a tag are one type; their patterns do not overlap.
const CORE = jsyaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    plain('null', [[/^(?:~|[Nn]ull|NULL)?$/, () => null]]),
    plain('bool', [[/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T']]),
    plain('int', [
      [/^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)],
      [/^[-+]?[0-9]+$/, (s) => parseInt(s, 10)],
      [/^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)],
    ]),
    plain('float', [
      [
        /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
        (s) =>
          s.slice(-3).toLowerCase() === 'nan'
            ? NaN
            : s[0] === '-'
              ? Number.NEGATIVE_INFINITY
              : Number.POSITIVE_INFINITY,
      ],
      [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)],
      [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)],
    ]),
  ],
});

/**
 * What the values alone do not show, watched node by node as js-yaml reads:
 * - Aliases the way the precise parser accepts them. It refuses a document when an anchor's uses
 *   times the aliases inside the anchored node exceed maxAliasCount (the billion-laughs guard).
 *   The fast reader takes only documents that cannot come near it: no anchored node holds an
 *   alias, and the document has fewer than maxAliasCount aliases in all.
 * - Quoted and plain scalars that run over several lines: the precise parser checks how their
 *   continuation lines are indented, js-yaml does not.
 */
class Watch {
  private readonly open: { start: number; holdsAlias: boolean }[] = [];
  private aliases = 0;
  ok = true;

  constructor(
    private readonly text: string,
    private readonly maxAliases: number,
  ) {}

  readonly listener = (event: 'open' | 'close', state: { position: number; kind: string | null }): void => {
    if (event === 'open') {
      if (this.open.length === 0) this.aliases = 0; // a new document
      this.open.push({ start: state.position, holdsAlias: false });
      return;
    }
    const node = this.open.pop()!;
    // js-yaml opens a node before the space, comments and properties in front of it.
    const start = firstSignificant(this.text, node.start);
    const first = this.text.charCodeAt(start);
    const isAlias = first === 0x2a; /* * */
    // The precise parser counts the anchor itself as one use: n aliases are n + 1 uses.
    if (isAlias && ++this.aliases >= this.maxAliases) this.ok = false;
    if (first === 0x26 /* & */ && node.holdsAlias) this.ok = false;
    const parent = this.open.at(-1);
    if (parent && (isAlias || node.holdsAlias)) parent.holdsAlias = true;
    if (state.kind === 'scalar' && (first === 0x22 || first === 0x27) /* " ' */) {
      // The precise parser wants space (or a flow indicator, or `:`) after the closing quote:
      // `'a'#x` is an error there, a comment for js-yaml.
      const after = this.text.charCodeAt(state.position);
      if (!(Number.isNaN(after) || AFTER_QUOTE.has(after))) this.ok = false;
    }
    if (
      state.kind === 'scalar' &&
      first !== 0x7c /* | */ &&
      first !== 0x3e /* > */ &&
      this.text.slice(start, state.position).trimEnd().includes('\n')
    )
      this.ok = false;
  };
}

const AFTER_QUOTE = new Set([...' \t\r\n,]}:'].map((c) => c.charCodeAt(0)));

function firstSignificant(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff) i++;
    else if (c === 0x23 /* # */) {
      const eol = text.indexOf('\n', i);
      if (eol < 0) return text.length;
      i = eol + 1;
    } else return i;
  }
}

/** The documents of `text`, or `undefined` when the precise parser must read it. */
export function readFast(text: string, maxAliasCount = 100): FastDocument[] | undefined {
  if (UNSURE.test(text)) return undefined;
  if (maxAliasCount < 0 && text.includes('*')) return undefined; // unlimited: the precise path's
  const watch = new Watch(text, maxAliasCount);
  let values: unknown[];
  try {
    // js-yaml refuses duplicate keys itself (json: false); its errors are not reported, the
    // precise parser finds the same problem and says it better.
    values = jsyaml.loadAll(text, null, { schema: CORE, listener: watch.listener });
  } catch {
    return undefined;
  }
  if (!watch.ok) return undefined;
  const out: FastDocument[] = [];
  for (const [index, value] of values.entries()) {
    if (!plainEnough(value, 0)) return undefined;
    // Empty documents (`---` and nothing, or `~`) are skipped, as the precise path skips them.
    if (value !== null && value !== undefined) out.push({ value, index });
  }
  return out;
}

/**
 * Not too deep, and no key the two libraries spell differently: js-yaml writes a `null` key as
 * "null" where the yaml library writes "", and `__proto__` is best left to the precise path.
 */
function plainEnough(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (const item of v) if (!plainEnough(item, depth + 1)) return false;
    return true;
  }
  for (const key of Object.keys(v)) {
    if (key === 'null' || key === '__proto__') return false;
    if (!plainEnough((v as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}
