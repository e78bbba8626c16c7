/**
 * Minimal, strict, schema-driven msgpack reader for the KV-event codec.
 *
 * The codec pulls exactly the types it expects (no intermediate generic object tree), decoding
 * hashes straight into bigint. Every read is bounds-checked; anything unexpected throws
 * SwitchyardError('invalid_argument') naming the field (`what`) and the msgpack type found.
 * `skip()` is iterative, so hostile nesting cannot overflow the stack.
 */
import { SwitchyardError } from '../core/index.js';
import { msgpackTypeName } from './msgpack-format.js';
import type { StrTable } from './msgpack-format.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MsgpackReader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private readonly end: number;
  pos = 0;
  /** Index of the event being decoded (prefixes error paths as `events[i].`), or -1. */
  eventIndex = -1;

  constructor(bytes: Uint8Array) {
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.byteLength;
  }

  fail(what: string, message: string): never {
    const path = this.eventIndex >= 0 ? `events[${this.eventIndex}].${what}` : what;
    throw new SwitchyardError('invalid_argument', `malformed kv event batch: ${path}: ${message}`, { param: path });
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) this.fail(what, `truncated at byte ${this.pos} (need ${n} more, have ${this.end - this.pos})`);
  }

  private mismatch(what: string, expected: string, b: number): never {
    return this.fail(what, `expected ${expected}, got ${msgpackTypeName(b)} at byte ${this.pos}`);
  }

  peek(what: string): number {
    this.need(1, what);
    return this.buf[this.pos] ?? 0;
  }

  /** Consumes a nil and returns true, or returns false leaving the position unchanged. */
  tryNil(what: string): boolean {
    if (this.peek(what) !== 0xc0) return false;
    this.pos++;
    return true;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) this.fail(what, `${this.end - this.pos} trailing bytes after the value`);
  }

  private u8(): number { return this.buf[this.pos++] ?? 0; }
  private u16(): number { const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  private u32(): number { const v = this.view.getUint32(this.pos); this.pos += 4; return v; }

  /** Reads a container length of `width` bytes after the type byte, then sanity-checks it. */
  private len(what: string, width: 0 | 1 | 2 | 4, b: number, perItem: number): number {
    this.pos++;
    this.need(width, what);
    const n = width === 0 ? b : width === 1 ? this.u8() : width === 2 ? this.u16() : this.u32();
    if (n * perItem > this.end - this.pos) this.fail(what, `length ${n} exceeds the ${this.end - this.pos} remaining bytes`);
    return n;
  }

  readArrayLen(what: string): number {
    const b = this.peek(what);
    if ((b & 0xf0) === 0x90) return this.len(what, 0, b & 0x0f, 1);
    if (b === 0xdc) return this.len(what, 2, b, 1);
    if (b === 0xdd) return this.len(what, 4, b, 1);
    return this.mismatch(what, 'array', b);
  }

  readMapLen(what: string): number {
    const b = this.peek(what);
    if ((b & 0xf0) === 0x80) return this.len(what, 0, b & 0x0f, 2);
    if (b === 0xde) return this.len(what, 2, b, 2);
    if (b === 0xdf) return this.len(what, 4, b, 2);
    return this.mismatch(what, 'map', b);
  }

  readStr(what: string): string {
    const b = this.peek(what);
    let n: number;
    if ((b & 0xe0) === 0xa0) n = this.len(what, 0, b & 0x1f, 1);
    else if (b === 0xd9) n = this.len(what, 1, b, 1);
    else if (b === 0xda) n = this.len(what, 2, b, 1);
    else if (b === 0xdb) n = this.len(what, 4, b, 1);
    else return this.mismatch(what, 'str', b);
    const start = this.pos;
    this.pos += n;
    if (n <= 24) {
      // Keys and tags are short ASCII: build the string directly, bail out to TextDecoder otherwise.
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = this.buf[i] ?? 0;
        if (c >= 0x80) return this.decodeUtf8(what, start, n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.decodeUtf8(what, start, n);
  }

  private decodeUtf8(what: string, start: number, n: number): string {
    try {
      return utf8.decode(this.buf.subarray(start, start + n));
    } catch {
      return this.fail(what, 'invalid UTF-8 in str');
    }
  }

  /**
   * If the next value is a str equal to an entry of `table`, consume it and return the entry's
   * index; otherwise return -1 and consume nothing (the caller then reads or skips it).
   */
  matchStr(what: string, table: StrTable): number {
    const b = this.peek(what);
    let start: number;
    let n: number;
    if ((b & 0xe0) === 0xa0) {
      start = this.pos + 1;
      n = b & 0x1f;
    } else if (b === 0xd9 && this.pos + 1 < this.end) {
      start = this.pos + 2;
      n = this.buf[this.pos + 1] ?? 0;
    } else {
      return -1;
    }
    const candidates = table.byLength[n];
    if (candidates === undefined || start + n > this.end) return -1;
    const buf = this.buf;
    outer: for (const [index, bytes] of candidates) {
      for (let i = 0; i < n; i++) if (buf[start + i] !== bytes[i]) continue outer;
      this.pos = start + n;
      return index;
    }
    return -1;
  }

  /** An array of safe integers, with a fast path for the common small forms. */
  readIntArray(what: string): number[] {
    const n = this.readArrayLen(what);
    const out: number[] = [];
    const buf = this.buf;
    const end = this.end;
    for (let i = 0; i < n; i++) {
      const p = this.pos;
      const b = buf[p] ?? 0xc1;
      if (b <= 0x7f && p < end) {
        out.push(b);
        this.pos = p + 1;
      } else if (b === 0xcd && p + 3 <= end) {
        out.push(((buf[p + 1] ?? 0) << 8) | (buf[p + 2] ?? 0));
        this.pos = p + 3;
      } else if (b === 0xce && p + 5 <= end) {
        out.push(this.view.getUint32(p + 1));
        this.pos = p + 5;
      } else {
        out.push(this.readInt(what));
      }
    }
    return out;
  }

  /** Any msgpack int that fits a JS safe integer. */
  readInt(what: string): number {
    const b = this.peek(what);
    if (b <= 0x7f) { this.pos++; return b; }
    if (b >= 0xe0) { this.pos++; return b - 0x100; }
    const p = this.pos + 1;
    const v = this.view;
    switch (b) {
      case 0xcc: this.need(2, what); this.pos += 2; return v.getUint8(p);
      case 0xcd: this.need(3, what); this.pos += 3; return v.getUint16(p);
      case 0xce: this.need(5, what); this.pos += 5; return v.getUint32(p);
      case 0xd0: this.need(2, what); this.pos += 2; return v.getInt8(p);
      case 0xd1: this.need(3, what); this.pos += 3; return v.getInt16(p);
      case 0xd2: this.need(5, what); this.pos += 5; return v.getInt32(p);
      case 0xcf: case 0xd3: {
        this.need(9, what);
        const big = b === 0xcf ? v.getBigUint64(p) : v.getBigInt64(p);
        if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
          this.fail(what, `integer ${big} is outside the safe integer range`);
        }
        this.pos += 9;
        return Number(big);
      }
      default: return this.mismatch(what, 'int', b);
    }
  }

  /**
   * A block hash as unsigned 64-bit bigint. Accepts every msgpack int form (negative values, from
   * older vLLM's signed Python hash(), are taken as their 64-bit two's complement) and bin (vLLM's
   * bytes hashes: the last 8 bytes, big-endian — `maybe_convert_block_hash`).
   */
  readHash(what: string): bigint {
    const b = this.peek(what);
    if (b <= 0x7f) { this.pos++; return BigInt(b); }
    const p = this.pos + 1;
    const v = this.view;
    switch (b) {
      case 0xcf: case 0xd3: this.need(9, what); this.pos += 9; return v.getBigUint64(p);
      case 0xcc: case 0xcd: case 0xce: return BigInt(this.readInt(what));
      case 0xc4: return this.binHash(what, 1);
      case 0xc5: return this.binHash(what, 2);
      case 0xc6: return this.binHash(what, 4);
      default:
        if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd2)) return BigInt.asUintN(64, BigInt(this.readInt(what)));
        return this.mismatch(what, 'int or bin hash', b);
    }
  }

  private binHash(what: string, width: 1 | 2 | 4): bigint {
    const n = this.len(what, width, 0, 1);
    const stop = this.pos + n;
    this.pos = stop;
    if (n >= 8) return this.view.getBigUint64(stop - 8);
    let h = 0n;
    for (let i = stop - n; i < stop; i++) h = (h << 8n) | BigInt(this.buf[i] ?? 0);
    return h;
  }

  /** float64/float32, or an int (msgspec float fields accept ints). */
  readFloat(what: string): number {
    const b = this.peek(what);
    if (b === 0xcb) { this.need(9, what); const x = this.view.getFloat64(this.pos + 1); this.pos += 9; return x; }
    if (b === 0xca) { this.need(5, what); const x = this.view.getFloat32(this.pos + 1); this.pos += 5; return x; }
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return this.readInt(what);
    return this.mismatch(what, 'float', b);
  }

  /** Skips one complete value of any type (iteratively). */
  skip(what: string): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const b = this.peek(what);
      let size: number;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) size = 1;
      else if (b <= 0x8f) { pending += 2 * (b & 0x0f); size = 1; }
      else if (b <= 0x9f) { pending += b & 0x0f; size = 1; }
      else if (b <= 0xbf) size = 1 + (b & 0x1f);
      else {
        this.need(fixedSize(b), what);
        const p = this.pos + 1;
        const v = this.view;
        switch (b) {
          case 0xc4: case 0xd9: size = 2 + v.getUint8(p); break;
          case 0xc5: case 0xda: size = 3 + v.getUint16(p); break;
          case 0xc6: case 0xdb: size = 5 + v.getUint32(p); break;
          case 0xc7: size = 3 + v.getUint8(p); break;
          case 0xc8: size = 4 + v.getUint16(p); break;
          case 0xc9: size = 6 + v.getUint32(p); break;
          case 0xdc: pending += v.getUint16(p); size = 3; break;
          case 0xdd: pending += v.getUint32(p); size = 5; break;
          case 0xde: pending += 2 * v.getUint16(p); size = 3; break;
          case 0xdf: pending += 2 * v.getUint32(p); size = 5; break;
          case 0xc1: return this.fail(what, `reserved byte 0xc1 at byte ${this.pos}`);
          default: size = fixedSize(b);
        }
      }
      this.need(size, what);
      this.pos += size;
    }
  }
}

/** Size of a fixed-size value, or of the header for variable-size types (0xc1 never reaches here). */
function fixedSize(b: number): number {
  switch (b) {
    case 0xc4: case 0xc7: case 0xcc: case 0xd0: case 0xd9: return 2;
    case 0xc5: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde: case 0xd4: return 3;
    case 0xc8: case 0xd5: return 4;
    case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd: case 0xdf: return 5;
    case 0xc9: case 0xd6: return 6;
    case 0xcb: case 0xcf: case 0xd3: return 9;
    case 0xd7: return 10;
    case 0xd8: return 18;
    default: return 1;
  }
}
