/**
 * Reading Kubernetes YAML/JSON with positions: every object remembers its file and line, and any
 * field path inside it can be turned back into a line, so errors read `file:line: spec.x: ...`.
 */
import * as nodeFs from 'node:fs/promises';
import { join, extname } from 'node:path';
import { createRequire } from 'node:module';
import type { Document } from 'yaml';
import { readFast, type FastDocument } from './fast.js';
import { KubelabError, badInput, type Problem } from '../errors.js';

// The yaml library (its document model keeps positions) is loaded on first use: most reads go
// through the fast reader, and loading it costs a CLI call ~40-70 ms.
let yamlLibrary: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlLibrary ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlLibrary;
}

export type FieldPath = ReadonlyArray<string | number>;

export interface SourceRef {
  file: string;
  line: number;
  column?: number;
}

export interface LoadedDocument {
  /** The plain JS value of the document (objects, arrays, strings, numbers, booleans, null). */
  value: unknown;
  /** Where the document starts. */
  source: SourceRef;
  /** Index of the document in its file (0-based). */
  index: number;
  /** The position of a field path inside this document; falls back to the nearest existing parent. */
  locate(path: FieldPath): SourceRef;
}

export interface ParseOptions {
  /** Refuse input larger than this many bytes (default 1 MiB). */
  maxBytes?: number;
  /** Refuse documents that expand more aliases than this (billion-laughs guard; default 100). */
  maxAliasCount?: number;
  /**
   * `precise`: the yaml library's document model, positions from the start. `fast`: the fast
   * reader (fast.ts) first, the precise parser when it steps aside or a position is asked for.
   * `auto` (the default): fast from FAST_READER_FROM_BYTES on. Both read valid YAML the same; on
   * some malformed input the precise parser is stricter, so what people type (the editor's limit
   * is 128 kB, lab files are small) keeps its exact messages, and bulk files (a cluster dump for
   * `netpol matrix`) read in a tenth of the time.
   */
  reader?: 'auto' | 'fast' | 'precise';
}

/** Converts `spec.egress[0].to` style strings into path arrays and back. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out.length === 0 ? part : `.${part}`;
  }
  return out;
}

/** From this size on (in UTF-16 units, about bytes) `auto` reads with the fast reader. */
export const FAST_READER_FROM_BYTES = 256 * 1024;

export function parseYamlDocuments(text: string, file: string, opts: ParseOptions = {}): LoadedDocument[] {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw badInput(`${file} is larger than ${maxBytes} bytes`, [{ file, message: 'input too large' }]);
  }
  const reader = opts.reader ?? 'auto';
  if (reader === 'fast' || (reader === 'auto' && text.length >= FAST_READER_FROM_BYTES)) {
    const fast = readFast(text, opts.maxAliasCount ?? 100);
    const shared = {};
    if (fast) return fast.map((d) => lazilyLocated(d, text, file, opts, shared));
  }
  return parsePrecisely(text, file, opts);
}

/**
 * A document read by the fast reader: its value is final, its positions come from the precise
 * parser the first time anything asks for one (a problem to report), once per file.
 */
function lazilyLocated(
  fast: FastDocument,
  text: string,
  file: string,
  opts: ParseOptions,
  shared: { precise?: LoadedDocument[] },
): LoadedDocument {
  const precise = (): LoadedDocument => {
    shared.precise ??= parsePrecisely(text, file, opts);
    const doc = shared.precise.find((d) => d.index === fast.index);
    // Both readers agree on what the documents are (test/manifests/fast.test.ts); should they
    // ever not, a position at the file's start is still true, a wrong line would not be.
    return (
      doc ?? {
        value: fast.value,
        index: fast.index,
        source: { file, line: 1, column: 1 },
        locate: () => ({ file, line: 1, column: 1 }),
      }
    );
  };
  return {
    value: fast.value,
    index: fast.index,
    source: {
      file,
      get line() {
        return precise().source.line;
      },
      get column() {
        return precise().source.column;
      },
    },
    locate: (path) => precise().locate(path),
  };
}

