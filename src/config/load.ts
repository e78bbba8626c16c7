/**
 * loadConfig: read → parse (YAML or JSON) → apply zod defaults → validate → cross-check →
 * deep-freeze. Every problem is collected into one ConfigError, each located by path (and by
 * line when the config came from text).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import type { z } from 'zod';
import { SwitchyardError } from '../core/index.js';
import { ConfigError } from './errors.js';
import type { ConfigIssue } from './errors.js';
import { deepFreeze } from './freeze.js';
import { documentLocator, textLocator } from './locate.js';
import { excessiveNesting, MAX_CONFIG_NESTING, nestsDeeperThan } from './nesting.js';
import type { Locator } from './locate.js';
import { parsePath } from './path.js';
import { formatZodIssues, zodParseOptions } from './zod-format.js';

/** Where a config comes from: exactly one of `file`, `text`, `object`. */
export interface ConfigSource {
  /** Path of a YAML or JSON file; `.json` files are JSON, anything else YAML. */
  file?: string;
  /** Config text; YAML unless `format: 'json'`. */
  text?: string;
  /** An already-parsed value (e.g. built by a test or from flags). */
  object?: unknown;
  format?: 'yaml' | 'json';
  /** Label used in messages; defaults to the file path, or 'config'. */
  name?: string;
}

export interface LoadConfigOptions<T> {
  /** Rules across fields that a schema cannot express; paths are formatted like `backends[1].name`. */
  crossChecks?: (cfg: T) => ConfigIssue[];
}

/**
 * Load and validate a config. Returns the parsed value with zod defaults applied, deep-frozen.
 * An empty YAML document counts as `{}` so all-default configs can be empty files.
 * @throws ConfigError listing every issue.
 */
export function loadConfig<T>(schema: z.ZodType<T>, source: ConfigSource, options: LoadConfigOptions<T> = {}): T {
  const given = [source.file, source.text, source.object].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new SwitchyardError('invalid_argument', `loadConfig: pass exactly one of file, text or object (got ${given})`);
  }
  const label = source.name ?? source.file ?? 'config';
  let value: unknown = source.object;
  let locate: Locator = () => undefined;
  if (source.object === undefined) {
    const text = source.text ?? readText(source.file ?? '', label);
    const format = source.format ?? (source.file !== undefined && extname(source.file).toLowerCase() === '.json' ? 'json' : 'yaml');
    ({ value, locate } = format === 'json' ? parseJson(text, label) : parseYaml(text, label));
  }

  return validateConfig(schema, value, { ...options, label, locate });
}

/** A value parsed from text, with a way to find where a path lives in that text. */
export interface ParsedDocument {
  readonly value: unknown;
  readonly locate: Locator;
}

/**
 * Validate an already-parsed value: zod (defaults applied) → cross-checks → deep-freeze.
 * `locate` adds line numbers to issues (see parseYamlDocuments). @throws ConfigError.
 */
export function validateConfig<T>(schema: z.ZodType<T>, value: unknown, options: LoadConfigOptions<T> & { label: string; locate?: Locator }): T {
  const locate = options.locate ?? (() => undefined);
  const result = schema.safeParse(value, zodParseOptions);
  if (!result.success) throw new ConfigError(options.label, withPositions(formatZodIssues(result.error), locate));

  const crossIssues = options.crossChecks?.(result.data) ?? [];
  if (crossIssues.length > 0) {
    throw new ConfigError(options.label, crossIssues.map((issue) => (issue.line === undefined ? locateIssue(issue, parsePath(issue.path), locate) : issue)));
  }
  return deepFreeze(result.data);
}

/**
 * Split multi-document YAML (`---` separated) into parsed documents, each with its own locator
 * (line numbers are of the whole text). Empty documents are skipped. @throws ConfigError on
 * YAML syntax errors, located by line.
 */
export function parseYamlDocuments(text: string, label: string): ParsedDocument[] {
  refuseDeepText(text, label);
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const errors = docs.flatMap((d) => d.errors);
  if (errors.length > 0) {
    throw new ConfigError(
      label,
      errors.map((err) => {
        const pos = lineCounter.linePos(err.pos[0]);
        return { path: '', message: `YAML syntax error: ${err.message}`, line: pos.line, column: pos.col };
      }),
    );
  }
  return docs.flatMap((doc) => {
    const value = toJS(doc, label);
    return value === null || value === undefined ? [] : [{ value, locate: documentLocator(doc, lineCounter) }];
  });
}

function readText(file: string, label: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : '';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e);
    throw new ConfigError(label, [{ path: '', message: `cannot read config file: ${why}` }]);
  }
}

/**
 * Refuse text nesting deeper than MAX_CONFIG_NESTING before any YAML parser sees it: deep enough
 * nesting aborts the process inside the parser (see nesting.ts).
 */
function refuseDeepText(text: string, label: string): void {
  const deep = excessiveNesting(text);
  if (deep) throw new ConfigError(label, [{ path: '', message: `nested too deeply (more than ${MAX_CONFIG_NESTING} levels of indentation, brackets and '- ' markers)`, line: deep.line }]);
}

/** A document's value; alias bombs ("billion laughs") and the like become ConfigErrors. */
function toJS(doc: { toJS(options?: { maxAliasCount?: number }): unknown }, label: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    throw new ConfigError(label, [{ path: '', message: `cannot build the document: ${message}` }]);
  }
}

function parseYaml(text: string, label: string): { value: unknown; locate: Locator } {
  refuseDeepText(text, label);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      label,
      doc.errors.map((err) => {
        const pos = lineCounter.linePos(err.pos[0]);
        return { path: '', message: `YAML syntax error: ${err.message}`, line: pos.line, column: pos.col };
      }),
    );
  }
  const value = toJS(doc, label);
  return { value: value ?? {}, locate: documentLocator(doc, lineCounter) };
}

function parseJson(text: string, label: string): { value: unknown; locate: Locator } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    refuseDeepText(text, label);
    const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    const issue: ConfigIssue = { path: '', message: `JSON syntax error: ${message}` };
    // Node's JSON.parse message rarely carries a position; the YAML parser (JSON is YAML) does.
    const lineCounter = new LineCounter();
    const err = parseDocument(text, { lineCounter, prettyErrors: false }).errors[0];
    const pos = err ? lineCounter.linePos(err.pos[0]) : positionFromMessage(text, message);
    if (pos) Object.assign(issue, { line: pos.line, column: pos.col });
    throw new ConfigError(label, [issue]);
  }
  if (nestsDeeperThan(value, MAX_CONFIG_NESTING)) throw new ConfigError(label, [{ path: '', message: `nested too deeply (more than ${MAX_CONFIG_NESTING} levels)` }]);
  return { value, locate: textLocator(text) };
}

function positionFromMessage(text: string, message: string): { line: number; col: number } | undefined {
  const m = /at position (\d+)/.exec(message);
  if (!m) return undefined;
  const before = text.slice(0, Number(m[1]));
  const lines = before.split('\n');
  return { line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

function withPositions(issues: ConfigIssue[], locate: Locator): ConfigIssue[] {
  return issues.map((issue) => locateIssue(issue, parsePath(issue.path), locate));
}

function locateIssue(issue: ConfigIssue, path: PropertyKey[], locate: Locator): ConfigIssue {
  const pos = locate(path);
  return pos ? { ...issue, line: pos.line, column: pos.column } : issue;
}
