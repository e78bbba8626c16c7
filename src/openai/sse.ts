/**
 * Server-Sent Events: encoding (what engines write) and an incremental byte-level parser
 * (what the gateway and tests read).
 *
 * The parser follows the WHATWG event-stream rules: lines end in `\n`, `\r\n` or `\r`; a blank
 * line ends an event; `data:` lines are joined with `\n`; lines starting with `:` are comments;
 * one space after the colon is dropped; a leading UTF-8 BOM is ignored; blocks without any
 * `data` field are not events. It works on bytes, so chunks may split events, lines and
 * multi-byte UTF-8 characters anywhere (no line terminator byte occurs inside a UTF-8
 * sequence). Each event carries its absolute byte range in the stream, so a proxy can relay
 * chunks untouched and still cut the stream exactly at an event boundary.
 */
import { SwitchyardError } from '../core/index.js';

/** `data: <json>\n\n`. `json` must be single-line (JSON.stringify output is). */
export function sseData(json: string): string {
  return `data: ${json}\n\n`;
}

/** The terminal event of an OpenAI stream. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** Response headers for an SSE stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

export interface SseEvent {
  /** The data lines joined with `\n` (for OpenAI streams: one JSON object or `[DONE]`). */
  data: string;
  /** The `event:` field, if the event had one. */
  event: string | undefined;
  /** The `id:` field, if the event had one (not inherited from earlier events). */
  id: string | undefined;
  /** The `retry:` field in ms, if present and valid. */
  retry: number | undefined;
  /** Absolute offset (bytes since the stream began) of the event's first byte. */
  start: number;
  /**
   * Absolute offset just past the blank line that ended the event. In-chunk offset:
   * `end - (parser.position - chunk.length)`. If the event ended with a `\r` that was the last
   * byte of a chunk, a following `\n` is not counted (it arrives later and is skipped).
   */
  end: number;
}

export interface SseParserOptions {
  /** Largest event (bytes) buffered before giving up with an `upstream_error`. Default 16 MiB. */
  maxEventBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const NO_EVENTS: readonly SseEvent[] = Object.freeze([]);
const SHRINK_ABOVE = 1 << 20;

/** Incremental SSE parser. Feed it chunks; it returns the events each chunk completed. */
export class SseParser {
  private buf: Buffer = Buffer.alloc(0);
  private bufLen = 0;
  private pos = 0;
  private evStartAbs = 0;
  private atLineStart = true;
  /** 0: nothing; 1: skip a leading LF (CR ended a line); 2: same, and it ended an event. */
  private skipLF: 0 | 1 | 2 = 0;
  private readonly maxEventBytes: number;

  constructor(options: SseParserOptions = {}) {
    this.maxEventBytes = options.maxEventBytes ?? 16 * 1024 * 1024;
  }

  /** Total bytes fed so far. */
  get position(): number {
    return this.pos;
  }

  /** Bytes buffered for an event that has not ended yet. */
  get pendingBytes(): number {
    return this.bufLen;
  }

  /**
   * Consume a chunk and return the events it completed (a shared empty array if none; do not
   * mutate it). Throws `upstream_error` if one event exceeds `maxEventBytes`.
   */
  feed(chunk: Uint8Array | string): readonly SseEvent[] {
    const bytes = toBuffer(chunk);
    const n = bytes.length;
    const chunkStart = this.pos;
    this.pos += n;
    let out: SseEvent[] | undefined;
    let i = 0;
    let evStart = 0;
    if (this.skipLF !== 0) {
      if (n > 0 && bytes[0] === LF) {
        i = 1;
        if (this.skipLF === 2) {
          evStart = 1;
          this.evStartAbs = chunkStart + 1;
        }
      }
      if (n > 0) this.skipLF = 0;
    }
    let nextCR = bytes.indexOf(CR, i);
    while (i < n) {
      const nextLF = bytes.indexOf(LF, i);
      if (nextCR !== -1 && nextCR < i) nextCR = bytes.indexOf(CR, i);
      const t = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (t === -1) {
        this.atLineStart = false;
        break;
      }
      if (t > i) this.atLineStart = false;
      let termEnd = t + 1;
      let crAtEnd = false;
      if (bytes[t] === CR) {
        if (termEnd < n) {
          if (bytes[termEnd] === LF) termEnd++;
        } else crAtEnd = true;
      }
      if (this.atLineStart) {
        const ev = this.dispatch(bytes, evStart, termEnd, chunkStart + termEnd);
        if (ev) (out ??= []).push(ev);
        evStart = termEnd;
        if (crAtEnd) this.skipLF = 2;
      } else {
        this.atLineStart = true;
        if (crAtEnd) this.skipLF = 1;
      }
      i = termEnd;
    }
    if (evStart < n) this.stash(bytes, evStart, n);
    return out ?? NO_EVENTS;
  }

