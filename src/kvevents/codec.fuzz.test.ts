import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { Rng, SwitchyardError } from '../core/index.js';
import { decodeKvEventBatch, encodeKvEventBatch } from './codec.js';
import type { KvCacheEvent, KvEventBatch } from './types.js';

const U64_MAX = 2n ** 64n - 1n;

function randomHash(rng: Rng): bigint {
  switch (rng.int(4)) {
    case 0: return BigInt(rng.int(300));
    case 1: return U64_MAX - BigInt(rng.int(3));
    default: return (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());
  }
}

function randomEvent(rng: Rng): KvCacheEvent {
  const hashes = Array.from({ length: rng.int(4) }, () => randomHash(rng));
  switch (rng.int(3)) {
    case 0: return {
      type: 'BlockStored',
      blockHashes: hashes,
      parentBlockHash: rng.int(2) === 0 ? null : randomHash(rng),
      tokenIds: Array.from({ length: rng.int(40) }, () => rng.int(2) === 0 ? rng.int(128) : rng.int(200_000)),
      blockSize: 1 + rng.int(32),
      loraId: rng.int(2) === 0 ? null : rng.int(1000),
      medium: rng.int(3) === 0 ? null : 'GPU',
      loraName: rng.int(3) === 0 ? 'lora-' + 'é'.repeat(rng.int(40)) : null,
    };
    case 1: return { type: 'BlockRemoved', blockHashes: hashes, medium: rng.int(2) === 0 ? null : 'CPU' };
    default: return { type: 'AllBlocksCleared' };
  }
}

function randomBatch(rng: Rng): KvEventBatch {
  return {
    ts: rng.int(2) === 0 ? 1_700_000_000 + rng.next() : rng.int(10),
    events: Array.from({ length: rng.int(20) }, () => randomEvent(rng)),
    dataParallelRank: rng.int(2) === 0 ? null : rng.int(8),
  };
}

/** A random msgpack-able value: the junk that replaces a field in the structural fuzz. */
function junk(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 7 : 9)) {
    case 0: return null;
    case 1: return rng.int(2) === 0;
    case 2: return rng.int(1000) - 500;
    case 3: return rng.next() * 1e6;
    case 4: return 'BlockStored'.slice(0, rng.int(12));
    case 5: return new Uint8Array(rng.int(12));
    case 6: return -(2n ** 63n) + BigInt(rng.int(10));
    case 7: return Array.from({ length: rng.int(4) }, () => junk(rng, depth + 1));
    default: return { type: junk(rng, depth + 1), block_hashes: junk(rng, depth + 1), ts: 1.5, events: [] };
  }
}

/** Plain msgpack-able form of a batch, in the array or map shape, with one random part replaced by junk. */
function corruptedStructure(rng: Rng, batch: KvEventBatch): unknown {
  const asMap = rng.int(2) === 0;
  const events: unknown[] = batch.events.map((e) => {
    if (e.type === 'BlockStored') {
      const f = [e.blockHashes, e.parentBlockHash, e.tokenIds, e.blockSize, e.loraId, e.medium];
      return asMap ? { type: e.type, block_hashes: f[0], parent_block_hash: f[1], token_ids: f[2], block_size: f[3], lora_id: f[4], medium: f[5] } : [e.type, ...f];
    }
    if (e.type === 'BlockRemoved') return asMap ? { type: e.type, block_hashes: e.blockHashes, medium: e.medium } : [e.type, e.blockHashes, e.medium];
    return asMap ? { type: e.type } : [e.type];
  });
  const root: unknown = asMap ? { ts: batch.ts, events } : [batch.ts, events];
  // Walk to a random container and replace (or add/remove) one random slot.
  let node: unknown = root;
  for (let depth = rng.int(5); depth > 0; depth--) {
    const children = Array.isArray(node) ? node : typeof node === 'object' && node !== null ? Object.values(node) : [];
    const containers = children.filter((c) => typeof c === 'object' && c !== null && !(c instanceof Uint8Array));
    if (containers.length === 0) break;
    node = containers[rng.int(containers.length)];
  }
  if (Array.isArray(node)) {
    const op = rng.int(3);
    if (op === 0 && node.length > 0) node.splice(rng.int(node.length), 1);
    else node[op === 1 ? node.length : rng.int(node.length + 1)] = junk(rng);
  } else if (typeof node === 'object' && node !== null && !(node instanceof Uint8Array)) {
    const obj = node as Record<string, unknown>;
    const keys = Object.keys(obj);
    const key = rng.int(4) === 0 ? 'x' : keys[rng.int(keys.length)] ?? 'x';
    if (rng.int(3) === 0) delete obj[key];
    else obj[key] = junk(rng);
  }
  return root;
}

