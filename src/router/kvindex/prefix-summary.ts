/**
 * PrefixSummary: a compact, bounded, serializable summary of which prompt prefixes a set of
 * backends (a cluster's engines) holds — what a cluster agent reports so the global routing
 * layer can pick a cluster without an index of every block of every worker (ADR 0016).
 *
 * Keys are the router's own chained block hashes (hash.ts): h_i covers the whole prefix up to
 * block i, so "the cluster holds h_i" means some engine there holds that prefix.
 *
 * - **Checkpoints by hash, not by depth.** A block is a checkpoint at level s when the top s bits
 *   of its hash's high half are zero (`clz32(hi) ≥ s`): about one block in 2^s, decided by the
 *   hash alone, so the agent needs no block depths and the gateway tests exactly the same prompt
 *   positions. Levels nest (a level-s+1 checkpoint is a level-s one). Level 0 = every block.
 * - **A Bloom filter** of the checkpoint hashes (double hashing from the 64-bit hash, sized for
 *   `falsePositiveRate`, default 1%). The level is the lowest one ≥ `minSampleShift` whose filter
 *   fits in `maxBytes` (default 64 KiB, header included): small clusters are summarised block by
 *   block; a cluster holding more gets sparser checkpoints, never a bigger message.
 * - **heldBlocks(prompt)** walks the prompt's checkpoints in order and returns the position of
 *   the last one present before the first one absent. When each engine's cache is prefix-closed
 *   (it holds a block only with all its ancestors: vLLM and the simulator evict a sequence's tail
 *   first) this is a lower bound on the exact answer, max over engines of the leading blocks held:
 *   the largest checkpoint position ≤ it (fewer by 2^s − 1 blocks on average, 0 for prompts with
 *   no checkpoint inside the held prefix), more only after a false positive of the filter.
 *
 * Wire format (little-endian): 24-byte header, then the filter's words.
 *   0 magic 'SYPS' · 4 u8 version (1) · 5 u8 sampleShift · 6 u8 hashes (k) · 7 u8 reserved (0)
 *   8 u32 blockSize · 12 u32 entries (checkpoints inserted) · 16 u32 blocks (distinct blocks held)
 *   20 u32 bits (m, a multiple of 32) · 24 m/32 × u32 filter words
 *
 * Pure: no I/O.
 */
import { fmix32, SwitchyardError } from '../../core/index.js';
import type { PrefixHashes } from './hash.js';

/** Where a summary's blocks come from: KvBlockIndex (and ReferenceKvIndex) are sources. */
export interface PrefixBlockSource {
  readonly blockSize: number;
  /** Calls `cb` once per distinct block hash (uint32 halves) held by at least one backend. */
  forEachBlock(cb: (hi: number, lo: number) => void): void;
}

export interface PrefixSummaryOptions {
  /** Max encoded size in bytes, header included. Default 64 KiB. */
  maxBytes?: number;
  /** Target false-positive rate of one checkpoint test, in (0, 0.5]. Default 0.01. */
  falsePositiveRate?: number;
  /** Lowest checkpoint level (0: every block). Default 0. */
  minSampleShift?: number;
}

export const PREFIX_SUMMARY_HEADER_BYTES = 24;
export const DEFAULT_PREFIX_SUMMARY_MAX_BYTES = 64 * 1024;
export const DEFAULT_PREFIX_SUMMARY_FPR = 0.01;
const MAGIC = 0x53505953; // bytes 'S' 'Y' 'P' 'S' read as a little-endian u32
const VERSION = 1;
const MAX_HASHES = 16;
const LN2 = Math.LN2;
const TWO32 = 4294967296;

interface Header {
  blockSize: number;
  sampleShift: number;
  hashes: number;
  entries: number;
  blocks: number;
  bits: number;
}

const bad = (message: string): SwitchyardError => new SwitchyardError('invalid_request', `prefix summary: ${message}`, { param: 'summary' });

export class PrefixSummary {
  /** Token block size of the hashes (must equal the prompt hashes' block size). */
  readonly blockSize: number;
  /** Checkpoint level: blocks with clz32(hi) ≥ sampleShift are in the filter (about 1 in 2^sampleShift). */
  readonly sampleShift: number;
  /** Bloom hash functions (k). */
  readonly hashes: number;
  /** Checkpoint hashes inserted (n). */
  readonly entries: number;
  /** Distinct blocks the source held when the summary was built (checkpoints or not). */
  readonly blocks: number;
  /** Filter size in bits (m). */
  readonly bits: number;
  private readonly words: Uint32Array;

  private constructor(h: Header, words: Uint32Array) {
    this.blockSize = h.blockSize;
    this.sampleShift = h.sampleShift;
    this.hashes = h.hashes;
    this.entries = h.entries;
    this.blocks = h.blocks;
    this.bits = h.bits;
    this.words = words;
  }

