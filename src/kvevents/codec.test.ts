import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { decodeKvEventBatch, decodeKvEventBatchWithEncoding, encodeKvEventBatch } from './codec.js';
import type { KvCacheEvent, KvEventBatch, KvEventEncoding } from './types.js';

const U64_MAX = 2n ** 64n - 1n;
const ENCODINGS: KvEventEncoding[] = ['array', 'map'];

/** What the decoder returns: dataParallelRank and BlockStored.loraName always present. */
function normalized(batch: KvEventBatch): KvEventBatch {
  return {
    ts: batch.ts,
    events: batch.events.map((e): KvCacheEvent => (e.type === 'BlockStored' ? { ...e, loraName: e.loraName ?? null } : e)),
    dataParallelRank: batch.dataParallelRank ?? null,
  };
}

function hasBytes(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const sample: KvEventBatch = {
  ts: 1_717_171_717.25,
  events: [
    { type: 'BlockStored', blockHashes: [U64_MAX, 2n ** 63n, 0n, 127n, 128n, 65_536n, 2n ** 32n], parentBlockHash: null, tokenIds: [1, 2, 3, 128_000], blockSize: 16, loraId: null, medium: 'GPU' },
    { type: 'BlockStored', blockHashes: [42n], parentBlockHash: U64_MAX - 1n, tokenIds: [], blockSize: 16, loraId: 7, medium: null, loraName: 'adapter-ü' },
    { type: 'BlockRemoved', blockHashes: [U64_MAX, 1n], medium: 'GPU' },
    { type: 'BlockRemoved', blockHashes: [], medium: null },
    { type: 'AllBlocksCleared' },
  ],
  dataParallelRank: 3,
};

describe('kv event codec: round trips', () => {
  for (const encoding of ENCODINGS) {
    it(`round-trips every event shape (${encoding})`, () => {
      const bytes = encodeKvEventBatch(sample, encoding);
      expect(decodeKvEventBatchWithEncoding(bytes)).toEqual({ batch: normalized(sample), encoding });
    });
    it(`round-trips empty events, integral ts and absent rank (${encoding})`, () => {
      const batch: KvEventBatch = { ts: 1_700_000_000, events: [] };
      const bytes = encodeKvEventBatch(batch, encoding);
      expect(decodeKvEventBatch(bytes)).toEqual({ ts: 1_700_000_000, events: [], dataParallelRank: null });
      // ts is float64 (0xcb) right after the container header even though it is integral.
      const tsAt = encoding === 'array' ? 1 : 4; // 0x92 | 0x82 0xa2 't' 's'
      expect(bytes[tsAt]).toBe(0xcb);
    });
    it(`writes uint64 max as 0xcf ff*8 and reads it back (${encoding})`, () => {
      const bytes = encodeKvEventBatch({ ts: 1, events: [{ type: 'BlockRemoved', blockHashes: [U64_MAX], medium: null }] }, encoding);
      expect(hasBytes(bytes, [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).toBe(true);
      const e = decodeKvEventBatch(bytes).events[0];
      expect(e?.type === 'BlockRemoved' && e.blockHashes[0]).toBe(U64_MAX);
    });
  }

  it('converts between encodings losslessly', () => {
    const viaArray = decodeKvEventBatch(encodeKvEventBatch(sample, 'array'));
    expect(decodeKvEventBatch(encodeKvEventBatch(viaArray, 'map'))).toEqual(normalized(sample));
  });

  it('rejects unencodable batches with invalid_argument naming the field', () => {
    const bad = (events: unknown[], extra: Record<string, unknown> = {}): (() => Uint8Array) => () =>
      encodeKvEventBatch({ ts: 1, events, ...extra } as unknown as KvEventBatch, 'map');
    const stored = { type: 'BlockStored', blockHashes: [1n], parentBlockHash: null, tokenIds: [1], blockSize: 1, loraId: null, medium: null };
    expect(bad([{ ...stored, blockHashes: [2n ** 64n] }])).toThrow(/events\[0\]\.block_hashes\[0\]/);
    expect(bad([{ ...stored, blockHashes: [-1n] }])).toThrow(SwitchyardError);
    expect(bad([{ ...stored, blockHashes: [5] }])).toThrow(/bigint/);
    expect(bad([{ ...stored, tokenIds: [1.5] }])).toThrow(/token_ids\[0\]/);
    expect(bad([{ type: 'Nope' }])).toThrow(/unknown event type/);
    expect(bad([], { ts: Number.NaN })).toThrow(/ts/);
    expect(bad([], { dataParallelRank: 0.5 })).toThrow(/data_parallel_rank/);
  });
});

describe('kv event codec: wire compatibility with vLLM (checked with plain @msgpack/msgpack)', () => {
  it('map form uses vLLM field names and a "type" tag', () => {
    const raw = decode(encodeKvEventBatch(sample, 'map'), { useBigInt64: true }) as Record<string, unknown>;
    expect(Object.keys(raw)).toEqual(['ts', 'events', 'data_parallel_rank']);
    expect(raw.ts).toBe(sample.ts);
    expect(raw.data_parallel_rank).toBe(3);
    const [stored, stored2, removed, , cleared] = raw.events as Array<Record<string, unknown>>;
    expect(stored).toEqual({
      type: 'BlockStored',
      block_hashes: [U64_MAX, 2n ** 63n, 0, 127, 128, 65_536, 2n ** 32n],
      parent_block_hash: null,
      token_ids: [1, 2, 3, 128_000],
      block_size: 16,
      lora_id: null,
      medium: 'GPU',
      lora_name: null,
    });
    expect(Object.keys(stored!)).toEqual(['type', 'block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name']);
    expect(stored2!.lora_name).toBe('adapter-ü');
    expect(removed).toEqual({ type: 'BlockRemoved', block_hashes: [U64_MAX, 1], medium: 'GPU' });
    expect(cleared).toEqual({ type: 'AllBlocksCleared' });
  });

  it('map form omits data_parallel_rank when absent (omit_defaults)', () => {
    const raw = decode(encodeKvEventBatch({ ts: 2.5, events: [] }, 'map'), { useBigInt64: true });
    expect(raw).toEqual({ ts: 2.5, events: [] });
  });

  it('array form is [ts, events, rank?] with the tag first and vLLM field order', () => {
    const raw = decode(encodeKvEventBatch(sample, 'array'), { useBigInt64: true }) as unknown[];
    expect(raw).toHaveLength(3);
    expect(raw[0]).toBe(sample.ts);
    expect(raw[2]).toBe(3);
    const [stored, stored2, removed, , cleared] = raw[1] as unknown[][];
    expect(stored).toEqual(['BlockStored', [U64_MAX, 2n ** 63n, 0, 127, 128, 65_536, 2n ** 32n], null, [1, 2, 3, 128_000], 16, null, 'GPU']);
    expect(stored2).toEqual(['BlockStored', [42], U64_MAX - 1n, [], 16, 7, null, 'adapter-ü']);
    expect(removed).toEqual(['BlockRemoved', [U64_MAX, 1], 'GPU']);
    expect(cleared).toEqual(['AllBlocksCleared']);
    expect(decode(encodeKvEventBatch({ ts: 2.5, events: [] }, 'array'))).toEqual([2.5, []]);
  });

  it('why not @msgpack/msgpack for encoding: it writes an integral ts as an int, not float64', () => {
    expect(encode([1, []])[1]).toBe(0x01);
    expect(encodeKvEventBatch({ ts: 1, events: [] }, 'array')[1]).toBe(0xcb);
    // useBigInt64 itself is right for hashes: uint64 max → 0xcf.
    expect(Array.from(encode(U64_MAX, { useBigInt64: true }))).toEqual([0xcf, 255, 255, 255, 255, 255, 255, 255, 255]);
  });
});

describe('kv event codec: decoding other vLLM versions', () => {
  const enc = (v: unknown): Uint8Array => encode(v, { useBigInt64: true });

  it('array events without medium / lora_id (older vLLM) read them as null', () => {
    const batch = decodeKvEventBatch(enc([1.5, [['BlockStored', [1n], null, [9, 9], 2, 5], ['BlockStored', [2n], 1n, [9, 9], 2], ['BlockRemoved', [1n]]]]));
    expect(batch.events).toEqual([
      { type: 'BlockStored', blockHashes: [1n], parentBlockHash: null, tokenIds: [9, 9], blockSize: 2, loraId: 5, medium: null, loraName: null },
      { type: 'BlockStored', blockHashes: [2n], parentBlockHash: 1n, tokenIds: [9, 9], blockSize: 2, loraId: null, medium: null, loraName: null },
      { type: 'BlockRemoved', blockHashes: [1n], medium: null },
    ]);
  });

  it('array events with extra trailing fields (newer vLLM) keep lora_name and ignore the rest', () => {
    const batch = decodeKvEventBatch(enc([1.5, [['BlockStored', [1n], null, [9], 1, null, 'GPU', 'my-lora', [[1, 'x']], 0, 'full'], ['BlockRemoved', [3n], 'CPU', 0], ['AllBlocksCleared', 'extra']], 0, 'future']));
    expect(batch).toEqual({
      ts: 1.5,
      dataParallelRank: 0,
      events: [
        { type: 'BlockStored', blockHashes: [1n], parentBlockHash: null, tokenIds: [9], blockSize: 1, loraId: null, medium: 'GPU', loraName: 'my-lora' },
        { type: 'BlockRemoved', blockHashes: [3n], medium: 'CPU' },
        { type: 'AllBlocksCleared' },
      ],
    });
  });

  it('map events with unknown keys (extra_keys, group_idx, kv_cache_spec_kind...) and any key order', () => {
    const batch = decodeKvEventBatch(enc({
      future_batch_key: { nested: [1, 2, { deep: true }] },
      events: [
        { block_hashes: [10n], type: 'BlockStored', parent_block_hash: 9n, token_ids: [1], block_size: 1, lora_id: null, medium: 'GPU', lora_name: null, extra_keys: [null, [1, 'salt']], group_idx: 1, kv_cache_spec_kind: 'sliding_window', kv_cache_spec_sliding_window: 4096 },
        { type: 'BlockRemoved', block_hashes: [10n], medium: 'GPU', group_idx: 1 },
      ],
      ts: 3.25,
    }));
    expect(batch).toEqual({
      ts: 3.25,
      dataParallelRank: null,
      events: [
        { type: 'BlockStored', blockHashes: [10n], parentBlockHash: 9n, tokenIds: [1], blockSize: 1, loraId: null, medium: 'GPU', loraName: null },
        { type: 'BlockRemoved', blockHashes: [10n], medium: 'GPU' },
      ],
    });
  });

  it('bin hashes (bytes mode) take the last 8 bytes big-endian, like maybe_convert_block_hash', () => {
    const h32 = new Uint8Array(32).map((_, i) => i);
    const batch = decodeKvEventBatch(enc({ ts: 1, events: [
      { type: 'BlockStored', block_hashes: [h32, new Uint8Array([1, 2])], parent_block_hash: new Uint8Array(8).fill(0xff), token_ids: [], block_size: 16, lora_id: null, medium: null },
      { type: 'BlockRemoved', block_hashes: [new Uint8Array(0)], medium: null },
    ] }));
    const [stored, removed] = batch.events;
    expect(stored).toMatchObject({ blockHashes: [0x18191a1b1c1d1e1fn, 0x0102n], parentBlockHash: U64_MAX });
    expect(removed).toMatchObject({ blockHashes: [0n] });
  });

  it('every msgpack int width decodes to the same unsigned bigint; negatives as two\'s complement', () => {
    // fixint, uint8, uint16, uint32, uint64, negative fixint, int8, int16, int32, int64
    const hashes = [5, 200, 60_000, 4_000_000_000, 2n ** 63n + 5n, -1, -100, -30_000, -2_000_000_000, -(2n ** 62n)];
    const batch = decodeKvEventBatch(enc([1, [['BlockRemoved', hashes, null]]]));
    const e = batch.events[0];
    expect(e?.type === 'BlockRemoved' && e.blockHashes).toEqual([5n, 200n, 60_000n, 4_000_000_000n, 2n ** 63n + 5n, U64_MAX, 2n ** 64n - 100n, 2n ** 64n - 30_000n, 2n ** 64n - 2_000_000_000n, 2n ** 64n - 2n ** 62n]);
    expect(batch.ts).toBe(1); // an int ts is accepted, as by msgspec
  });

  it('the first vLLM release\'s num_toks_per_block list in place of block_size', () => {
    const e = decodeKvEventBatch(enc([1.0, [['BlockStored', [1n], null, [1, 2], [2], null]]])).events[0];
    expect(e).toMatchObject({ type: 'BlockStored', blockSize: 2 });
  });
});

describe('kv event codec: malformed input', () => {
  const enc = (v: unknown): Uint8Array => encode(v, { useBigInt64: true });
  const decodeError = (bytes: Uint8Array): SwitchyardError => {
    try {
      decodeKvEventBatch(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(SwitchyardError);
      return e as SwitchyardError;
    }
    throw new Error('expected a decode error');
  };

  it.each([
    ['empty input', new Uint8Array(0), /batch: truncated/],
    ['a bare int', enc(7), /batch: expected array or map, got int/],
    ['a short array batch', enc([1.0]), /expected \[ts, events/],
    ['a string ts', enc(['x', []]), /ts: expected float, got str/],
    ['a NaN ts', enc([Number.NaN, []]), /ts: expected a finite number/],
    ['events not an array', enc({ ts: 1, events: 5 }), /events: expected array, got int/],
    ['missing ts', enc({ events: [] }), /missing key "ts"/],
    ['missing events', enc({ ts: 1.5 }), /missing key "events"/],
    ['an event that is a string', enc([1, ['BlockStored']]), /events\[0\]\.event: expected array or map/],
    ['an unknown tag', enc([1, [['AllBlocksCleared'], ['BlockPinned', [1]]]]), /events\[1\]\.type: unknown event type "BlockPinned"/],
    ['a map event without type', enc([1, [{ block_hashes: [] }]]), /events\[0\]\.event: missing key "type"/],
    ['a BlockStored without token_ids', enc([1, [{ type: 'BlockStored', block_hashes: [], block_size: 1 }]]), /missing key "token_ids"/],
    ['too few BlockStored fields', enc([1, [['BlockStored', [1], null]]]), /need at least 4/],
    ['a string hash', enc([1, [['BlockRemoved', ['abc'], null]]]), /events\[0\]\.block_hashes: expected int or bin hash, got str/],
    ['a float token id', enc([1, [['BlockStored', [1], null, [1.5], 1, null, null]]]), /token_ids: expected int, got float/],
    ['a token id beyond 2^53', enc([1, [['BlockStored', [1], null, [2n ** 60n], 1, null, null]]]), /outside the safe integer range/],
    ['a negative block size', enc([1, [['BlockStored', [1], null, [], -1, null, null]]]), /block_size: must be >= 0/],
    ['a non-string medium', enc([1, [['BlockRemoved', [1], 5]]]), /medium: expected str, got int/],
    ['a non-int rank', enc([1, [], 'zero']), /data_parallel_rank: expected int, got str/],
    ['trailing bytes', new Uint8Array([...enc([1.5, []]), 0x00]), /1 trailing bytes/],
    ['a lying array length', new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xcb]), /exceeds the 1 remaining bytes/],
    ['invalid UTF-8', new Uint8Array([0x92, 0x01, 0x91, 0x91, 0xa2, 0xc3, 0x28]), /invalid UTF-8/],
    ['reserved byte 0xc1', new Uint8Array([0x82, 0xa1, 0x78, 0xc1, 0xa2, 0x74, 0x73, 0x01]), /reserved byte 0xc1/],
  ])('rejects %s', (_name, bytes, message) => {
    const e = decodeError(bytes);
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toMatch(message);
  });

  it('rejects every truncation of a valid batch, in both encodings', () => {
    for (const encoding of ENCODINGS) {
      const bytes = encodeKvEventBatch(sample, encoding);
      for (let n = 0; n < bytes.length; n++) expect(decodeError(bytes.subarray(0, n)).message).toMatch(/truncated|exceeds/);
    }
  });

  it('rejects a non-Uint8Array argument', () => {
    expect(() => decodeKvEventBatch('nope' as unknown as Uint8Array)).toThrow(SwitchyardError);
  });
});
