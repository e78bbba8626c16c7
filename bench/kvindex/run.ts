/**
 * KV prefix index benchmark (src/router/kvindex): ingest rate, lookup latency and memory at
 * 512 backends × 2M indexed blocks, with the reference implementation as the in-run peer at a
 * smaller scale. `npm run bench:kvindex [-- --json] [-- --write] [-- --blocks N]`.
 *
 * Shape (prefix sharing as in chat traffic): 64 system prompts (8–64 blocks, Zipf popularity
 * s = 1.1) and conversations (a system prompt + 8–127 own blocks) placed on one random backend
 * (10%: on two). A backend first stores the system prompt (parent null) unless it holds it, then
 * the conversation (parent = the prompt's last block). Engine hashes are random 64-bit values
 * per content, as vLLM's sha256-based hashes are. Block size 16, token ids < 128k.
 *
 * Lookups: 60% continue a stored conversation (+1–8 new blocks), 30% start a new conversation on
 * a popular system prompt (many backends hold the first blocks: the bitset path), 10% unrelated.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Rng } from '../../src/core/index.js';
import { applyKvEventBatch, KvBlockIndex, kvPrefixHashes, ReferenceKvIndex, type KvPrefixIndex, type PrefixHashes } from '../../src/router/index.js';
import type { BlockStored, KvEventBatch } from '../../src/kvevents/index.js';
import { machineInfo, machineLine } from '../common/machine.js';
import { BENCHMARKS_DOC, writeSection } from '../common/doc-section.js';

const BS = 16;

setFlagsFromString('--expose_gc');
/** Full GC, so memory deltas measure what is live. */
const gc = runInNewContext('gc') as () => void;
const mem = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.arrayBuffers + m.heapUsed;
};

interface Row {
  name: string;
  value: string;
  note: string;
}

interface Prompt {
  tokens: number[];
  engine: bigint[];
}

interface Conv {
  id: number;
  sys: number;
  blocks: number;
  backends: number[];
}

const rand64 = (rng: Rng): bigint => (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32());

class Workload {
  readonly prompts: Prompt[] = [];
  readonly convs: Conv[] = [];
  private readonly cdf: number[] = [];
  private readonly held: Set<number>[];
  private readonly rng = new Rng(42);

  constructor(readonly backends: number) {
    this.held = Array.from({ length: backends }, () => new Set<number>());
    let sum = 0;
    for (let i = 0; i < 64; i++) {
      const blocks = 8 + this.rng.int(57);
      this.prompts.push({ tokens: Array.from({ length: blocks * BS }, () => this.rng.int(128_000)), engine: Array.from({ length: blocks }, () => rand64(this.rng)) });
      sum += 1 / (i + 1) ** 1.1;
      this.cdf.push(sum);
    }
    for (let i = 0; i < 64; i++) this.cdf[i]! /= sum;
  }

  zipf(): number {
    const u = this.rng.next();
    const i = this.cdf.findIndex((c) => c >= u);
    return i < 0 ? 63 : i;
  }

  /** Own tokens and engine hashes of a conversation (regenerated from its id). */
  convData(c: Conv, extra = 0): { tokens: number[]; engine: bigint[] } {
    const r = new Rng(1_000_003 * (c.id + 1));
    return { tokens: Array.from({ length: (c.blocks + extra) * BS }, () => r.int(128_000)), engine: Array.from({ length: c.blocks }, () => rand64(r)) };
  }

  /** A new conversation and the batches its backends publish; `entries` = blocks they add. */
  nextConversation(): { batches: [number, KvEventBatch][]; entries: number } {
    const c: Conv = { id: this.convs.length, sys: this.zipf(), blocks: 8 + this.rng.int(120), backends: [this.rng.int(this.backends)] };
    if (this.rng.int(10) === 0) c.backends.push(this.rng.int(this.backends));
    this.convs.push(c);
    const sys = this.prompts[c.sys]!;
    const own = this.convData(c);
    const batches: [number, KvEventBatch][] = [];
    let entries = 0;
    for (const b of new Set(c.backends)) {
      const events: BlockStored[] = [];
      if (!this.held[b]!.has(c.sys)) {
        this.held[b]!.add(c.sys);
        events.push(stored(sys.engine, null, sys.tokens));
        entries += sys.engine.length;
      }
      events.push(stored(own.engine, sys.engine[sys.engine.length - 1]!, own.tokens));
      entries += own.engine.length;
      batches.push([b, { ts: 0, events }]);
    }
    return { batches, entries };
  }

