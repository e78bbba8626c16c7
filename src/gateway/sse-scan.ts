/**
 * An incremental SSE event-boundary scanner for the relay: it finds where events begin and end in
 * a byte stream without building event objects or decoding text, and hands each complete event
 * to a sink as a byte range. Only the sink decides which few events are worth decoding.
 *
 * Boundaries follow the same WHATWG rules as the openai SseParser (whose byte offsets it
 * reproduces exactly): lines end in `\n`, `\r\n` or `\r` (also when a `\r\n` pair is split across
 * chunks), a blank line ends an event. An event split across chunks is copied into one buffer
 * before it is handed over, so the sink always sees it contiguous; an event completed within a
 * chunk is handed over as a range of the chunk itself (no copy).
 *
 * `eventData()` extracts an event's data (the `data:` lines joined with `\n`, one space after the
 * colon dropped, a leading BOM of the stream ignored) exactly as the openai SseParser does, for
 * the events a sink cannot classify from their bytes.
 */
import { SwitchyardError } from '../core/index.js';

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const SHRINK_ABOVE = 1 << 20;
const EMPTY = Buffer.alloc(0);

export interface SseSink {
  /**
   * One complete event (or a blank line: a block without fields) occupying `src[from, to)`, its
   * terminating blank line included. `startAbs`/`endAbs` are its absolute offsets in the stream.
   * `lineEnd` ≥ 0 says the event is exactly one line `src[from, lineEnd)` ended by `\n`, then the
   * blank line `\n` (so `to === lineEnd + 2`), with no `\r` in it; -1 says nothing (any shape).
   * `src` is only valid during the call (it may be a reused internal buffer).
   */
  event(src: Buffer, from: number, to: number, startAbs: number, endAbs: number, lineEnd: number): void;
}

export class SseScanner {
  private buf: Buffer = EMPTY;
  private bufLen = 0;
  private pos = 0;
  private evStartAbs = 0;
  private atLineStart = true;
  /** 0: nothing; 1: skip a leading LF (CR ended a line); 2: same, and it ended an event. */
  private skipLF: 0 | 1 | 2 = 0;

  constructor(
    private readonly sink: SseSink,
    private readonly maxEventBytes = 16 * 1024 * 1024,
  ) {}

  /** Total bytes fed so far. */
  get position(): number {
    return this.pos;
  }

  /** Bytes buffered for an event that has not ended yet. */
  get pendingBytes(): number {
    return this.bufLen;
  }

  /** Absolute offset where the current (unfinished) event starts: everything before it is complete. */
  get boundary(): number {
    return this.pos - this.bufLen;
  }