  /** Summarise every block `source` holds, within `opts.maxBytes`. */
  static build(source: PrefixBlockSource, opts: PrefixSummaryOptions = {}): PrefixSummary {
    const { maxBytes, fpr, minShift } = compileOptions(opts);
    const hist = new Float64Array(33);
    let blocks = 0;
    source.forEachBlock((hi) => {
      hist[Math.clz32(hi)]!++;
      blocks++;
    });
    const maxBits = Math.floor((maxBytes - PREFIX_SUMMARY_HEADER_BYTES) / 4) * 32;
    // atOrAbove[s] = checkpoints at level s = Σ_{t ≥ s} hist[t]
    const atOrAbove = new Float64Array(34);
    for (let t = 32; t >= 0; t--) atOrAbove[t] = atOrAbove[t + 1]! + hist[t]!;
    let shift = minShift;
    while (shift < 32 && bitsFor(atOrAbove[shift]!, fpr) > maxBits) shift++;
    const entries = atOrAbove[shift]!;
    const bits = Math.min(maxBits, bitsFor(entries, fpr));
    const k = hashesFor(bits, entries);
    const words = new Uint32Array(bits / 32);
    source.forEachBlock((hi, lo) => {
      if (Math.clz32(hi) >= shift) insert(words, bits, k, hi, lo);
    });
    return new PrefixSummary({ blockSize: source.blockSize, sampleShift: shift, hashes: k, entries, blocks, bits }, words);
  }

  /** A summary holding nothing. */
  static empty(blockSize: number): PrefixSummary {
    return PrefixSummary.build({ blockSize, forEachBlock: () => undefined });
  }

  /**
   * Parse `encode()`'s bytes. @throws SwitchyardError invalid_request (param 'summary') when they
   * are malformed, payload_too_large when longer than `maxBytes` (default: no limit).
   */
  static decode(bytes: Uint8Array, opts: { maxBytes?: number } = {}): PrefixSummary {
    if (opts.maxBytes !== undefined && bytes.length > opts.maxBytes) {
      throw new SwitchyardError('payload_too_large', `prefix summary: ${bytes.length} bytes, more than the limit of ${opts.maxBytes}`, { param: 'summary' });
    }
    if (bytes.length < PREFIX_SUMMARY_HEADER_BYTES) throw bad(`${bytes.length} bytes, shorter than the ${PREFIX_SUMMARY_HEADER_BYTES}-byte header`);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (v.getUint32(0, true) !== MAGIC) throw bad("not a prefix summary (no 'SYPS' magic)");
    if (v.getUint8(4) !== VERSION) throw bad(`unsupported version ${v.getUint8(4)} (this build reads version ${VERSION})`);
    const h: Header = { sampleShift: v.getUint8(5), hashes: v.getUint8(6), blockSize: v.getUint32(8, true), entries: v.getUint32(12, true), blocks: v.getUint32(16, true), bits: v.getUint32(20, true) };
    if (h.sampleShift > 32) throw bad(`sampleShift ${h.sampleShift} is over 32`);
    if (h.hashes < 1 || h.hashes > MAX_HASHES) throw bad(`${h.hashes} hash functions (expected 1..${MAX_HASHES})`);
    if (h.blockSize < 1) throw bad('blockSize 0');
    if (h.bits < 32 || h.bits % 32 !== 0) throw bad(`filter size ${h.bits} bits (expected a positive multiple of 32)`);
    if (h.entries > h.blocks) throw bad(`${h.entries} checkpoints out of ${h.blocks} blocks`);
    const want = PREFIX_SUMMARY_HEADER_BYTES + h.bits / 8;
    if (bytes.length !== want) throw bad(`${bytes.length} bytes, but its header describes ${want}`);
    const words = new Uint32Array(h.bits / 32);
    for (let i = 0; i < words.length; i++) words[i] = v.getUint32(PREFIX_SUMMARY_HEADER_BYTES + 4 * i, true);
    return new PrefixSummary(h, words);
  }

  /** The wire bytes (see the file comment). */
  encode(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    const v = new DataView(out.buffer);
    v.setUint32(0, MAGIC, true);
    v.setUint8(4, VERSION);
    v.setUint8(5, this.sampleShift);
    v.setUint8(6, this.hashes);
    v.setUint32(8, this.blockSize, true);
    v.setUint32(12, this.entries, true);
    v.setUint32(16, this.blocks, true);
    v.setUint32(20, this.bits, true);
    for (let i = 0; i < this.words.length; i++) v.setUint32(PREFIX_SUMMARY_HEADER_BYTES + 4 * i, this.words[i]!, true);
    return out;
  }

