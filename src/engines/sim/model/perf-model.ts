/**
 * Step-time model: a roofline over one engine step (one forward pass of a continuous batch).
 *
 *   flops  = 2·P·T  +  4·L·H·Σ_r n_r·(c_r + n_r/2)         (dense matmuls + attention)
 *   bytes  = W + kv·Σ_r (c_r + n_r)                          (weights once + KV read per request)
 *   t_step = overhead + max(flops / (peak·MFU·tpEff), bytes / (BW·MBU·tpEff))
 *
 * where T is the number of tokens computed in the step, n_r the new tokens of request r
 * (1 in decode, a chunk in prefill), c_r the tokens already in its KV cache (prefix hits
 * included: cached tokens are read, not recomputed), W the weight bytes and kv the KV bytes
 * per token. Prefill time therefore grows with uncached tokens; decode time with batch size
 * and KV usage. tpEff = tp·0.9^log2(tp) accounts for all-reduce cost under tensor parallelism.
 */
import type { GpuProfile, ModelArch } from './profiles.js';
import { kvBytesPerToken } from './profiles.js';

export interface StepShape {
  /** Σ n_r: tokens computed this step. */
  newTokens: number;
  /** Σ n_r·(c_r + n_r/2): attention work in token-pairs. */
  attnPairs: number;
  /** Σ (c_r + n_r): KV tokens read this step. */
  kvTokensRead: number;
}

export class PerfModel {
  private readonly flopsPerToken: number;
  private readonly attnFlopsPerPair: number;
  private readonly weightBytes: number;
  private readonly kvBytesPerToken: number;
  private readonly effFlops: number;
  private readonly effBandwidth: number;
  readonly overheadMs: number;

  constructor(gpu: GpuProfile, arch: ModelArch, tensorParallelSize = 1) {
    const tpEff = tensorParallelSize * Math.pow(0.9, Math.log2(tensorParallelSize));
    this.flopsPerToken = 2 * arch.params;
    this.attnFlopsPerPair = 4 * arch.layers * arch.hiddenSize;
    this.weightBytes = arch.params * arch.dtypeBytes;
    this.kvBytesPerToken = kvBytesPerToken(arch);
    this.effFlops = gpu.peakFlops * gpu.mfu * tpEff;
    this.effBandwidth = gpu.memBandwidth * gpu.mbu * tpEff;
    this.overheadMs = gpu.stepOverheadMs;
  }

  /** Duration of one step in milliseconds. */
  stepMs(s: StepShape): number {
    if (s.newTokens <= 0) return 0;
    const flops = this.flopsPerToken * s.newTokens + this.attnFlopsPerPair * s.attnPairs;
    const bytes = this.weightBytes + this.kvBytesPerToken * s.kvTokensRead;
    const seconds = Math.max(flops / this.effFlops, bytes / this.effBandwidth);
    return this.overheadMs + seconds * 1000;
  }

  /** Convenience: time to prefill `tokens` uncached tokens alone (no cache, one request). */
  prefillMs(tokens: number, cachedTokens = 0): number {
    return this.stepMs({ newTokens: tokens, attnPairs: tokens * (cachedTokens + tokens / 2), kvTokensRead: cachedTokens + tokens });
  }

  /** Convenience: one decode step for `batch` requests each holding `ctx` tokens. */
  decodeMs(batch: number, ctx: number): number {
    return this.stepMs({ newTokens: batch, attnPairs: batch * (ctx + 0.5), kvTokensRead: batch * (ctx + 1) });
  }
}
