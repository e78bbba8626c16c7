/**
 * Streaming relay: SSE bytes from the upstream go to the client untouched. The gateway looks
 * only at what it needs — the first token (TTFT), token pacing (ITL), the usage chunk, and error
 * events — and parses JSON only for those few events.
 *
 * Events are found by a byte scanner (sse-scan.ts) and classified on their bytes. A token event
 * is one with a `"content":"` or `"text":"` key; the first token is one whose value is non-empty
 * (the next byte is not a quote) — or, when the bytes do not show that (the role chunk, tool
 * calls, escaped keys), one whose parsed `choices[0]` carries a token. The usual one-line
 * `data: {...}` event is decoded to text only in that last case, when it carries `"usage":{`, or
 * when it starts with `{"error"`; a token event costs a short byte search from its end and
 * nothing else. Events of any other shape (several data lines, other fields, comments) are
 * decoded as the openai SseParser would, and classified by the same rules on the text.
 *
 * When the gateway injected `stream_options.include_usage` (the client did not ask for usage but
 * the gateway needs it for accounting), the usage-only chunk (`"choices":[]` with `"usage":{...}`)
 * is cut out of the byte stream. Only in that mode are bytes of a not-yet-complete event held
 * back (so an event split across chunks can still be removed); otherwise every chunk is
 * forwarded as soon as it arrives.
 */
import { eventData, singleDataValue, SseScanner, type SseSink, type ValueRange } from './sse-scan.js';

export interface StreamUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface RelayObserver {
  firstToken(atMs: number): void;
  token(atMs: number): void;
  usage(u: StreamUsage): void;
  upstreamError(message: string): void;
}

const CONTENT = Buffer.from('"content":"');
const TEXT = Buffer.from('"text":"');
const USAGE = Buffer.from('"usage":{');
/** "Not searched yet" (any search start is above it). */
const UNKNOWN = -3;
const OPEN_BRACE = 0x7b;

export class SseRelay implements SseSink {
  private readonly scanner = new SseScanner(this);
  private held: Buffer | null = null;
  private heldStart = 0;
  private sawFirstToken = false;
  /** performance.now() of the current push, read on first use (-1: not yet). */
  private now = -1;
  /** Absolute [start, end) pairs of the events to cut out of the current push (strip mode). */
  private cuts: number[] | null = null;
  private readonly range: ValueRange = { start: 0, end: 0 };
  /**
   * The first `"usage":{` at or after the last search start in `cacheSrc` (-1: none up to its
   * end): events of one chunk are classified in order, so the chunk is searched at most once
   * however many events it holds.
   */
  private cacheSrc: Buffer | null = null;
  private usageAt = UNKNOWN;
  /** A completions stream (token events carry `"text":"`): checked for it first. */
  private textStream = false;
  done = false;

  constructor(private readonly stripUsage: boolean, private readonly observer: RelayObserver) {}

  /** Bytes to forward now for this upstream chunk (possibly the chunk itself, possibly empty). */
  push(chunk: Buffer): Buffer {
    this.now = -1;
    this.cacheSrc = chunk;
    this.usageAt = UNKNOWN;
    const chunkStart = this.scanner.position;
    this.scanner.feed(chunk);
    this.cacheSrc = null;
    if (!this.stripUsage) return chunk;
    // Strip mode: forward up to the last complete event boundary, minus the cut events.
    let buf: Buffer;
    let bufStart: number;
    if (this.held) {
      buf = Buffer.concat([this.held, chunk]);
      bufStart = this.heldStart;
    } else {
      buf = chunk;
      bufStart = chunkStart;
    }
    const boundary = this.scanner.boundary;
    const forwardEnd = boundary - bufStart;
    this.held = forwardEnd < buf.length ? buf.subarray(forwardEnd) : null;
    this.heldStart = boundary;
    const cuts = this.cuts;
    if (cuts === null || cuts.length === 0) return forwardEnd === buf.length ? buf : buf.subarray(0, forwardEnd);
    const parts: Buffer[] = [];
    let p = 0;
    for (let k = 0; k < cuts.length; k += 2) {
      const s = cuts[k]! - bufStart;
      if (s > p) parts.push(buf.subarray(p, s));
      p = cuts[k + 1]! - bufStart;
    }
    if (forwardEnd > p) parts.push(buf.subarray(p, forwardEnd));
    cuts.length = 0;
    return Buffer.concat(parts);
  }