function parsePrecisely(text: string, file: string, opts: ParseOptions): LoadedDocument[] {
  const tooDeep = nestingTooDeep(text);
  if (tooDeep !== undefined) {
    const { line, col } = linePos(text, tooDeep);
    throw badInput(
      `${file}: collections are nested more than ${MAX_YAML_NESTING} levels deep`,
      [{ file, line, column: col, message: `more than ${MAX_YAML_NESTING} nested collections start here` }],
      'Kubernetes manifests nest a few levels; close every [ and { you open.',
    );
  }
  const lineCounter = new (yaml().LineCounter)();
  // The parser's own duplicate-key check compares every key with every other (seconds for a
  // 128 kB map); duplicateKeys() below does the same job with a set.
  const docs = yaml().parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (!Array.isArray(docs)) {
    // An empty stream yields an EmptyStream object; there are no documents in it.
    return [];
  }
  const problems: Problem[] = [];
  for (const doc of docs) {
    const linesWithError = new Set<number>();
    for (const err of doc.errors) {
      const plain = plainYamlError(text, lineCounter.linePos(err.pos[0]), err.code, firstLine(err.message));
      // One problem per line: the parser's later complaints about a line follow from its first.
      if (linesWithError.has(plain.line)) continue;
      linesWithError.add(plain.line);
      problems.push({ file, ...plain });
    }
    for (const offset of duplicateKeys(doc)) {
      const pos = lineCounter.linePos(offset);
      const key = /^[^:\n]*/.exec(text.slice(offset))?.[0].trim() ?? '';
      problems.push({
        file,
        line: pos.line,
        column: pos.col,
        message: `${key ? `"${key}"` : 'this key'} appears twice in the same mapping: keep one`,
      });
    }
  }
  if (problems.length > 0) {
    throw badInput(
      `${file} is not valid YAML`,
      capProblems(problems),
      'Fix the YAML syntax at the line shown.',
    );
  }
  const out: LoadedDocument[] = [];
  docs.forEach((doc, index) => {
    if (doc.contents === null) return; // `---` with nothing after it
    const where = (offset: number | undefined): SourceRef => {
      const pos = lineCounter.linePos(offset ?? 0);
      return { file, line: pos.line, column: pos.col };
    };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: opts.maxAliasCount ?? 100 });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw badInput(`${file} could not be read`, [{ ...where(doc.range?.[0]), message: firstLine(msg) }]);
    }
    if (value === null || value === undefined) return; // an empty document (`---` followed by nothing)
    out.push({
      value,
      index,
      source: where(doc.contents.range?.[0] ?? doc.range?.[0]),
      locate: (path) => where(offsetOf(doc, path)),
    });
  });
  return out;
}

/**
 * The YAML parser's time grows with the square of the nesting depth, and some shapes (a line of
 * thousands of `? `) exhaust its memory: 128 kB of `[` took seconds. Manifests nest a handful of
 * levels, so deeper input is refused before parsing. The lexer (linear) tells flow brackets from
 * brackets inside strings; block indicators on one line (`- - - -`) nest too.
 */
export const MAX_YAML_NESTING = 40;

function nestingTooDeep(text: string): number | undefined {
  let offset = 0;
  let flow = 0;
  let onThisLine = 0;
  const { CST, Lexer } = yaml();
  for (const token of new Lexer().lex(text)) {
    switch (CST.tokenType(token)) {
      case 'flow-map-start':
      case 'flow-seq-start':
        if (++flow > MAX_YAML_NESTING) return offset;
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        flow = Math.max(0, flow - 1);
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
        if (++onThisLine > MAX_YAML_NESTING) return offset;
        break;
      case 'map-value-ind':
        // Inside [ ] and { } the brackets count the nesting; the colons of a one-line JSON
        // object (`kubectl get -o json | jq -c`) are siblings, not levels.
        if (flow === 0 && ++onThisLine > MAX_YAML_NESTING) return offset;
        break;
      case 'newline':
        onThisLine = 0;
        break;
      case 'doc-start':
        flow = 0;
        break;
      default:
    }
    // The lexer also yields marker tokens that are not part of the source text.
    if (token !== CST.DOCUMENT && token !== CST.FLOW_END && token !== CST.SCALAR) offset += token.length;
  }
  return undefined;
}

function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - lastBreak };
}

/** At most this many problems are listed; a flood of follow-on errors helps nobody. */
export const MAX_LISTED_PROBLEMS = 20;

export function capProblems(problems: Problem[], max: number = MAX_LISTED_PROBLEMS): Problem[] {
  if (problems.length <= max) return problems;
  return [
    ...problems.slice(0, max),
    { message: `and ${problems.length - max} more problems (fix the ones above first)` },
  ];
}

/** Where a mapping repeats a key (scalar keys; `<<` merge keys may repeat). */
function duplicateKeys(doc: Document): number[] {
  const out: number[] = [];
  const { visit, isMap, isScalar } = yaml();
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const k = pair.key;
        if (!isScalar(k) || k.value === '<<') continue;
        if (seen.has(k.value)) out.push(k.range?.[0] ?? 0);
        else seen.add(k.value);
      }
    },
  });
  return out;
}

