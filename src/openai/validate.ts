/**
 * Request validation with OpenAI-style errors.
 *
 * `parseRequest(Schema, body)` returns the typed request or throws an `invalid_request`
 * SwitchyardError for the FIRST problem, with `param` set to its OpenAI-style path
 * (`messages[0].content`) and a message that says what was wrong and what is expected.
 * Messages follow OpenAI's wording (see the table in validate.test.ts).
 */
import type { z } from 'zod';
import { SwitchyardError } from '../core/index.js';
import { invalidParam } from './errors.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Parse-level error map: the "expected" phrase for type errors without a schema-level one. */
const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
  null: 'null',
};
const PARSE_PARAMS: z.core.ParseContext<Issue> = {
  error: (iss) => (iss.code === 'invalid_type' ? (EXPECTED[iss.expected] ?? `a value of type ${iss.expected}`) : undefined),
};

/**
 * Validate `body` against `schema`. Never throws anything but a SwitchyardError with code
 * `invalid_request` (wire code in `detail.openaiCode`, see errors.ts).
 */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidParam(`The request body must be a JSON object, but got ${describeValue(body)} instead.`, null, 'invalid_type');
  }
  let result: z.ZodSafeParseResult<T>;
  try {
    result = schema.safeParse(body, PARSE_PARAMS);
  } catch (e) {
    // Only pathological inputs get here (e.g. a stack overflow); still the client's fault.
    throw new SwitchyardError('invalid_request', 'The request body could not be validated.', { cause: e });
  }
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw first ? issueToError(first, [], body) : invalidParam('The request body is invalid.', null, null);
}

/**
 * Parse a raw JSON request body. Throws `invalid_request` (wire code `invalid_json`) with the
 * parser's complaint, never the body itself.
 */
export function parseJsonBody(raw: string | Uint8Array): unknown {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const why = e instanceof Error ? ` (${truncate(e.message, 120)})` : '';
    throw invalidParam(`We could not parse the JSON body of your request${why}. The API expects a JSON object.`, null, 'invalid_json');
  }
}

function issueToError(iss: Issue, base: Path, body: unknown): SwitchyardError {
  const path = base.length === 0 ? iss.path : [...base, ...iss.path];
  const param = formatPath(path);
  const value = valueAt(body, path);
  const missing = (): SwitchyardError => invalidParam(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  switch (iss.code) {
    case 'invalid_type':
      if (value === undefined) return missing();
      return typeError(param, iss.message, value);
    case 'invalid_value':
      if (value === undefined) return missing();
      return invalidValue(param, value, iss.values);
    case 'invalid_union':
      if (value === undefined) return missing();
      return unionToError(iss, path, body, param, value);
    case 'too_small':
    case 'too_big':
      return boundError(iss, param, value);
    case 'custom': {
      if (value === undefined) return missing();
      const code: unknown = iss.params?.['openaiCode'];
      return invalidParam(iss.message.replaceAll('{param}', param), param || null, typeof code === 'string' ? code : 'invalid_value');
    }
    default:
      return invalidParam(`Invalid value for '${param}': ${iss.message}.`, param || null, 'invalid_value');
  }
}

function typeError(param: string, expected: string, value: unknown): SwitchyardError {
  return invalidParam(`Invalid type for '${param}': expected ${expected}, but got ${describeValue(value)} instead.`, param, 'invalid_type');
}

function invalidValue(param: string, value: unknown, allowed: readonly unknown[]): SwitchyardError {
  const list = allowed.map(showValue);
  const supported = list.length <= 2 ? list.join(' and ') : `${list.slice(0, -1).join(', ')}, and ${list[list.length - 1]}`;
  return invalidParam(`Invalid value for '${param}': ${showValue(value)}. Supported values are: ${supported}.`, param, 'invalid_value');
}

/** A union failed: report the branch that got furthest, or a type error if none matched the type. */
function unionToError(iss: Extract<Issue, { code: 'invalid_union' }>, path: Path, body: unknown, param: string, value: unknown): SwitchyardError {
  if (iss.errors.length === 0) {
    // Discriminated union without a matching discriminator: the path names the discriminator.
    return invalidValue(param, value, 'options' in iss ? (iss.options ?? []) : []);
  }
  let best: Issue[] | undefined;
  for (const branch of iss.errors) {
    if (isTypeMismatch(branch, value)) continue;
    if (!best || branch.length < best.length || (branch.length === best.length && furtherThan(branch, best))) best = branch;
  }
  const first = best?.[0];
  if (!first) return typeError(param, iss.message.startsWith('Invalid input') ? 'a valid value' : iss.message, value);
  return issueToError(first, path, body);
}

/** True if a union branch failed only because the value has the wrong type altogether. */
function isTypeMismatch(branch: readonly Issue[], value: unknown): boolean {
  const iss = branch[0];
  if (branch.length !== 1 || !iss || iss.path.length !== 0) return false;
  if (iss.code === 'invalid_type') return true;
  if (iss.code === 'invalid_value') return !iss.values.some((v) => typeof v === typeof value);
  if (iss.code === 'invalid_union') return iss.errors.length > 0 && iss.errors.every((b) => isTypeMismatch(b, value));
  return false;
}

function furtherThan(a: readonly Issue[], b: readonly Issue[]): boolean {
  const pa = a[0]?.path ?? [];
  const pb = b[0]?.path ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (typeof x === 'number' && typeof y === 'number' && x !== y) return x > y;
  }
  return pa.length > pb.length;
}

