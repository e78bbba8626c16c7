/**
 * Streaming relay: SSE bytes from the upstream go to the client untouched. The gateway looks
 * only at what it needs — the first token (TTFT), token pacing (ITL), the usage chunk, and error
 * events — and parses JSON only for those few events.
 *
 * Events are found by a byte scanner (sse-scan.ts) and classified on their bytes: the usual
 * one-line `data: {...}` event is decoded to text only until the first token (to parse it), when
 * it carries `"usage":{`, or when it starts with `{"error"`. A token event after the first costs a
 * bounded byte search and nothing else. Events of any other shape (several data lines, other
 * fields, comments) are decoded as the openai SseParser would, and classified the same way.
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
/** Pattern slots of the next-occurrence cache. */
const K_CONTENT = 0;
const K_TEXT = 1;
const K_USAGE = 2;
/** "Not searched yet" (any search start is above it). */
const UNKNOWN = -3;

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
   * Per pattern, the first occurrence at or after the last search start in `cacheSrc` (-1: none
   * up to its end): events of one chunk are classified in order, so each pattern is scanned
   * for at most once per chunk however many events the chunk holds.
   */
  private cacheSrc: Buffer | null = null;
  private readonly nextAt = [UNKNOWN, UNKNOWN, UNKNOWN];
  done = false;

  constructor(private readonly stripUsage: boolean, private readonly observer: RelayObserver) {}

  /** Bytes to forward now for this upstream chunk (possibly the chunk itself, possibly empty). */
  push(chunk: Buffer): Buffer {
    this.now = -1;
    this.cacheSrc = chunk;
    this.nextAt[K_CONTENT] = this.nextAt[K_TEXT] = this.nextAt[K_USAGE] = UNKNOWN;
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
      this.onData(src.toString('utf8', vs, ve), startAbs, endAbs);
      return;
    }
    if (this.has(src, CONTENT, K_CONTENT, vs, ve) || this.has(src, TEXT, K_TEXT, vs, ve)) this.observer.token(this.at());
    if (this.has(src, USAGE, K_USAGE, vs, ve)) {
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
      if (hasToken(d)) {
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

  /** Whether `pattern` occurs within src[vs, ve). */
  private has(src: Buffer, pattern: Buffer, k: number, vs: number, ve: number): boolean {
    let at: number;
    if (src === this.cacheSrc) {
      at = this.nextAt[k]!;
      if (at !== -1 && at < vs) at = this.nextAt[k] = src.indexOf(pattern, vs);
    } else {
      at = src.indexOf(pattern, vs);
    }
    return at !== -1 && at + pattern.length <= ve;
  }

  private at(): number {
    if (this.now < 0) this.now = performance.now();
    return this.now;
  }
}

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

export function parseUsage(data: string): StreamUsage | null {
  try {
    const obj = JSON.parse(data) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null } | null };
    const u = obj.usage;
    if (!u || typeof u.prompt_tokens !== 'number') return null;
    return {
      promptTokens: u.prompt_tokens,
      completionTokens: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0,
      cachedTokens: typeof u.prompt_tokens_details?.cached_tokens === 'number' ? u.prompt_tokens_details.cached_tokens : 0,
    };
  } catch {
    return null;
  }
}

function errorMessage(data: string): string {
  try {
    const obj = JSON.parse(data) as { error?: { message?: unknown } };
    return typeof obj.error?.message === 'string' ? obj.error.message : 'upstream error event';
  } catch {
    return 'upstream error event';
  }
}