function offsetOf(doc: Document, path: FieldPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (yaml().isNode(node) && node.range) return node.range[0];
  }
  return doc.range?.[0];
}

/**
 * The parser's words ("All mapping items must start at the same column") name its grammar, not
 * the learner's mistake, and point at the start of the line. Say what is wrong and where the line
 * should start, at the first character of the line.
 */
export function plainYamlError(
  text: string,
  pos: { line: number; col: number },
  code: string,
  parserMessage: string,
): { line: number; column: number; message: string } {
  const lines = text.split('\n');
  const lineText = lines[pos.line - 1] ?? '';
  const indent = lineText.length - lineText.trimStart().length;
  const atLineStart = pos.col <= indent + 1;
  const column = atLineStart && lineText.trim() !== '' ? indent + 1 : pos.col;
  const where = { line: pos.line, column };
  const first = lineText.trim().split(/\s/)[0] ?? '';
  if (code === 'TAB_AS_INDENT') {
    return { ...where, message: 'this line is indented with a tab; YAML allows only spaces' };
  }
  if (
    (code === 'BAD_INDENT' && /mapping items must start at the same column/.test(parserMessage)) ||
    (code === 'MISSING_CHAR' && /Sequence item without - indicator/.test(parserMessage))
  ) {
    return {
      ...where,
      message: `"${first}" starts in column ${indent + 1}, ${alignmentAdvice(lines, pos.line, indent)}`,
    };
  }
  if (/Flow (sequence|mapping) in block collection/.test(parserMessage)) {
    return {
      ...where,
      message:
        'a [ or { is not closed: add the matching ] or } (a list or mapping written inline must end on its own line or be indented under its key)',
    };
  }
  if (code === 'MISSING_CHAR' && /Missing closing .?quote/.test(parserMessage)) {
    return { ...where, message: 'a quoted text is not closed: add the closing quote' };
  }
  if (
    code === 'BLOCK_AS_IMPLICIT_KEY' ||
    /Nested mappings are not allowed in compact mappings/.test(parserMessage)
  ) {
    return {
      ...where,
      message: 'two "key:" on one line: put the second key on its own line, indented under the first',
    };
  }
  if (code === 'MULTILINE_IMPLICIT_KEY') {
    return {
      ...where,
      message: 'a key runs over two lines: a key and its ":" must be on one line (is a ":" missing above?)',
    };
  }
  return { ...where, message: `YAML cannot read this: ${parserMessage}` };
}