function boundError(iss: Extract<Issue, { code: 'too_small' | 'too_big' }>, param: string, value: unknown): SwitchyardError {
  const small = iss.code === 'too_small';
  const limit = String(small ? iss.minimum : iss.maximum);
  if (iss.origin === 'array' || iss.origin === 'string') {
    const what = iss.origin;
    const len = Array.isArray(value) || typeof value === 'string' ? value.length : 0;
    if (small && len === 0) {
      return invalidParam(`Invalid '${param}': empty ${what}. Expected ${article(what)} with minimum length ${limit}, but got an empty ${what} instead.`, param, `empty_${what}`);
    }
    const dir = small ? 'short' : 'long';
    const bound = small ? 'minimum' : 'maximum';
    return invalidParam(
      `Invalid '${param}': ${what} too ${dir}. Expected ${article(what)} with ${bound} length ${limit}, but got ${article(what)} with length ${len} instead.`,
      param,
      `${what}_${small ? 'below_min' : 'above_max'}_length`,
    );
  }
  const kind = iss.message === 'integer' ? 'integer' : 'decimal';
  const op = (small ? '>' : '<') + (iss.inclusive === false ? '' : '=');
  const where = small ? 'below minimum' : 'above maximum';
  return invalidParam(
    `Invalid '${param}': ${kind} ${where} value. Expected a value ${op} ${limit}, but got ${showValue(value)} instead.`,
    param,
    `${kind}_${small ? 'below_min' : 'above_max'}_value`,
  );
}

/** `['messages', 0, 'content']` → `messages[0].content` (OpenAI's `param` format). */
export function formatPath(path: Path): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out;
}

/** The value at `path` in `root` (own properties only), or undefined. */
function valueAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || typeof k === 'symbol' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function article(what: string): string {
  return what === 'array' ? 'an array' : `a ${what}`;
}

/** "a string", "an integer", "a decimal", "null", … as OpenAI words a received type. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(v) ? 'an integer' : 'a decimal';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    default:
      return `a ${typeof v}`;
  }
}

/** A short, safe rendering of a value for a message (strings quoted and truncated). */
function showValue(v: unknown): string {
  if (typeof v === 'string') return `'${JSON.stringify(truncate(v, 40)).slice(1, -1)}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || typeof v === 'bigint') return String(v);
  return describeValue(v);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
