/**
 * Reading Kubernetes YAML/JSON with positions: every object remembers its file and line, and any
 * field path inside it can be turned back into a line, so errors read `file:line: spec.x: ...`.
 */
import * as nodeFs from 'node:fs/promises';
import { join, extname } from 'node:path';
import {
  CST,
  Lexer,
  LineCounter,
  isMap,
  isNode,
  isScalar,
  parseAllDocuments,
  visit,
  type Document,
} from 'yaml';
import { KubelabError, badInput, type Problem } from '../errors.js';

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

export function parseYamlDocuments(text: string, file: string, opts: ParseOptions = {}): LoadedDocument[] {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw badInput(`${file} is larger than ${maxBytes} bytes`, [{ file, message: 'input too large' }]);
  }
  const lineCounter = new LineCounter();
  const tooDeep = nestingTooDeep(text);
  if (tooDeep !== undefined) {
    const { line, col } = linePos(text, tooDeep);
    throw badInput(
      `${file} nests collections more than ${MAX_YAML_NESTING} levels deep`,
      [{ file, line, column: col, message: `more than ${MAX_YAML_NESTING} nested collections start here` }],
      'Kubernetes manifests nest a few levels; close every [ and { you open.',
    );
  }
  // The parser's own duplicate-key check compares every key with every other (seconds for a
  // 128 kB map); duplicateKeys() below does the same job with a set.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (!Array.isArray(docs)) {
    // An empty stream yields an EmptyStream object; there are no documents in it.
    return [];
  }
  const problems: Problem[] = [];
  for (const doc of docs) {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0]);
      problems.push({ file, line: pos.line, column: pos.col, message: firstLine(err.message) });
    }
    for (const offset of duplicateKeys(doc)) {
      const pos = lineCounter.linePos(offset);
      problems.push({ file, line: pos.line, column: pos.col, message: 'Map keys must be unique' });
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
      case 'map-value-ind':
        if (++onThisLine > MAX_YAML_NESTING) return offset;
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
    if (isNode(node) && node.range) return node.range[0];
  }
  return doc.range?.[0];
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
