/**
 * msgpack format facts used by the reader and the codec: type names for error messages, container
 * detection, and byte-matched string tables (spec: https://github.com/msgpack/msgpack/blob/master/spec.md).
 */

/** Human name of the msgpack type that starts with byte `b` (for error messages). */
export function msgpackTypeName(b: number): string {
  if (b <= 0x7f || b >= 0xe0) return 'int';
  if (b <= 0x8f) return 'map';
  if (b <= 0x9f) return 'array';
  if (b <= 0xbf) return 'str';
  switch (b) {
    case 0xc0: return 'nil';
    case 0xc1: return 'reserved byte 0xc1';
    case 0xc2: case 0xc3: return 'bool';
    case 0xc4: case 0xc5: case 0xc6: return 'bin';
    case 0xca: case 0xcb: return 'float';
    case 0xd9: case 0xda: case 0xdb: return 'str';
    case 0xdc: case 0xdd: return 'array';
    case 0xde: case 0xdf: return 'map';
    default: return b >= 0xcc && b <= 0xd3 ? 'int' : 'ext';
  }
}

export function isArrayByte(b: number): boolean {
  return (b & 0xf0) === 0x90 || b === 0xdc || b === 0xdd;
}

export function isMapByte(b: number): boolean {
  return (b & 0xf0) === 0x80 || b === 0xde || b === 0xdf;
}

/** A set of known strings, matched by their UTF-8 bytes without allocating (see matchStr). */
export interface StrTable {
  readonly strings: readonly string[];
  /** byLength[n] = [index, utf8 bytes] of the entries whose UTF-8 length is n. */
  readonly byLength: ReadonlyArray<ReadonlyArray<readonly [number, Uint8Array]> | undefined>;
}

export function strTable(strings: readonly string[]): StrTable {
  const byLength: Array<Array<readonly [number, Uint8Array]> | undefined> = [];
  strings.forEach((s, i) => {
    const bytes = new TextEncoder().encode(s);
    if (bytes.length > 0xff) throw new RangeError('strTable entries must be shorter than 256 bytes');
    (byLength[bytes.length] ??= []).push([i, bytes]);
  });
  return { strings, byLength };
}
