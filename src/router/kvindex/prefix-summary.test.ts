/**
 * PrefixSummary: wire format, size bounds, the filter's false-positive rate, and a differential
 * test against the exact index (KvBlockIndex, max over a cluster's backends) on seeded random
 * event streams: never below the best checkpoint under the exact answer, and above the exact
 * answer only through a false positive of the filter.
 */
import { describe, expect, it } from 'vitest';
import { Rng, SwitchyardError } from '../../core/index.js';
import { randomCase } from './differential.js';
import { kvPrefixHashes } from './hash.js';
import { KvBlockIndex } from './kv-index.js';
import { PREFIX_SUMMARY_HEADER_BYTES, PrefixSummary, type PrefixBlockSource } from './prefix-summary.js';
import { ReferenceKvIndex } from './reference.js';
import { applyStep } from './steps.js';

/** A source of explicit hashes: pairs [hi, lo]. */
const sourceOf = (pairs: readonly (readonly [number, number])[], blockSize = 16): PrefixBlockSource => ({
  blockSize,
  forEachBlock: (cb) => {
    for (const [hi, lo] of pairs) cb(hi, lo);
  },
});

function randomPairs(rng: Rng, n: number): [number, number][] {
  return Array.from({ length: n }, () => [rng.nextU32(), rng.nextU32()] as [number, number]);
}

/** Largest checkpoint position (1-based) ≤ k of `hashes` at level s. */
function bestCheckpoint(hashes: Uint32Array, k: number, s: number): number {
  let best = 0;
  for (let i = 0; i < k; i++) if (Math.clz32(hashes[2 * i]!) >= s) best = i + 1;
  return best;
}

describe('PrefixSummary: wire format', () => {
  it('round-trips through encode/decode, empty and full', () => {
    const rng = new Rng(1);
    for (const pairs of [[], randomPairs(rng, 10), randomPairs(rng, 5000)]) {
      const s = PrefixSummary.build(sourceOf(pairs));
      const bytes = s.encode();
      expect(bytes.length).toBe(s.byteLength);
      const back = PrefixSummary.decode(bytes);
      expect(back.equals(s)).toBe(true);
      expect({ blockSize: back.blockSize, entries: back.entries, blocks: back.blocks, sampleShift: back.sampleShift }).toEqual({ blockSize: 16, entries: pairs.length, blocks: pairs.length, sampleShift: 0 });
      for (const [hi, lo] of pairs) expect(back.mayHold(hi, lo)).toBe(true);
    }
    expect(PrefixSummary.empty(16).byteLength).toBe(PREFIX_SUMMARY_HEADER_BYTES + 4);
  });

  it.each([
    ['shorter than its header', (b: Uint8Array) => b.slice(0, 10), /shorter than the 24-byte header/],
    ['without the magic', (b: Uint8Array) => (b[0] = 0, b), /magic/],
    ['of another version', (b: Uint8Array) => (b[4] = 9, b), /unsupported version 9/],
    ['with a truncated filter', (b: Uint8Array) => b.slice(0, b.length - 4), /header describes/],
    ['with no hash functions', (b: Uint8Array) => (b[6] = 0, b), /0 hash functions/],
    ['with more checkpoints than blocks', (b: Uint8Array) => (new DataView(b.buffer).setUint32(12, 99, true), b), /99 checkpoints out of 3 blocks/],
  ])('rejects bytes %s (invalid_request, param summary)', (_what, mangle, message) => {
    const good = PrefixSummary.build(sourceOf([[1, 2], [3, 4], [5, 6]])).encode();
    try {
      PrefixSummary.decode(mangle(good));
      expect.fail('decoded');
    } catch (e) {
      expect(e).toBeInstanceOf(SwitchyardError);
      expect((e as SwitchyardError).code).toBe('invalid_request');
      expect((e as SwitchyardError).param).toBe('summary');
      expect((e as Error).message).toMatch(message);
    }
  });

  it('rejects more bytes than the limit with payload_too_large', () => {
    const bytes = PrefixSummary.build(sourceOf(randomPairs(new Rng(2), 1000))).encode();
    expect(() => PrefixSummary.decode(bytes, { maxBytes: 100 })).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });

  it('rejects impossible options', () => {
    expect(() => PrefixSummary.build(sourceOf([]), { maxBytes: 8 })).toThrow(/maxBytes/);
    expect(() => PrefixSummary.build(sourceOf([]), { falsePositiveRate: 0 })).toThrow(/falsePositiveRate/);
    expect(() => PrefixSummary.build(sourceOf([]), { minSampleShift: 40 })).toThrow(/minSampleShift/);
  });
});