/** Decoding either fails with invalid_argument or yields a batch that re-encodes to itself. */
function checkDecode(bytes: Uint8Array): 'ok' | 'rejected' {
  let batch: KvEventBatch;
  try {
    batch = decodeKvEventBatch(bytes);
  } catch (e) {
    if (!(e instanceof SwitchyardError) || e.code !== 'invalid_argument') throw e;
    return 'rejected';
  }
  expect(Number.isFinite(batch.ts)).toBe(true);
  for (const e of batch.events) {
    expect(['BlockStored', 'BlockRemoved', 'AllBlocksCleared']).toContain(e.type);
    if (e.type !== 'AllBlocksCleared') for (const h of e.blockHashes) expect(h >= 0n && h <= U64_MAX).toBe(true);
  }
  expect(decodeKvEventBatch(encodeKvEventBatch(batch, 'map'))).toEqual(batch);
  return 'ok';
}

describe('kv event codec: seeded fuzz', () => {
  it('round-trips 500 random valid batches in both encodings', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 500; i++) {
      const batch = randomBatch(rng);
      const expected = { ...batch, events: batch.events.map((e) => (e.type === 'BlockStored' ? { ...e, loraName: e.loraName ?? null } : e)) };
      expect(decodeKvEventBatch(encodeKvEventBatch(batch, 'array'))).toEqual(expected);
      expect(decodeKvEventBatch(encodeKvEventBatch(batch, 'map'))).toEqual(expected);
    }
  });

  it('random bytes never decode to garbage or throw anything but invalid_argument', () => {
    const rng = new Rng(2);
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(rng.int(64)).map(() => rng.int(256));
      // Bias the first byte toward containers so the fuzz gets past the first check.
      if (bytes.length > 0 && rng.int(2) === 0) bytes[0] = [0x92, 0x93, 0x82, 0x83, 0xdc][rng.int(5)]!;
      checkDecode(bytes);
    }
  });

  it('byte-mutated valid batches are rejected cleanly or decode to a valid batch', () => {
    const rng = new Rng(3);
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 2000; i++) {
      const bytes = encodeKvEventBatch(randomBatch(rng), rng.int(2) === 0 ? 'array' : 'map');
      if (bytes.length === 0) continue;
      for (let k = 1 + rng.int(3); k > 0; k--) bytes[rng.int(bytes.length)] = rng.int(256);
      counts[checkDecode(bytes)]++;
    }
    expect(counts.rejected).toBeGreaterThan(100);
  });

  it('structurally corrupted batches (junk in a random slot) are rejected cleanly or decode validly', () => {
    const rng = new Rng(4);
    const counts = { ok: 0, rejected: 0 };
    for (let i = 0; i < 2000; i++) {
      counts[checkDecode(encode(corruptedStructure(rng, randomBatch(rng)), { useBigInt64: true }))]++;
    }
    expect(counts.rejected).toBeGreaterThan(100);
    expect(counts.ok).toBeGreaterThan(10);
  });

  it('deeply nested junk in an ignored slot is skipped without recursion', () => {
    const depth = 200_000;
    const bytes = new Uint8Array(depth + 16);
    bytes.set([0x83, 0xa2, 0x74, 0x73, 0x01, 0xa6, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x73, 0x90, 0xa1, 0x78]); // {ts:1, events:[], x: ...
    bytes.fill(0x91, 15, 15 + depth); // [[[[...
    bytes[15 + depth] = 0xc0; // ...nil]]]]
    expect(decodeKvEventBatch(bytes.subarray(0, 16 + depth))).toEqual({ ts: 1, events: [], dataParallelRank: null });
  });
});