  /** Held bytes to flush when the upstream ends (an unterminated final event). */
  end(): Buffer | null {
    const h = this.held;
    this.held = null;
    return h;
  }

  /** SseSink: one complete event in `src[from, to)`. */
  event(src: Buffer, from: number, to: number, startAbs: number, endAbs: number, lineEnd: number): void {
    const r = singleDataValue(src, from, to, lineEnd, this.range);
    if (r === null) {
      const d = eventData(src, from, to, startAbs);
      if (d !== undefined) this.onData(d, startAbs, endAbs);
      return;
    }
    const vs = r.start;
    const ve = r.end;
    if (ve - vs === 6 && isDone(src, vs)) {
      this.done = true;
      return;
    }
    if (!this.sawFirstToken) {
      if (!(nonEmptyAfter(src, CONTENT, vs, ve) || nonEmptyAfter(src, TEXT, vs, ve))) {
        // Not certain from the bytes (the role chunk, tool calls, escapes): decide on the text.
        this.onData(src.toString('utf8', vs, ve), startAbs, endAbs);
        return;
      }
      this.sawFirstToken = true;
      this.observer.firstToken(this.at());
    } else if (this.tokenEvent(src, vs, ve)) {
      this.observer.token(this.at());
    }
    if (this.hasUsage(src, vs, ve)) {
      this.onUsage(src.toString('utf8', vs, ve), startAbs, endAbs);
    } else if (ve - vs >= 8 && startsWithError(src, vs)) {
      this.observer.upstreamError(errorMessage(src.toString('utf8', vs, ve)));
    }
  }

  /** The classification of one event's data, on text (the reference the byte path must match). */
  private onData(d: string, startAbs: number, endAbs: number): void {
    if (d === '[DONE]') {
      this.done = true;
      return;
    }
    if (!this.sawFirstToken) {
      if (NON_EMPTY_CONTENT.test(d) || hasToken(d)) {
        this.sawFirstToken = true;
        this.observer.firstToken(this.at());
      }
    } else if (d.includes('"content":"') || d.includes('"text":"')) {
      this.observer.token(this.at());
    }
    if (d.includes('"usage":{')) {
      this.onUsage(d, startAbs, endAbs);
    } else if (d.startsWith('{"error"')) {
      this.observer.upstreamError(errorMessage(d));
    }
  }

  private onUsage(d: string, startAbs: number, endAbs: number): void {
    const u = parseUsage(d);
    if (u) this.observer.usage(u);
    if (this.stripUsage && d.includes('"choices":[]')) (this.cuts ??= []).push(startAbs, endAbs);
  }

  /**
   * A token event after the first: `"content":"` or `"text":"` within src[vs, ve). The content
   * key sits near the end of a chat chunk, so it is searched from the end by a loop over a few
   * dozen bytes (cheaper than a Buffer.indexOf call for a pattern, ~0.3 µs); a completions stream
   * is recognised after its first text event and searched for `"text":"` first.
   */
  private tokenEvent(src: Buffer, vs: number, ve: number): boolean {
    if (this.textStream) return lastIndexIn(src, TEXT, vs, ve) !== -1 || lastIndexIn(src, CONTENT, vs, ve) !== -1;
    if (lastIndexIn(src, CONTENT, vs, ve) !== -1) return true;
    if (lastIndexIn(src, TEXT, vs, ve) === -1) return false;
    this.textStream = true;
    return true;
  }