describe('PrefixSummary: size bound and false-positive rate', () => {
  it.each([
    [1_000, 64 * 1024],
    [50_000, 64 * 1024],
    [400_000, 64 * 1024],
    [2_000_000, 64 * 1024],
    [200_000, 4 * 1024],
  ])('%i distinct blocks within %i bytes: checkpoints thin out, the false-positive rate stays near 1 percent', (n, maxBytes) => {
    const rng = new Rng(n);
    const pairs = randomPairs(rng, n);
    const s = PrefixSummary.build(sourceOf(pairs), { maxBytes });
    expect(s.byteLength).toBeLessThanOrEqual(maxBytes);
    expect(s.blocks).toBe(n);
    // The level is the lowest that fits: about n / 2^shift checkpoints.
    const expected = pairs.filter(([hi]) => Math.clz32(hi) >= s.sampleShift).length;
    expect(s.entries).toBe(expected);
    if (s.sampleShift > 0) {
      const below = pairs.filter(([hi]) => Math.clz32(hi) >= s.sampleShift - 1).length;
      expect(below * 9.585, 'the level below would not have fit').toBeGreaterThan((maxBytes - PREFIX_SUMMARY_HEADER_BYTES) * 8 - 32);
    }
    // Every checkpoint is present (no false negatives).
    for (const [hi, lo] of pairs) if (s.isCheckpoint(hi)) expect(s.mayHold(hi, lo)).toBe(true);
    // False positives on checkpoints never inserted: measured over 100k probes.
    let fp = 0;
    let tests = 0;
    while (tests < 100_000) {
      const hi = rng.nextU32() >>> s.sampleShift;
      if (!s.isCheckpoint(hi)) continue;
      tests++;
      if (s.mayHold(hi, rng.nextU32())) fp++;
    }
    expect(s.falsePositiveRate).toBeLessThanOrEqual(0.0105);
    expect(fp / tests, `measured false-positive rate at shift ${s.sampleShift}`).toBeLessThan(0.013);
  });
});

/** An engine-like event stream over `backends` engines whose caches stay prefix-closed. */
function closedStream(seed: number, backends: number, ops: number): { steps: Parameters<typeof applyStep>[1][]; probes: number[][] } {
  const rng = new Rng(seed);
  const bs = 2;
  const tokens = (n: number): number[] => Array.from({ length: n * bs }, () => 1 + rng.int(4));
  const docs: number[][] = [];
  for (let d = 0; d < 12; d++) {
    const base = d > 0 && rng.int(2) === 0 ? docs[rng.int(docs.length)]!.slice(0, bs * (1 + rng.int(4))) : [];
    docs.push([...base, ...tokens(3 + rng.int(12))]);
  }
  // Engine hash per content prefix (the same content on two engines: the same hash, as vLLM).
  const hashOf = new Map<string, bigint>();
  const eng = (doc: number[], blocks: number): bigint => {
    const k = doc.slice(0, blocks * bs).join(',');
    let h = hashOf.get(k);
    if (h === undefined) hashOf.set(k, (h = (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32())));
    return h;
  };
  // Per engine: held prefixes as content keys → child count, to evict leaves only.
  const held = Array.from({ length: backends }, () => new Map<string, { doc: number[]; depth: number }>());
  const steps: Parameters<typeof applyStep>[1][] = [];
  for (let i = 0; i < ops; i++) {
    const b = rng.int(backends);
    const id = `b${b}`;
    const mine = held[b]!;
    const r = rng.int(100);
    if (r < 55) {
      // A request: the engine extends what it holds of a document (chunked prefill: a run of blocks).
      const doc = docs[rng.int(docs.length)]!;
      const len = doc.length / bs;
      let have = 0;
      while (have < len && mine.has(doc.slice(0, (have + 1) * bs).join(','))) have++;
      if (have === len) continue;
      const upto = have + 1 + rng.int(len - have);
      const hashes = Array.from({ length: upto - have }, (_, j) => eng(doc, have + j + 1));
      steps.push({ store: id, hashes, parent: have === 0 ? null : eng(doc, have), tokens: doc.slice(have * bs, upto * bs), blockSize: bs });
      for (let d = have + 1; d <= upto; d++) mine.set(doc.slice(0, d * bs).join(','), { doc, depth: d });
    } else if (r < 95) {
      // Eviction of leaves (blocks no longer-held block extends), as engines evict a sequence's tail first.
      const leaves = [...mine].filter(([k, v]) => ![...mine.values()].some((w) => w.depth === v.depth + 1 && w.doc.slice(0, v.depth * bs).join(',') === k));
      if (leaves.length === 0) continue;
      const picked = leaves.slice(0, 1 + rng.int(Math.min(3, leaves.length)));
      steps.push({ remove: id, hashes: picked.map(([, v]) => eng(v.doc, v.depth)) });
      for (const [k] of picked) mine.delete(k);
    } else {
      steps.push({ clear: id });
      mine.clear();
    }
  }
  const probes = docs.flatMap((d) => [d, d.slice(0, d.length - 2 * bs), [...d.slice(0, 4 * bs), ...tokens(3)]]);
  return { steps, probes };
}

