/**
 * Trace blocks → token ids. A Mooncake trace names each 512-token prompt block by a hash id;
 * the simulator needs real token ids (the engine model hashes them for its prefix cache, and KV
 * events carry them). So each hash id becomes a deterministic block of token ids:
 *
 *   a = mixSeeds(lo, hi, SALT_A), b = mixSeeds(hi, lo, SALT_B)      (hi, lo: the id's 64 bits)
 *   token_i = (fmix(a + i·φ) ^ fmix'(b ^ (i+1)·c)) mod VOCAB                (counter-based, no state)
 *
 * Two 32-bit seeds make the stream a function of all 64 bits of the id (one 32-bit seed would let
 * two of ~44k distinct ids collide with probability ~0.2 per trace and fake prefix hits). Equal
 * ids give identical tokens in every run; the global --seed does not change them.
 *
 * A prompt is the concatenation of its blocks truncated to input_length; when input_length runs
 * past the blocks, the rest is padded with tokens unique to the request (never shared, so padding
 * never produces a hit). Output tokens are unique per request and position.
 */
import { mixSeeds } from '../core/index.js';
import type { TraceRequest } from './trace.js';

/** Block size of Mooncake traces (tokens per hash id). */
export const TRACE_BLOCK_SIZE = 512;
/** Token ids are drawn from [0, VOCAB) (about cl100k_base's size). */
export const SIM_VOCAB = 100_000;

const SALT_A = 0x5eed_b10c;
const SALT_B = 0x7a11_0c4e;
const PAD_SALT = 0x9add_1e55;
const OUT_SALT = 0x0ac7_1007;
const TWO32 = 4294967296;

/** The id's 64 bits as [hi, lo] (unsigned 32-bit halves). */
export function hashIdHalves(hashId: string): [number, number] {
  if (hashId.length <= 15) {
    const n = Number(hashId);
    return [Math.floor(n / TWO32) >>> 0, n >>> 0];
  }
  const b = BigInt(hashId) & 0xffff_ffff_ffff_ffffn;
  return [Number(b >> 32n) >>> 0, Number(b & 0xffff_ffffn) >>> 0];
}

/** Write the first `count` tokens of the block named `hashId` to out[offset ...]. */
export function writeBlockTokens(out: number[], offset: number, count: number, hashId: string): void {
  const [hi, lo] = hashIdHalves(hashId);
  writeStream(out, offset, count, mixSeeds(lo, hi, SALT_A), mixSeeds(hi, lo, SALT_B));
}

/** The `blockSize` tokens of block `hashId`. */
export function blockTokens(hashId: string, blockSize = TRACE_BLOCK_SIZE): number[] {
  const out = new Array<number>(blockSize);
  writeBlockTokens(out, 0, blockSize, hashId);
  return out;
}

/**
 * Counter-based generator (no state between tokens): token_i = (f(a + i·φ) ^ f(b ^ i·c)) mod VOCAB,
 * f the murmur3 finaliser. Two independently seeded lanes keep all 64 seed bits.
 */
function writeStream(out: number[], offset: number, count: number, seedA: number, seedB: number): void {
  for (let i = 0; i < count; i++) {
    let x = (seedA + Math.imul(i, 0x9e3779b9)) | 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    x ^= x >>> 16;
    let y = seedB ^ Math.imul(i + 1, 0x27d4eb2f);
    y = Math.imul(y ^ (y >>> 15), 0x2c1b3c6d);
    y = Math.imul(y ^ (y >>> 12), 0x297a2d39);
    y ^= y >>> 15;
    out[offset + i] = ((x ^ y) & 0x7fffffff) % SIM_VOCAB; // int31 arithmetic: no doubles
  }
}

export interface PromptOptions {
  /** Tokens per hash id (default 512). */
  readonly traceBlockSize?: number;
  /** Global seed: changes padding and output tokens, never block tokens. */
  readonly seed?: number;
}

/** The request's prompt: its blocks concatenated, truncated or padded to input_length. */
export function promptTokens(req: Pick<TraceRequest, 'index' | 'inputLength' | 'hashIds'>, options: PromptOptions = {}): number[] {
  const bs = options.traceBlockSize ?? TRACE_BLOCK_SIZE;
  const n = req.inputLength;
  const out = new Array<number>(n);
  let o = 0;
  for (let k = 0; k < req.hashIds.length && o < n; k++) {
    const count = Math.min(bs, n - o);
    writeBlockTokens(out, o, count, req.hashIds[k]!);
    o += count;
  }
  if (o < n) writeStream(out, o, n - o, mixSeeds(PAD_SALT, options.seed ?? 0, req.index), mixSeeds(req.index, PAD_SALT, options.seed ?? 0, o));
  return out;
}

/** Output token `position` of request `index` (ignore_eos: the request always runs to output_length). */
export function outputToken(seed: number, index: number, position: number): number {
  return mixSeeds(OUT_SALT, seed, index, position) % SIM_VOCAB;
}

/**
 * Prompt text for routing plugins that hash the prompt (consistent_hash keys on its first
 * `promptChars` characters): each token rendered as a short base-36 word, capped at `maxChars`
 * like the gateway's promptText (2,048). Same tokens → same text, so equal prefixes give equal keys.
 */
export function renderPromptText(tokens: readonly number[], maxChars = 2048): string {
  let s = '';
  for (let i = 0; i < tokens.length && s.length < maxChars; i++) s += `t${tokens[i]!.toString(36)} `;
  return s.length > maxChars ? s.slice(0, maxChars) : s;
}