  /** Whether `"usage":{` occurs within src[vs, ve). */
  private hasUsage(src: Buffer, vs: number, ve: number): boolean {
    let at: number;
    if (src === this.cacheSrc) {
      at = this.usageAt;
      if (at !== -1 && at < vs) at = this.usageAt = indexOfUsage(src, vs);
    } else {
      at = indexOfUsage(src, vs);
    }
    return at !== -1 && at + USAGE.length <= ve;
  }

  private at(): number {
    if (this.now < 0) this.now = performance.now();
    return this.now;
  }
}

/**
 * The first index of `"usage":{` in src at or after `from`, or -1: a memchr (Buffer.indexOf of a
 * byte) for each `{` and a look at the 8 bytes before it — several times cheaper than
 * Buffer.indexOf of the pattern, which costs ~2 ns per byte searched.
 */
function indexOfUsage(src: Buffer, from: number): number {
  for (let i = src.indexOf(OPEN_BRACE, from + 8); i !== -1; i = src.indexOf(OPEN_BRACE, i + 1)) {
    if (src[i - 1] === 0x3a && src[i - 2] === 0x22 && src[i - 3] === 0x65 && src[i - 4] === 0x67 && src[i - 5] === 0x61 && src[i - 6] === 0x73 && src[i - 7] === 0x75 && src[i - 8] === 0x22) return i - 8;
  }
  return -1;
}

/** The last index of `pattern` within src[vs, ve) (the whole pattern inside), or -1; a loop from the end. */
export function lastIndexIn(src: Buffer, pattern: Buffer, vs: number, ve: number): number {
  const m = pattern.length;
  // Anchor on the pattern's second byte: the first is a quote, frequent in JSON.
  const b1 = pattern[1]!;
  for (let i = ve - m; i >= vs; i--) {
    if (src[i + 1] !== b1) continue;
    let j = 0;
    while (j < m && src[i + j] === pattern[j]) j++;
    if (j === m) return i;
  }
  return -1;
}

/**
 * Whether `pattern` (a key, colon and opening quote) occurs within src[vs, ve) followed by a
 * byte that is not a quote: a non-empty string value — a token, for `"content":"` or `"text":"`.
 */
export function nonEmptyAfter(src: Buffer, pattern: Buffer, vs: number, ve: number): boolean {
  for (let e = ve; ; ) {
    const i = lastIndexIn(src, pattern, vs, e);
    if (i === -1) return false;
    const next = i + pattern.length;
    if (next < ve && src[next] !== 0x22) return true;
    e = i + pattern.length - 1;
  }
}

/** The text form of nonEmptyAfter(CONTENT or TEXT). */
const NON_EMPTY_CONTENT = /"(?:content|text)":"[^"]/;

/** `[DONE]` at src[at] (the caller checked the length). */
function isDone(src: Buffer, at: number): boolean {
  return src[at] === 0x5b && src[at + 1] === 0x44 && src[at + 2] === 0x4f && src[at + 3] === 0x4e && src[at + 4] === 0x45 && src[at + 5] === 0x5d;
}

/** `{"error"` at src[at] (the caller checked the length). */
function startsWithError(src: Buffer, at: number): boolean {
  return src[at] === 0x7b && src[at + 1] === 0x22 && src[at + 2] === 0x65 && src[at + 3] === 0x72 && src[at + 4] === 0x72 && src[at + 5] === 0x6f && src[at + 6] === 0x72 && src[at + 7] === 0x22;
}

function hasToken(data: string): boolean {
  if (!data.startsWith('{') || !mayHaveToken(data)) return false;
  try {
    const obj = JSON.parse(data) as { choices?: { delta?: { content?: unknown; tool_calls?: unknown }; text?: unknown }[] };
    const c = obj.choices?.[0];
    if (!c) return false;
    if (typeof c.text === 'string') return c.text.length > 0;
    const content = c.delta?.content;
    return (typeof content === 'string' && content.length > 0) || Array.isArray(c.delta?.tool_calls);
  } catch {
    return false;
  }
}