  /** Encoded size in bytes. */
  get byteLength(): number {
    return PREFIX_SUMMARY_HEADER_BYTES + this.bits / 8;
  }

  /** The filter's expected false-positive rate per checkpoint test, (1 − e^(−k·n/m))^k. */
  get falsePositiveRate(): number {
    return this.entries === 0 ? 0 : (1 - Math.exp((-this.hashes * this.entries) / this.bits)) ** this.hashes;
  }

  /** Whether block hash (hi, lo) is a checkpoint at this summary's level. */
  isCheckpoint(hi: number): boolean {
    return Math.clz32(hi) >= this.sampleShift;
  }

  /** The filter's answer for one hash (true for every inserted checkpoint; false positives at ~falsePositiveRate). */
  mayHold(hi: number, lo: number): boolean {
    const m = this.bits;
    const h1 = lo >>> 0;
    const h2 = (fmix32(hi ^ 0x9e3779b9) | 1) >>> 0;
    const w = this.words;
    for (let i = 0; i < this.hashes; i++) {
      const b = Math.floor((((h1 + Math.imul(i, h2)) >>> 0) * m) / TWO32);
      if ((w[b >>> 5]! & (1 << (b & 31))) === 0) return false;
    }
    return true;
  }

  /**
   * Leading blocks of the prompt (`hashes` = [hi0, lo0, hi1, lo1, ...], as kvPrefixHashes) held,
   * at checkpoint granularity: the position of the last checkpoint present before the first one
   * absent (0 when none). No allocation.
   */
  heldBlocks(hashes: PrefixHashes): number {
    const n = hashes.length >>> 1;
    const s = this.sampleShift;
    let held = 0;
    for (let i = 0; i < n; i++) {
      const hi = hashes[2 * i]!;
      if (Math.clz32(hi) < s) continue;
      if (!this.mayHold(hi, hashes[2 * i + 1]!)) break;
      held = i + 1;
    }
    return held;
  }

  /** Same header and filter bits. */
  equals(other: PrefixSummary): boolean {
    if (this.blockSize !== other.blockSize || this.sampleShift !== other.sampleShift || this.hashes !== other.hashes || this.entries !== other.entries || this.blocks !== other.blocks || this.bits !== other.bits) return false;
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== other.words[i]) return false;
    return true;
  }
}

function compileOptions(o: PrefixSummaryOptions): { maxBytes: number; fpr: number; minShift: number } {
  const maxBytes = o.maxBytes ?? DEFAULT_PREFIX_SUMMARY_MAX_BYTES;
  const fpr = o.falsePositiveRate ?? DEFAULT_PREFIX_SUMMARY_FPR;
  const minShift = o.minSampleShift ?? 0;
  if (!Number.isInteger(maxBytes) || maxBytes < PREFIX_SUMMARY_HEADER_BYTES + 4) {
    throw new SwitchyardError('invalid_argument', `prefix summary maxBytes: expected an integer ≥ ${PREFIX_SUMMARY_HEADER_BYTES + 4}, got ${maxBytes}`, { param: 'maxBytes' });
  }
  if (!(fpr > 0 && fpr <= 0.5)) throw new SwitchyardError('invalid_argument', `prefix summary falsePositiveRate: expected a number in (0, 0.5], got ${fpr}`, { param: 'falsePositiveRate' });
  if (!Number.isInteger(minShift) || minShift < 0 || minShift > 32) throw new SwitchyardError('invalid_argument', `prefix summary minSampleShift: expected an integer in 0..32, got ${minShift}`, { param: 'minSampleShift' });
  return { maxBytes, fpr, minShift };
}

/** Filter bits for n entries at false-positive rate p: ⌈−n·ln p / ln²2⌉, a multiple of 32, ≥ 32. */
function bitsFor(n: number, p: number): number {
  if (n === 0) return 32;
  return Math.max(32, Math.ceil((-n * Math.log(p)) / (LN2 * LN2) / 32) * 32);
}

/** The optimal k = m/n · ln 2, in 1..MAX_HASHES. */
function hashesFor(m: number, n: number): number {
  if (n === 0) return 1;
  return Math.min(MAX_HASHES, Math.max(1, Math.round((m / n) * LN2)));
}

function insert(words: Uint32Array, m: number, k: number, hi: number, lo: number): void {
  const h1 = lo >>> 0;
  const h2 = (fmix32(hi ^ 0x9e3779b9) | 1) >>> 0;
  for (let i = 0; i < k; i++) {
    const b = Math.floor((((h1 + Math.imul(i, h2)) >>> 0) * m) / TWO32);
    words[b >>> 5]! |= 1 << (b & 31);
  }
}