/** Which column the line should start in: the blocks still open above it, nearest first. */
function alignmentAdvice(lines: string[], lineNo: number, indent: number): string {
  type Level = { line: number; indent: number; what: string; key: boolean };
  const open: Level[] = [];
  let limit = Infinity;
  for (let i = lineNo - 2; i >= 0 && limit > 0; i--) {
    const t = lines[i] ?? '';
    const body = t.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    const ind = t.length - body.length;
    // "- key: v" opens two blocks: the list (at the dash) and the item's mapping (at the key).
    const levels: Level[] = [];
    const dash = /^-\s+(\S+)/.exec(body);
    if (dash)
      levels.push({ line: i + 1, indent: ind + body.indexOf(dash[1]!), what: `"${dash[1]}"`, key: true });
    levels.push({
      line: i + 1,
      indent: ind,
      what: body.startsWith('-') ? 'the list item' : `"${body.split(/\s/)[0]}"`,
      key: !body.startsWith('-'),
    });
    for (const level of levels) {
      if (level.indent < limit) {
        open.push(level);
        limit = level.indent;
      } else if (level.indent === limit && level.key && !open.at(-1)!.key) {
        open[open.length - 1] = level; // a key at the list's column is the likelier sibling
      }
    }
  }
  const below = open.find((o) => o.indent < indent);
  const above = [...open].reverse().find((o) => o.indent > indent);
  const options = [above, below]
    .filter((o): o is Level => o !== undefined)
    .map((o) => `column ${o.indent + 1} like ${o.what} on line ${o.line}`);
  if (options.length === 0)
    return 'which lines up with nothing above it: YAML counts the spaces, so indent it like the lines it belongs with';
  return `which lines up with nothing above it: YAML counts the spaces, so start it in ${options.join(' or in ')}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** The file-system calls the loader makes; tests pass one that fails where a real disk would. */
export interface ManifestFs {
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean }>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string, encoding: 'utf8'): Promise<string>;
  realpath(path: string): Promise<string>;
}

const NODE_FS: ManifestFs = {
  stat: (p) => nodeFs.stat(p),
  readdir: (p) => nodeFs.readdir(p),
  readFile: (p, e) => nodeFs.readFile(p, e),
  realpath: (p) => nodeFs.realpath(p),
};

/**
 * Reads files, directories (recursively, .yaml/.yml/.json in name order, symlinks followed, each
 * file and folder once however many links lead to it) and `-` (stdin text given by the caller).
 * Unreadable paths are a BAD_INPUT error naming the path.
 */
export async function loadManifestInputs(
  inputs: string[],
  opts: ParseOptions & { stdin?: () => Promise<string>; fs?: ManifestFs } = {},
): Promise<LoadedDocument[]> {
  const fs = opts.fs ?? NODE_FS;
  const docs: LoadedDocument[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    if (input === '-') {
      if (!opts.stdin) throw badInput('reading from stdin (-) is not available here');
      docs.push(...parseYamlDocuments(await opts.stdin(), '<stdin>', opts));
      continue;
    }
    for (const file of await expandPath(fs, input, seen, true)) {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        throw cannotRead(file, e);
      }
      docs.push(...parseYamlDocuments(text, file, opts));
    }
  }
  return docs;
}

function cannotRead(path: string, e: unknown): KubelabError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ELOOP'
          ? 'too many levels of symbolic links'
          : (code ?? String(e));
  return badInput(
    `cannot read ${path}: ${why}`,
    [],
    'Check the path and its permissions; directories are read recursively for .yaml, .yml and .json files.',
  );
}

async function expandPath(
  fs: ManifestFs,
  path: string,
  seen: Set<string>,
  named: boolean,
): Promise<string[]> {
  let info;
  let real: string;
  try {
    info = await fs.stat(path); // follows symlinks
    real = await fs.realpath(path);
  } catch (e) {
    throw cannotRead(path, e);
  }
  // A folder linked into itself (or a file reached twice) is read once, so links cannot loop.
  if (seen.has(real)) return [];
  seen.add(real);
  if (info.isFile()) return [path];
  if (!info.isDirectory()) {
    if (named) throw badInput(`${path} is neither a file nor a directory`);
    return [];
  }
  let names: string[];
  try {
    names = (await fs.readdir(path)).sort((a, b) => a.localeCompare(b));
  } catch (e) {
    throw cannotRead(path, e);
  }
  const files: string[] = [];
  for (const name of names) {
    const full = join(path, name);
    let entry;
    try {
      entry = await fs.stat(full);
    } catch (e) {
      // A dangling link to a manifest is a mistake worth naming; to anything else, not our business.
      if (MANIFEST_EXTENSIONS.has(extname(name).toLowerCase())) throw cannotRead(full, e);
      continue;
    }
    if (entry.isDirectory()) files.push(...(await expandPath(fs, full, seen, false)));
    else if (entry.isFile() && MANIFEST_EXTENSIONS.has(extname(name).toLowerCase()))
      files.push(...(await expandPath(fs, full, seen, false)));
  }
  return files;
}

/**
 * Flattens `kind: List` documents and drops null documents, keeping each object's document for
 * locating fields. Non-object documents become problems.
 */
export interface LoadedObject {
  object: Record<string, unknown>;
  doc: LoadedDocument;
  /** Path of this object inside its document (non-empty for items of a List). */
  basePath: FieldPath;
}

export function objectsOf(docs: LoadedDocument[]): { objects: LoadedObject[]; problems: Problem[] } {
  const objects: LoadedObject[] = [];
  const problems: Problem[] = [];
  for (const doc of docs) {
    const v = doc.value;
    if (v === null || v === undefined) continue;
    if (!isRecord(v)) {
      problems.push({
        ...doc.source,
        message: 'expected a Kubernetes object (a mapping with apiVersion and kind)',
      });
      continue;
    }
    if (
      v.kind === 'List' ||
      (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items))
    ) {
      const items = Array.isArray(v.items) ? v.items : [];
      items.forEach((item, i) => {
        if (isRecord(item)) objects.push({ object: item, doc, basePath: ['items', i] });
        else
          problems.push({ ...doc.locate(['items', i]), path: `items[${i}]`, message: 'expected an object' });
      });
      continue;
    }
    objects.push({ object: v, doc, basePath: [] });
  }
  return { objects, problems };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A problem at a field of a loaded object, with file:line resolved. */
export function problemAt(obj: LoadedObject, path: FieldPath, message: string): Problem {
  const full = [...obj.basePath, ...path];
  return { ...obj.doc.locate(full), path: formatPath(path), message };
}