/**
 * False only when hasToken() is certainly false, without parsing: the text has no escapes (so
 * every key appears literally), no `"tool_calls"` key, and no `"content"` or `"text"` key whose
 * value is a non-empty string. The role chunk that opens a stream (`"content":""`) is the case
 * this saves a JSON.parse for.
 */
export function mayHaveToken(data: string): boolean {
  if (data.includes('\\') || data.includes('"tool_calls"')) return true;
  return keyWithNonEmptyString(data, '"content"') || keyWithNonEmptyString(data, '"text"');
}

function keyWithNonEmptyString(d: string, key: string): boolean {
  for (let i = d.indexOf(key); i !== -1; i = d.indexOf(key, i + 1)) {
    let j = skipWs(d, i + key.length);
    if (d.charCodeAt(j) !== 0x3a) continue; // not a key
    j = skipWs(d, j + 1);
    if (d.charCodeAt(j) === 0x22 && d.charCodeAt(j + 1) !== 0x22) return true;
  }
  return false;
}

function skipWs(d: string, j: number): number {
  for (let c = d.charCodeAt(j); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = d.charCodeAt(++j));
  return j;
}

interface UsageFields {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
}

/**
 * The top-level `usage` of a JSON response or chunk, or null. Usage is the last member in
 * OpenAI's and vLLM's JSON, so when the text ends with `"usage":{...}}` (the usage object, then
 * the closing brace of the document) only that object is parsed; anything else — usage elsewhere,
 * `"usage":null`, no object around it — is parsed whole. The result is the whole parse's for any
 * valid JSON (a match cannot sit inside a string: no quote follows it); a text that is not valid
 * JSON but ends that way yields its usage instead of null.
 */
export function parseUsage(data: string): StreamUsage | null {
  const tail = usageTail(data);
  if (tail !== undefined) {
    try {
      return usageOf(JSON.parse(tail) as UsageFields);
    } catch {
      // not what it looked like: parse the whole text
    }
  }
  try {
    return usageOf((JSON.parse(data) as { usage?: UsageFields | null }).usage);
  } catch {
    return null;
  }
}

/** The text of the usage object when it is the last member of the document, else undefined. */
function usageTail(d: string): string | undefined {
  const k = d.lastIndexOf('"usage":');
  if (k < 1) return undefined;
  let b = k - 1;
  while (isWs(d.charCodeAt(b))) b--;
  const before = d.charCodeAt(b);
  if (before !== 0x2c && before !== 0x7b) return undefined; // not a key of an object: ',' or '{' before it
  let i = k + 8;
  while (isWs(d.charCodeAt(i))) i++;
  if (d.charCodeAt(i) !== 0x7b) return undefined;
  // The matching brace, skipping strings.
  let depth = 0;
  let j = i;
  for (; j < d.length; j++) {
    const c = d.charCodeAt(j);
    if (c === 0x22) {
      for (j++; j < d.length && d.charCodeAt(j) !== 0x22; j++) if (d.charCodeAt(j) === 0x5c) j++;
    } else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) break;
  }
  if (j >= d.length) return undefined;
  let e = j + 1;
  while (isWs(d.charCodeAt(e))) e++;
  if (d.charCodeAt(e) !== 0x7d) return undefined;
  e++;
  while (isWs(d.charCodeAt(e))) e++;
  return e === d.length ? d.slice(i, j + 1) : undefined;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function usageOf(u: UsageFields | null | undefined): StreamUsage | null {
  if (!u || typeof u.prompt_tokens !== 'number') return null;
  return {
    promptTokens: u.prompt_tokens,
    completionTokens: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0,
    cachedTokens: typeof u.prompt_tokens_details?.cached_tokens === 'number' ? u.prompt_tokens_details.cached_tokens : 0,
  };
}

function errorMessage(data: string): string {
  try {
    const obj = JSON.parse(data) as { error?: { message?: unknown } };
    return typeof obj.error?.message === 'string' ? obj.error.message : 'upstream error event';
  } catch {
    return 'upstream error event';
  }
}
