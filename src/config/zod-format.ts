/**
 * Zod issue → human message. Other modules validating with zod reuse this:
 *
 *   const r = schema.safeParse(value, zodParseOptions);
 *   if (!r.success) throw new ConfigError('request', formatZodIssues(r.error));
 *
 * `zodErrorMap` phrases issues as "expected X, got Y"; messages a schema sets itself
 * (`z.string().min(1, 'must not be empty')`) still win. `formatZodIssues` turns issues into
 * ConfigIssues with user-style paths, one issue per unknown key, and "did you mean" hints.
 */
import type { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { describeValue, formatPath } from './path.js';
import { closestMatch } from './suggest.js';

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

/** Known keys of strict objects that reported unknown keys, by the offending input object. */
const knownKeysByInput = new WeakMap<object, string[]>();

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  bigint: 'an integer',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  null: 'null',
  undefined: 'nothing',
  date: 'a date',
  nan: 'NaN',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? `a ${expected}`;
}

/** An example of a valid URL, shared with zodHttpUrl(). */
export const URL_EXAMPLE = 'http://127.0.0.1:8000';

/** Messages in the house style. Pass as `error` in parse options, or use zodParseOptions. */
export const zodErrorMap: z.core.$ZodErrorMap = (iss: RawIssue) => {
  const got = `got ${describeValue(iss.input)}`;
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined && iss.expected !== 'undefined') return `missing required field; expected ${typeName(iss.expected)}`;
      return `expected ${typeName(iss.expected)}, ${got}`;
    case 'too_small':
    case 'too_big':
      return `expected ${boundText(iss)}, ${got}`;
    case 'invalid_format':
      if (iss.format === 'url') return `expected a URL like '${URL_EXAMPLE}', ${got}`;
      if (iss.format === 'regex' && iss.pattern) return `expected a string matching /${iss.pattern}/, ${got}`;
      return `expected a valid ${iss.format}, ${got}`;
    case 'not_multiple_of':
      return `expected a multiple of ${iss.divisor}, ${got}`;
    case 'invalid_value':
      if (iss.input === undefined) return `missing required field; expected ${iss.values.length === 1 ? quote(iss.values[0]) : `one of ${iss.values.map(quote).join(', ')}`}`;
      if (iss.values.length === 1) return `expected ${quote(iss.values[0])}, ${got}`;
      return `expected one of ${iss.values.map(quote).join(', ')}, ${got}`;
    case 'unrecognized_keys': {
      const shape = shapeOf(iss.inst);
      if (shape && iss.input !== null && typeof iss.input === 'object') knownKeysByInput.set(iss.input, Object.keys(shape));
      return iss.keys.map((k) => `unknown field '${k}'`).join(', ');
    }
    case 'invalid_union':
      return unionMessage(iss, got);
    case 'invalid_key':
      return `invalid key: ${iss.issues[0]?.message ?? got}`;
    case 'invalid_element':
      return `invalid element: ${iss.issues[0]?.message ?? got}`;
    default:
      return `invalid value, ${got}`;
  }
};

/** Parse options for `schema.safeParse(value, zodParseOptions)`: house-style messages, inputs kept. */
export const zodParseOptions = { error: zodErrorMap, reportInput: true } as const;

/**
 * Convert zod issues to ConfigIssues: paths like `backends[2].url`, one issue per unknown key
 * (with the closest known key as a hint), and a hint for near-miss enum values.
 */
export function formatZodIssues(error: z.ZodError | readonly Issue[]): ConfigIssue[] {
  const issues = Array.isArray(error) ? (error as readonly Issue[]) : (error as z.ZodError).issues;
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = issue.input !== null && typeof issue.input === 'object' ? knownKeysByInput.get(issue.input) : undefined;
      for (const key of issue.keys) {
        const entry: ConfigIssue = { path: formatPath([...issue.path, key]), message: `unknown field '${key}'` };
        const hint = unknownKeyHint(key, known);
        if (hint) entry.hint = hint;
        out.push(entry);
      }
      continue;
    }
    const entry: ConfigIssue = { path: formatPath(issue.path), message: issue.message };
    if (issue.code === 'invalid_value' && typeof issue.input === 'string') {
      const match = closestMatch(issue.input, issue.values.filter((v): v is string => typeof v === 'string'));
      if (match !== undefined) entry.hint = `did you mean '${match}'?`;
    }
    out.push(entry);
  }
  return out;
}

function unknownKeyHint(key: string, known: readonly string[] | undefined): string | undefined {
  if (!known || known.length === 0) return undefined;
  const match = closestMatch(key, known);
  if (match !== undefined) return `did you mean '${match}'?`;
  return known.length <= 12 ? `known fields: ${known.join(', ')}` : undefined;
}

function shapeOf(inst: unknown): Record<string, unknown> | undefined {
  if (inst === null || typeof inst !== 'object' || !('shape' in inst)) return undefined;
  const shape = inst.shape;
  return shape !== null && typeof shape === 'object' ? (shape as Record<string, unknown>) : undefined;
}

function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function boundText(iss: Extract<RawIssue, { code: 'too_small' | 'too_big' }>): string {
  const small = iss.code === 'too_small';
  const bound = Number(small ? iss.minimum : iss.maximum);
  const origin = iss.origin;
  if (origin === 'number' || origin === 'int' || origin === 'bigint') {
    const what = origin === 'number' ? 'a number' : 'an integer';
    const op = small ? (iss.inclusive === false ? '>' : '>=') : iss.inclusive === false ? '<' : '<=';
    return `${what} ${op} ${bound}`;
  }
  const unit = origin === 'string' ? 'character' : 'item';
  const n = `${bound} ${unit}${bound === 1 ? '' : 's'}`;
  if (iss.exact) return `exactly ${n}`;
  if (small && bound === 1) return origin === 'string' ? 'a non-empty string' : 'at least 1 item';
  return `${small ? 'at least' : 'at most'} ${n}`;
}

function unionMessage(iss: Extract<RawIssue, { code: 'invalid_union' }>, got: string): string {
  const branches = iss.errors;
  if (branches.length === 0) return `matches more than one allowed form, ${got}`;
  const typeErrors = branches.map((b) => (b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0 ? b[0] : undefined));
  if (typeErrors.every((t) => t !== undefined)) {
    const expected = [...new Set(typeErrors.map((t) => typeName(t.expected)))];
    return `expected ${expected.join(' or ')}, ${got}`;
  }
  // Report the branch that got furthest: fewest issues, then the deepest path.
  let best = branches[0]!;
  for (const b of branches) {
    const depth = (x: readonly Issue[]): number => Math.max(...x.map((i) => i.path.length));
    if (b.length < best.length || (b.length === best.length && depth(b) > depth(best))) best = b;
  }
  const first = best[0];
  if (!first) return `does not match any allowed form, ${got}`;
  const where = formatPath(first.path);
  return `does not match any allowed form; closest: ${where ? `${where}: ` : ''}${first.message}`;
}
