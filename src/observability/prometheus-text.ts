/**
 * A fast parser for the Prometheus text exposition format (what vLLM serves at /metrics).
 *
 * Handles names with colons (`vllm:num_requests_running`), histogram/summary series
 * (`_bucket{le="0.1"}`, `_sum`, `_count`), values `NaN`, `+Inf`, `-Inf` and scientific
 * notation, escaped label values (`\"`, `\\`, `\n`), optional timestamps, trailing OpenMetrics
 * exemplars, CRLF line ends. Comments (`# HELP`, `# TYPE`, `# EOF`) are skipped.
 *
 * A hand-written scanner (no per-line regex, label values sliced without copying when they have
 * no escapes): a gateway scrapes many backends every second.
 */
import { SwitchyardError } from '../core/index.js';

export interface PromSample {
  /** Label name → value. Samples without labels share one frozen empty object. */
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries a timestamp. */
  timestampMs?: number;
}

/** Series name (as written, e.g. `vllm:e2e_request_latency_seconds_bucket`) → its samples. */
export type PromSamples = Map<string, PromSample[]>;

export interface ParsePromOptions {
  /** Keep only series whose name passes; skipped lines cost almost nothing. */
  include?: (name: string) => boolean;
  /** Throw on a malformed line instead of skipping it. */
  strict?: boolean;
}

const EMPTY_LABELS: Record<string, string> = Object.freeze({});

const SPACE = 32;
const TAB = 9;
const CR = 13;
const HASH = 35;
const LBRACE = 123;
const RBRACE = 125;
const COMMA = 44;
const EQUALS = 61;
const QUOTE = 34;
const BACKSLASH = 92;

/** Character classes by code: 1 = label-name char [A-Za-z0-9_], 2 = also metric-name char (adds ':'). */
const NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_]/.test(ch)) NAME_CHARS[c] = 3;
  else if (ch === ':') NAME_CHARS[c] = 2;
}
const LABEL_NAME = 1;
const METRIC_NAME = 2;

function isNameChar(c: number, kind: number): boolean {
  return c < 128 && (NAME_CHARS[c]! & kind) !== 0;
}

class Malformed extends Error {}

export function parsePrometheusText(text: string, options: ParsePromOptions = {}): PromSamples {
  const out: PromSamples = new Map();
  const { include, strict = false } = options;
  const n = text.length;
  let pos = 0;
  let lineNo = 0;
  while (pos < n) {
    lineNo++;
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const start = pos;
    pos = eol + 1;
    let i = start;
    while (i < eol && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
    if (i === eol || text.charCodeAt(i) === HASH || text.charCodeAt(i) === CR) continue;
    try {
      const nameStart = i;
      while (i < eol && isNameChar(text.charCodeAt(i), METRIC_NAME)) i++;
      if (i === nameStart) throw new Malformed('expected a metric name');
      const name = text.slice(nameStart, i);
      if (include && !include(name)) continue;
      let labels = EMPTY_LABELS;
      i = skipSpaces(text, i, eol);
      if (text.charCodeAt(i) === LBRACE) {
        labels = {};
        i = parseLabels(text, i + 1, eol, labels);
        i = skipSpaces(text, i, eol);
      }
      const valueStart = i;
      while (i < eol && !isBlank(text.charCodeAt(i))) i++;
      const value = parseValue(text.slice(valueStart, i));
      const sample: PromSample = { labels, value };
      i = skipSpaces(text, i, eol);
      if (i < eol && text.charCodeAt(i) !== HASH && text.charCodeAt(i) !== CR) {
        const tsStart = i;
        while (i < eol && !isBlank(text.charCodeAt(i))) i++;
        const ts = Number(text.slice(tsStart, i));
        if (!Number.isFinite(ts)) throw new Malformed(`bad timestamp '${text.slice(tsStart, i)}'`);
        sample.timestampMs = ts;
      }
      const list = out.get(name);
      if (list) list.push(sample);
      else out.set(name, [sample]);
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      if (strict) {
        const line = text.slice(start, eol).replace(/\r$/, '');
        throw new SwitchyardError('upstream_error', `metrics line ${lineNo}: ${e.message}: ${line.length > 120 ? `${line.slice(0, 117)}...` : line}`);
      }
    }
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

function skipSpaces(text: string, i: number, eol: number): number {
  while (i < eol && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
  return i;
}

/** Parse `a="x",b="y"}` starting after '{'; returns the index after '}'. */
function parseLabels(text: string, i: number, eol: number, labels: Record<string, string>): number {
  for (;;) {
    while (i < eol && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB || text.charCodeAt(i) === COMMA)) i++;
    if (i >= eol) throw new Malformed("unterminated labels, expected '}'");
    if (text.charCodeAt(i) === RBRACE) return i + 1;
    const nameStart = i;
    while (i < eol && isNameChar(text.charCodeAt(i), LABEL_NAME)) i++;
    if (i === nameStart) throw new Malformed('expected a label name');
    const labelName = text.slice(nameStart, i);
    i = skipSpaces(text, i, eol);
    if (text.charCodeAt(i) !== EQUALS) throw new Malformed(`expected '=' after label '${labelName}'`);
    i = skipSpaces(text, i + 1, eol);
    if (text.charCodeAt(i) !== QUOTE) throw new Malformed(`expected '"' to open the value of label '${labelName}'`);
    i++;
    // Fast path: no escapes before the closing quote.
    let j = i;
    let c = 0;
    while (j < eol && (c = text.charCodeAt(j)) !== QUOTE && c !== BACKSLASH) j++;
    let value: string;
    if (c === QUOTE && j < eol) {
      value = text.slice(i, j);
    } else {
      let buf = text.slice(i, j);
      for (;;) {
        if (j >= eol) throw new Malformed(`unterminated value of label '${labelName}'`);
        c = text.charCodeAt(j);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          const next = text.charCodeAt(j + 1);
          buf += next === 110 /* n */ ? '\n' : next === BACKSLASH ? '\\' : next === QUOTE ? '"' : `\\${text[j + 1] ?? ''}`;
          j += 2;
        } else {
          buf += text[j];
          j++;
        }
      }
      value = buf;
    }
    if (labelName === '__proto__') Object.defineProperty(labels, labelName, { value, enumerable: true, writable: true, configurable: true });
    else labels[labelName] = value;
    i = j + 1;
  }
}

function parseValue(token: string): number {
  const v = Number(token);
  if (!Number.isNaN(v) && token.length > 0) return v;
  switch (token) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
    case '+inf':
    case 'inf':
      return Infinity;
    case '-Inf':
    case '-inf':
      return -Infinity;
    default:
      throw new Malformed(token.length === 0 ? 'missing value' : `bad value '${token}'`);
  }
}

/** Samples of `name` whose labels include every pair in `match`. */
export function selectSamples(samples: PromSamples, name: string, match: Record<string, string> = {}): PromSample[] {
  const list = samples.get(name) ?? [];
  const keys = Object.keys(match);
  if (keys.length === 0) return list;
  return list.filter((s) => keys.every((k) => s.labels[k] === match[k]));
}

/** Sum of the matching samples' values (0 when none), e.g. running requests across models. */
export function sumSamples(samples: PromSamples, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of selectSamples(samples, name, match)) total += s.value;
  return total;
}