  /** Query prompts (token ids) in the mix described at the top. */
  queries(n: number): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      const r = this.rng.int(10);
      if (r < 6) {
        const c = this.convs[this.rng.int(this.convs.length)]!;
        out.push([...this.prompts[c.sys]!.tokens, ...this.convData(c, 1 + this.rng.int(8)).tokens]);
      } else if (r < 9) {
        out.push([...this.prompts[this.zipf()]!.tokens, ...Array.from({ length: (8 + this.rng.int(64)) * BS }, () => this.rng.int(128_000))]);
      } else out.push(Array.from({ length: (8 + this.rng.int(120)) * BS }, () => this.rng.int(128_000)));
    }
    return out;
  }
}

function stored(engine: bigint[], parent: bigint | null, tokens: number[]): BlockStored {
  return { type: 'BlockStored', blockHashes: engine, parentBlockHash: parent, tokenIds: tokens, blockSize: BS, loraId: null, medium: 'GPU', loraName: null };
}

/** Fill `index` to `target` entries; blocks/s of the apply calls alone, and the longest call (ms). */
function fill(index: KvPrefixIndex, w: Workload, target: number): { rate: number; entries: number; maxMs: number } {
  let entries = 0;
  let ms = 0;
  let maxMs = 0;
  while (entries < target) {
    const { batches, entries: n } = w.nextConversation();
    for (const [b, batch] of batches) {
      const t0 = performance.now();
      applyKvEventBatch(index, `backend-${b}`, batch);
      const dt = performance.now() - t0;
      ms += dt;
      maxMs = Math.max(maxMs, dt);
    }
    entries += n;
  }
  return { rate: entries / (ms / 1000), entries, maxMs };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Per-call latency of `fn` over the queries (after a warm-up pass), in µs. */
function latency(hashes: PrefixHashes[], fn: (h: PrefixHashes) => unknown): { p50: number; p99: number; max: number; mean: number } {
  for (const h of hashes) fn(h);
  const t = new Float64Array(hashes.length);
  for (let i = 0; i < hashes.length; i++) {
    const t0 = performance.now();
    fn(hashes[i]!);
    t[i] = (performance.now() - t0) * 1000;
  }
  const mean = t.reduce((s, x) => s + x, 0) / t.length;
  t.sort();
  return { p50: percentile(t, 0.5), p99: percentile(t, 0.99), max: t[t.length - 1]!, mean };
}

const us = (x: number): string => `${x.toFixed(1)} µs`;
const mps = (x: number): string => `${(x / 1e6).toFixed(2)} M blocks/s`;

function main(): void {
  const args = process.argv.slice(2);
  const target = Number(args[args.indexOf('--blocks') + 1] ?? '') || 2_000_000;
  const backends = 512;
  const rows: Row[] = [];

  // Fast index at full scale: a presized run first (its index is garbage once fill returns), then the main one.
  const pre = fill(new KvBlockIndex({ blockSize: BS, expectedBlocks: target }), new Workload(backends), target);
  const preRow: Row = { name: `ingest BlockStored, same, presized (expectedBlocks ${(target / 1e6).toFixed(1)}M)`, value: mps(pre.rate), note: `longest batch ${pre.maxMs.toFixed(1)} ms` };
  const w = new Workload(backends);
  const mem0 = mem();
  const fast = new KvBlockIndex({ blockSize: BS });
  const f = fill(fast, w, target);
  const st = fast.stats();
  const memDelta = mem() - mem0;
  rows.push({ name: `ingest BlockStored (fill to ${(f.entries / 1e6).toFixed(2)}M entries, ${backends} backends, no presizing)`, value: mps(f.rate), note: `target ≥ 1 M/s; includes our re-hash of 16 tokens/block and table growth; longest batch ${f.maxMs.toFixed(0)} ms (a rehash)` });
  rows.push(preRow);

  const queries = w.queries(20_000);
  const hashes = queries.map((q) => kvPrefixHashes(q, BS));
  const avgBlocks = hashes.reduce((s, h) => s + h.length / 2, 0) / hashes.length;
  const hits = hashes.filter((h) => fast.lookup(h).size > 0).length;
  const ls = latency(hashes, (h) => fast.lookupSlots(h));
  rows.push({ name: `lookupSlots (${(st.entries / 1e6).toFixed(2)}M entries, ${st.blocks.toLocaleString('en')} distinct blocks, ${backends} backends, avg ${avgBlocks.toFixed(0)} blocks/prompt)`, value: `p50 ${us(ls.p50)} / p99 ${us(ls.p99)}`, note: `target p99 ≤ 50 µs; max ${us(ls.max)}, mean ${us(ls.mean)}; ${((100 * hits) / hashes.length).toFixed(0)}% of prompts hit` });
  const lm = latency(hashes, (h) => fast.lookup(h));
  rows.push({ name: 'lookup (Map form, same prompts)', value: `p50 ${us(lm.p50)} / p99 ${us(lm.p99)}`, note: `max ${us(lm.max)}` });
  const hs = latency(
    queries.map((_, i) => new Uint32Array([i])),
    (h) => kvPrefixHashes(queries[h[0]!]!, BS),
  );
  rows.push({ name: `kvPrefixHashes (request side, avg ${(avgBlocks * BS).toFixed(0)} tokens)`, value: `p50 ${us(hs.p50)} / p99 ${us(hs.p99)}`, note: '' });
  rows.push({ name: 'memory: estimated bytes per indexed (backend, block) entry', value: `${st.bytesPerEntry.toFixed(1)} B`, note: `stats().estimatedBytes ${(st.estimatedBytes / 2 ** 20).toFixed(0)} MiB; measured (heap + array buffers after a full GC, including the workload's own state) ${(memDelta / 2 ** 20).toFixed(0)} MiB` });

  // Remove path: conversations end and their blocks are evicted by the engines.
  let removed = 0;
  let ms = 0;
  for (const c of w.convs.slice(0, 3000)) {
    const { engine } = w.convData(c);
    const t0 = performance.now();
    for (const b of new Set(c.backends)) removed += fast.blocksRemoved(`backend-${b}`, engine);
    ms += performance.now() - t0;
  }
  rows.push({ name: `ingest BlockRemoved (${removed.toLocaleString('en')} blocks)`, value: mps(removed / (ms / 1000)), note: '' });

  // Store at the cap: every new block evicts the least recently stored one.
  const capped = new KvBlockIndex({ blockSize: BS, maxBlocksPerBackend: 1024 });
  const wc = new Workload(64);
  const fc = fill(capped, wc, 500_000);
  const cst = capped.stats();
  rows.push({ name: 'ingest BlockStored at the per-backend cap (64 backends × 1024 blocks, 500k stored)', value: mps(fc.rate), note: `${cst.perBackend.reduce((s, b) => s + b.evictions, 0).toLocaleString('en')} evictions` });

  // Peer: the reference implementation and the fast one on the same smaller workload.
  const small = Math.round(target / 20);
  for (const [name, make] of [
    ['KvBlockIndex', () => new KvBlockIndex({ blockSize: BS })],
    ['ReferenceKvIndex', () => new ReferenceKvIndex({ blockSize: BS })],
  ] as const) {
    const ws = new Workload(backends);
    const idx = make();
    const r = fill(idx, ws, small);
    const qs = ws.queries(2000).map((q) => kvPrefixHashes(q, BS));
    const l = latency(qs, (h) => idx.lookup(h));
    rows.push({ name: `peer at ${(small / 1e3).toFixed(0)}k entries, ${backends} backends: ${name}`, value: `ingest ${mps(r.rate)}, lookup p50 ${us(l.p50)} / p99 ${us(l.p99)}`, note: '' });
  }

  const m = machineInfo();
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), machine: m, rows })}\n`);
  else for (const r of rows) console.log(`${r.name.padEnd(100)} ${r.value.padEnd(40)} ${r.note}`);
  const table = ['| what | result | note |', '|---|---|---|', ...rows.map((r) => `| ${r.name} | ${r.value} | ${r.note} |`)].join('\n');
  if (args.includes('--write')) {
    writeSection(BENCHMARKS_DOC, `## KV prefix index (bench/kvindex)\n\nDate: ${new Date().toISOString().slice(0, 10)}. Machine: ${machineLine(m)}. Command: \`npm run bench:kvindex -- --write\`.\n\nSingle-threaded; lookups timed one by one (performance.now) after a warm-up pass over the same prompts. Shape and query mix: bench/kvindex/run.ts.\n\n${table}`);
  } else if (args.includes('--table')) console.log(`\n${table}`);
}

main();