  /**
   * End of stream: return the buffered, unterminated event (if it has data) as though a blank
   * line had followed. Browsers discard it; a proxy may want to see a final `data: [DONE]`
   * sent without its blank line. Resets the parser's event state.
   */
  flush(): readonly SseEvent[] {
    const len = this.bufLen;
    this.bufLen = 0;
    this.atLineStart = true;
    this.skipLF = 0;
    if (len === 0) return NO_EVENTS;
    const ev = parseEvent(this.buf, 0, len, this.evStartAbs, this.pos);
    this.evStartAbs = this.pos;
    return ev ? [ev] : NO_EVENTS;
  }

  private dispatch(bytes: Buffer, from: number, to: number, endAbs: number): SseEvent | undefined {
    const start = this.evStartAbs;
    this.evStartAbs = endAbs;
    if (this.bufLen === 0) return parseEvent(bytes, from, to, start, endAbs);
    this.stash(bytes, from, to);
    const ev = parseEvent(this.buf, 0, this.bufLen, start, endAbs);
    this.bufLen = 0;
    if (this.buf.length > SHRINK_ABOVE) this.buf = Buffer.alloc(0);
    return ev;
  }

  private stash(bytes: Buffer, from: number, to: number): void {
    const need = this.bufLen + (to - from);
    if (need > this.maxEventBytes) {
      this.bufLen = 0;
      throw new SwitchyardError('upstream_error', `SSE event larger than ${this.maxEventBytes} bytes`);
    }
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 1024));
      this.buf.copy(grown, 0, 0, this.bufLen);
      this.buf = grown;
    }
    bytes.copy(this.buf, this.bufLen, from, to);
    this.bufLen = need;
  }
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Parse the fields of one event occupying `src[from, to)` (its terminator included). */
function parseEvent(src: Buffer, from: number, to: number, start: number, end: number): SseEvent | undefined {
  let p = from;
  if (start === 0 && src[p] === 0xef && src[p + 1] === 0xbb && src[p + 2] === 0xbf) p += 3;
  let data: string | undefined;
  let event: string | undefined;
  let id: string | undefined;
  let retry: number | undefined;
  // memchr-speed line splitting when the event has no CR (the usual case).
  const hasCR = src.subarray(p, to).includes(CR);
  while (p < to) {
    let e: number;
    if (hasCR) {
      e = p;
      while (e < to && src[e] !== LF && src[e] !== CR) e++;
    } else {
      e = src.indexOf(LF, p);
      if (e === -1 || e > to) e = to;
    }
    const next = src[e] === CR && e + 1 < to && src[e + 1] === LF ? e + 2 : e + 1;
    if (e > p && src[p] !== COLON) {
      let colon = p;
      while (colon < e && src[colon] !== COLON) colon++;
      let vs = colon < e ? colon + 1 : e;
      if (vs < e && src[vs] === SPACE) vs++;
      const nameLen = colon - p;
      if (nameLen === 4 && src[p] === 0x64 && src[p + 1] === 0x61 && src[p + 2] === 0x74 && src[p + 3] === 0x61) {
        const v = src.toString('utf8', vs, e);
        data = data === undefined ? v : `${data}\n${v}`;
      } else if (nameLen === 5 || nameLen === 2) {
        const name = src.toString('latin1', p, colon);
        if (name === 'event') event = src.toString('utf8', vs, e);
        else if (name === 'id') {
          const v = src.toString('utf8', vs, e);
          if (!v.includes('\0')) id = v;
        } else if (name === 'retry') {
          const v = src.toString('latin1', vs, e);
          if (/^\d+$/.test(v)) retry = Number(v);
        }
      }
    }
    p = next;
  }
  if (data === undefined) return undefined;
  return { data, event, id, retry, start, end };
}

/** Parse a complete SSE text (e.g. a whole response body in a test), flushing the tail. */
export function parseSse(text: string | Uint8Array): SseEvent[] {
  const parser = new SseParser();
  return [...parser.feed(text), ...parser.flush()];
}

/** Events of a byte stream (an HTTP response body, a socket), flushing the tail at the end. */
export async function* readSseEvents(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const chunk of source) yield* parser.feed(chunk);
  yield* parser.flush();
}