  /** Consume a chunk; the sink is called for every event it completes. Throws `upstream_error` for an event over maxEventBytes. */
  feed(bytes: Buffer): void {
    const n = bytes.length;
    const chunkStart = this.pos;
    this.pos += n;
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
    if (nextCR === -1) {
      // The usual case: no CR anywhere in the chunk, so every terminator is a lone LF. Count the
      // lines of the current event (in this chunk) to tell the sink about one-line events.
      let lines = 0;
      let firstLF = -1;
      while (i < n) {
        // A blank line right after a line end is the usual end of an event: no search for it.
        const t = bytes[i] === LF ? i : bytes.indexOf(LF, i);
        if (t === -1) {
          this.atLineStart = false;
          break;
        }
        const termEnd = t + 1;
        if (t > i) this.atLineStart = false;
        if (this.atLineStart) {
          this.dispatch(bytes, evStart, termEnd, chunkStart + termEnd, lines === 1 && evStart < firstLF ? firstLF : -1);
          evStart = termEnd;
          lines = 0;
        } else {
          this.atLineStart = true;
          if (lines++ === 0) firstLF = t;
        }
        i = termEnd;
      }
    } else {
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
          this.dispatch(bytes, evStart, termEnd, chunkStart + termEnd, -1);
          evStart = termEnd;
          if (crAtEnd) this.skipLF = 2;
        } else {
          this.atLineStart = true;
          if (crAtEnd) this.skipLF = 1;
        }
        i = termEnd;
      }
    }
    if (evStart < n) this.stash(bytes, evStart, n);
  }

  private dispatch(bytes: Buffer, from: number, to: number, endAbs: number, lineEnd: number): void {
    const start = this.evStartAbs;
    this.evStartAbs = endAbs;
    if (this.bufLen === 0) {
      this.sink.event(bytes, from, to, start, endAbs, lineEnd);
      return;
    }
    this.stash(bytes, from, to);
    const len = this.bufLen;
    this.bufLen = 0;
    this.sink.event(this.buf, 0, len, start, endAbs, -1);
    if (this.buf.length > SHRINK_ABOVE) this.buf = EMPTY;
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

/** A byte range within a buffer. */
export interface ValueRange {
  start: number;
  end: number;
}

/**
 * The value range of an event that is exactly one `data:` line followed by its blank line
 * (`data: V\n\n`, `data:V\r\n\r\n`, …), or null for any other shape (several lines, other
 * fields, comments, a BOM-prefixed first event: it does not start with `data:`), which callers
 * decode with eventData(). `lineEnd` is the sink's hint (see SseSink.event). `out` is filled and
 * returned to avoid an allocation per event.
 */
export function singleDataValue(src: Buffer, from: number, to: number, lineEnd: number, out: ValueRange): ValueRange | null {
  // "data:"
  if (to - from < 7 || src[from] !== 0x64 || src[from + 1] !== 0x61 || src[from + 2] !== 0x74 || src[from + 3] !== 0x61 || src[from + 4] !== COLON) return null;
  let vs = from + 5;
  let ve: number;
  if (lineEnd >= 0) {
    ve = lineEnd;
  } else {
    // Strip the blank line's terminator, then the data line's.
    const e = stripTerminator(src, from, to);
    if (e < 0) return null;
    ve = stripTerminator(src, from, e);
    if (ve < vs) return null;
    // The value must hold no line terminator (else the event has more lines).
    const lf = src.indexOf(LF, vs);
    if (lf !== -1 && lf < ve) return null;
    const cr = src.indexOf(CR, vs);
    if (cr !== -1 && cr < ve) return null;
  }
  if (vs < ve && src[vs] === SPACE) vs++;
  out.start = vs;
  out.end = ve;
  return out;
}

/** `e` minus the line terminator that ends at `e` (LF, CRLF or CR), or -1 if none does. */
function stripTerminator(src: Buffer, from: number, e: number): number {
  if (e <= from) return -1;
  const last = src[e - 1];
  if (last === LF) return e - 2 >= from && src[e - 2] === CR ? e - 2 : e - 1;
  if (last === CR) return e - 1;
  return -1;
}

/**
 * The data of the event in `src[from, to)` (data lines joined with `\n`), or undefined if it has
 * no data field — exactly what the openai SseParser reports as `SseEvent.data`.
 */
export function eventData(src: Buffer, from: number, to: number, startAbs: number): string | undefined {
  let p = from;
  if (startAbs === 0 && src[p] === 0xef && src[p + 1] === 0xbb && src[p + 2] === 0xbf) p += 3;
  let data: string | undefined;
  while (p < to) {
    let e = p;
    while (e < to && src[e] !== LF && src[e] !== CR) e++;
    const next = src[e] === CR && e + 1 < to && src[e + 1] === LF ? e + 2 : e + 1;
    if (e > p && src[p] !== COLON) {
      let colon = p;
      while (colon < e && src[colon] !== COLON) colon++;
      if (colon - p === 4 && src[p] === 0x64 && src[p + 1] === 0x61 && src[p + 2] === 0x74 && src[p + 3] === 0x61) {
        let vs = colon < e ? colon + 1 : e;
        if (vs < e && src[vs] === SPACE) vs++;
        const v = src.toString('utf8', vs, e);
        data = data === undefined ? v : `${data}\n${v}`;
      }
    }
    p = next;
  }
  return data;
}
