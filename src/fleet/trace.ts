/**
 * Mooncake-format request traces (JSON Lines), as published by Mooncake (FAST'25) and replayed
 * by Dynamo's and SGLang's benchmarks:
 *
 *   {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 2033]}
 *
 * - `timestamp`: arrival time in ms from the start of the trace.
 * - `input_length` / `output_length`: prompt and completion tokens.
 * - `hash_ids`: one id per `blockSize`-token block of the prompt (512 in Mooncake); equal ids mean
 *   equal block content. Ids in Dynamo's traces exceed 2^53, so they are kept as canonical
 *   decimal strings, never as JS numbers (JSON.parse would round them).
 * - `session_id` (optional, string or number): a conversation id; routed as the `x-session-id`
 *   header, so session-aware plugins can use it.
 *
 * Other fields are ignored. Errors name the source and the 1-based line:
 * `trace.jsonl:12: input_length must be an integer >= 1, got -3`. Rows are stably sorted by
 * timestamp (the replay needs arrival order); blank lines are skipped.
 */
import { readFile } from 'node:fs/promises';
import { SwitchyardError } from '../core/index.js';

export interface TraceRequest {
  /** Position in the prepared trace (arrival order); also the request id `r<index>`. */
  readonly index: number;
  /** 1-based line in the source file. */
  readonly line: number;
  /** Arrival time in ms (after --rate-scale). */
  readonly timestampMs: number;
  readonly inputLength: number;
  readonly outputLength: number;
  /** Block ids as canonical decimal strings (exact for any 64-bit value). */
  readonly hashIds: readonly string[];
  readonly sessionId?: string;
}

export interface ParseTraceOptions {
  /** Name used in error messages (default 'trace'). */
  readonly source?: string;
}

export interface PrepareTraceOptions {
  /** Keep the first N requests (by arrival). */
  readonly limit?: number;
  /** Multiply arrival times: 0.5 replays twice as fast. Default 1. */
  readonly rateScale?: number;
}

const UINT_RE = /^\d+$/;
const HASH_IDS_RE = /"hash_ids"\s*:\s*\[([^\]]*)\]/;

/** Parse a whole trace (JSON Lines text). @throws SwitchyardError('invalid_argument') naming the line. */
export function parseMooncakeTrace(text: string, options: ParseTraceOptions = {}): TraceRequest[] {
  const source = options.source ?? 'trace';
  const rows: TraceRequest[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line !== '') rows.push(parseTraceLine(line, lineNo, rows.length, source));
  }
  if (rows.length === 0) throw new SwitchyardError('invalid_argument', `${source}: the trace has no requests`, { param: 'trace' });
  // Arrival order; Array.prototype.sort is stable, so equal timestamps keep file order.
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++) if (rows[i]!.timestampMs < rows[i - 1]!.timestampMs) sorted = false;
  if (!sorted) {
    rows.sort((a, b) => a.timestampMs - b.timestampMs);
    return rows.map((r, index) => ({ ...r, index }));
  }
  return rows;
}

/** Parse one non-empty line. Exported for tests. */
export function parseTraceLine(line: string, lineNo: number, index: number, source = 'trace'): TraceRequest {
  const fail = (message: string): never => {
    throw new SwitchyardError('invalid_argument', `${source}:${lineNo}: ${message}`, { param: 'trace', detail: { line: lineNo } });
  };
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    fail(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return fail('expected a JSON object per line');
  const o = obj as Record<string, unknown>;
  const timestamp = o.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) fail(`timestamp must be a number of ms >= 0, got ${show(timestamp)}`);
  const inputLength = positiveInt(o.input_length, 'input_length', fail);
  const outputLength = positiveInt(o.output_length, 'output_length', fail);
  const hashIds = parseHashIds(o.hash_ids, line, fail);
  const sid = o.session_id;
  let sessionId: string | undefined;
  if (typeof sid === 'string' && sid !== '') sessionId = sid;
  else if (typeof sid === 'number' && Number.isFinite(sid)) sessionId = String(sid);
  else if (sid !== undefined && sid !== null && sid !== '') fail(`session_id must be a string or a number, got ${show(sid)}`);
  return { index, line: lineNo, timestampMs: timestamp as number, inputLength, outputLength, hashIds, ...(sessionId === undefined ? {} : { sessionId }) };
}

function positiveInt(v: unknown, name: string, fail: (m: string) => never): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) return fail(`${name} must be an integer >= 1, got ${show(v)}`);
  return v;
}

/**
 * hash_ids exactly: numbers up to 2^53 are exact after JSON.parse; a larger one (or a float) is
 * re-read from the line's own text so no digit is lost. Strings of digits are accepted too.
 */
function parseHashIds(v: unknown, line: string, fail: (m: string) => never): string[] {
  if (v === undefined) return fail('missing hash_ids (an array of block ids; [] when the prompt shares nothing)');
  if (!Array.isArray(v)) return fail(`hash_ids must be an array of non-negative integers, got ${show(v)}`);
  const out = new Array<string>(v.length);
  let raw: string[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x === 'number') {
      if (Number.isSafeInteger(x) && x >= 0) {
        out[i] = String(x);
        continue;
      }
      raw ??= rawHashIds(line, v.length);
      const text = raw?.[i];
      if (text === undefined || !UINT_RE.test(text)) return fail(`hash_ids[${i}] must be a non-negative integer, got ${text ?? show(x)}`);
      out[i] = canonical(text);
    } else if (typeof x === 'string' && UINT_RE.test(x)) out[i] = canonical(x);
    else return fail(`hash_ids[${i}] must be a non-negative integer, got ${show(x)}`);
    if (out[i]!.length > 20 || BigInt(out[i]!) >= 1n << 64n) return fail(`hash_ids[${i}] does not fit in 64 bits: ${out[i]!}`);
  }
  return out;
}

/** The literal texts of the hash_ids array's elements, or undefined if they cannot be found. */
function rawHashIds(line: string, expected: number): string[] | undefined {
  const m = HASH_IDS_RE.exec(line);
  if (!m) return undefined;
  const body = m[1]!.trim();
  const parts = body === '' ? [] : body.split(',').map((s) => s.trim());
  return parts.length === expected ? parts : undefined;
}

function canonical(digits: string): string {
  const s = digits.replace(/^0+(?=\d)/, '');
  return s;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Read and parse a trace file. @throws SwitchyardError naming the file (and line). */
export async function loadMooncakeTrace(path: string): Promise<TraceRequest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : '';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e);
    throw new SwitchyardError('invalid_argument', `cannot read trace ${path}: ${why}`, { param: 'trace' });
  }
  return parseMooncakeTrace(text, { source: path });
}

/** Apply --limit (first N by arrival) and --rate-scale (timestamps × X); re-index. */
export function prepareTrace(requests: readonly TraceRequest[], options: PrepareTraceOptions = {}): TraceRequest[] {
  const scale = options.rateScale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new SwitchyardError('invalid_argument', `rate scale must be a positive number, got ${scale}`, { param: 'rate-scale' });
  const limit = options.limit ?? requests.length;
  if (!Number.isInteger(limit) || limit < 1) throw new SwitchyardError('invalid_argument', `limit must be an integer >= 1, got ${limit}`, { param: 'limit' });
  return requests.slice(0, limit).map((r, index) => ({ ...r, index, timestampMs: r.timestampMs * scale }));
}
