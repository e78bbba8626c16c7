/**
 * Minimal msgpack writer for the KV-event codec (spec: https://github.com/msgpack/msgpack/blob/master/spec.md).
 *
 * Hand-written rather than @msgpack/msgpack because the wire needs two things that library cannot
 * express per field: `ts` as float64 (0xcb) even when integral, while every other number stays an
 * integer. Integers use the smallest msgpack form (as msgspec does); unsigned 64-bit hashes at or
 * above 2^32 are written as uint64 (0xcf).
 */

const textEncoder = new TextEncoder();
const TWO_32 = 0x1_0000_0000;
const TWO_32N = 0x1_0000_0000n;

export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Start a new message, reusing the buffer. Shrinks it if a previous message made it huge. */
  reset(maxRetained = 1 << 20): void {
    this.pos = 0;
    if (this.buf.length > maxRetained) {
      this.buf = new Uint8Array(4096);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** A right-sized copy of everything written since reset(). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Bytes that are already valid msgpack (e.g. a pre-encoded key). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc, 0xdd);
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde, 0xdf);
  }

  private header(n: number, fix: number, b16: number, b32: number): void {
    this.ensure(5);
    if (n < 16) {
      this.buf[this.pos++] = fix | n;
    } else if (n < 0x10000) {
      this.buf[this.pos] = b16;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.buf[this.pos] = b32;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }

  /** A safe integer (the caller validates), in its smallest msgpack form. */
  int(n: number): void {
    this.ensure(9);
    const p = this.pos;
    const buf = this.buf;
    if (n >= 0) {
      if (n < 0x80) {
        buf[p] = n;
        this.pos = p + 1;
      } else if (n < 0x100) {
        buf[p] = 0xcc;
        buf[p + 1] = n;
        this.pos = p + 2;
      } else if (n < 0x10000) {
        buf[p] = 0xcd;
        this.view.setUint16(p + 1, n);
        this.pos = p + 3;
      } else if (n < TWO_32) {
        buf[p] = 0xce;
        this.view.setUint32(p + 1, n);
        this.pos = p + 5;
      } else {
        buf[p] = 0xcf;
        this.view.setUint32(p + 1, Math.floor(n / TWO_32));
        this.view.setUint32(p + 5, n >>> 0);
        this.pos = p + 9;
      }
    } else if (n >= -32) {
      buf[p] = n & 0xff;
      this.pos = p + 1;
    } else if (n >= -0x80) {
      buf[p] = 0xd0;
      this.view.setInt8(p + 1, n);
      this.pos = p + 2;
    } else if (n >= -0x8000) {
      buf[p] = 0xd1;
      this.view.setInt16(p + 1, n);
      this.pos = p + 3;
    } else if (n >= -0x8000_0000) {
      buf[p] = 0xd2;
      this.view.setInt32(p + 1, n);
      this.pos = p + 5;
    } else {
      buf[p] = 0xd3;
      this.view.setBigInt64(p + 1, BigInt(n));
      this.pos = p + 9;
    }
  }

  /** An unsigned 64-bit value in [0, 2^64) (the caller validates). uint64 (0xcf) from 2^32 up. */
  uint64(v: bigint): void {
    if (v < TWO_32N) {
      this.int(Number(v));
      return;
    }
    this.ensure(9);
    this.buf[this.pos] = 0xcf;
    this.view.setBigUint64(this.pos + 1, v);
    this.pos += 9;
  }

  /** Always float64 (0xcb), even for integral values. */
  float64(x: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, x);
    this.pos += 9;
  }

  str(s: string): void {
    // Worst case 3 UTF-8 bytes per UTF-16 unit; write after a 5-byte header slot, then compact.
    const max = s.length * 3;
    this.ensure(5 + max);
    const start = this.pos;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(start + 5, start + 5 + max));
    let headerLen: number;
    if (written < 32) {
      this.buf[start] = 0xa0 | written;
      headerLen = 1;
    } else if (written < 0x100) {
      this.buf[start] = 0xd9;
      this.buf[start + 1] = written;
      headerLen = 2;
    } else if (written < 0x10000) {
      this.buf[start] = 0xda;
      this.view.setUint16(start + 1, written);
      headerLen = 3;
    } else {
      this.buf[start] = 0xdb;
      this.view.setUint32(start + 1, written);
      headerLen = 5;
    }
    if (headerLen !== 5) this.buf.copyWithin(start + headerLen, start + 5, start + 5 + written);
    this.pos = start + headerLen + written;
  }
}

/** msgpack encoding of a constant string (keys, tags), computed once. */
export function encodedStr(s: string): Uint8Array {
  const w = new MsgpackWriter(64);
  w.str(s);
  return w.toBytes();
}