describe('PrefixSummary vs the exact index (differential)', () => {
  it('on 200 seeded prefix-closed streams: ≥ the best checkpoint under the exact answer, above it only by false positives', () => {
    let probesRun = 0;
    let overshoots = 0;
    let missTests = 0;
    let lost = 0;
    let exactSum = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const backends = 1 + (seed % 4);
      const { steps, probes } = closedStream(seed, backends, 60);
      const index = new KvBlockIndex({ blockSize: 2, maxBlocksPerBackend: Infinity });
      const shift = seed % 3; // levels 0, 1, 2: every block, ~1 in 2, ~1 in 4
      for (let i = 0; i < steps.length; i++) {
        applyStep(index, steps[i]!);
        if (i % 5 !== 4 && i !== steps.length - 1) continue;
        const summary = PrefixSummary.decode(PrefixSummary.build(index, { minSampleShift: shift }).encode());
        expect(summary.sampleShift).toBe(shift);
        for (const p of probes) {
          const hashes = kvPrefixHashes(p, 2);
          const exact = Math.max(0, ...index.lookup(hashes).values());
          const got = summary.heldBlocks(hashes);
          const floor = bestCheckpoint(hashes, exact, shift);
          probesRun++;
          exactSum += exact;
          lost += exact - Math.min(got, exact);
          const where = `seed ${seed} step ${i} prompt ${JSON.stringify(p)}: exact ${exact}, summary ${got}`;
          expect(got, where).toBeGreaterThanOrEqual(floor);
          // The first checkpoint past the exact answer is held by no engine (caches are prefix-closed).
          let q = exact;
          while (q < hashes.length / 2 && Math.clz32(hashes[2 * q]!) < shift) q++;
          if (q < hashes.length / 2) missTests++;
          if (got > floor) {
            overshoots++;
            expect(got, where).toBeGreaterThan(exact);
            // ... and no engine holds that checkpoint at all: the filter answered yes for an absent hash.
            expect(index.lookup(hashes.subarray(2 * q, 2 * q + 2)).size, where).toBe(0);
          }
        }
      }
    }
    expect(probesRun).toBeGreaterThan(20_000);
    // Overshoots are false positives of the filter (~1% per test of an absent checkpoint).
    expect(overshoots / missTests).toBeLessThan(0.02);
    // Checkpoint granularity costs a bounded share of the exact answer at levels ≤ 2.
    expect(lost / exactSum).toBeLessThan(0.25);
  });

  it('never reports fewer than the best checkpoint under the exact answer, on arbitrary streams (random parents, middle removes, caps)', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const c = randomCase(seed);
      const index = new KvBlockIndex(c.opts);
      for (const op of c.ops) applyStep(index, op);
      const summary = PrefixSummary.build(index, { minSampleShift: seed % 2 });
      for (const [tokens, lora] of c.probes) {
        const hashes = kvPrefixHashes(tokens, 2, { loraId: lora });
        const exact = Math.max(0, ...index.lookup(hashes).values());
        expect(summary.heldBlocks(hashes), `seed ${seed}`).toBeGreaterThanOrEqual(bestCheckpoint(hashes, exact, summary.sampleShift));
      }
    }
  });

  it('builds the same summary from KvBlockIndex and ReferenceKvIndex', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const c = randomCase(seed);
      const fast = new KvBlockIndex(c.opts);
      const ref = new ReferenceKvIndex(c.opts);
      for (const op of c.ops) {
        applyStep(fast, op);
        applyStep(ref, op);
      }
      expect(PrefixSummary.build(fast).equals(PrefixSummary.build(ref)), `seed ${seed}`).toBe(true);
    }
  });
});
