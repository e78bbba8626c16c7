/**
 * Hardware and model profiles for the simulated engine.
 *
 * GPU figures are vendor datasheet numbers (dense BF16 tensor throughput, HBM bandwidth,
 * memory size). The achievable fractions (MFU for compute-bound prefill, MBU for
 * memory-bound decode) and the per-step overhead are calibrated against public vLLM
 * measurements of Llama-3.1-8B (see docs/simulator.md for the derivation):
 *
 * - NVIDIA A100 80GB SXM datasheet: 312 TFLOPS BF16 dense, 2,039 GB/s HBM2e, 80 GB.
 * - NVIDIA H100 80GB SXM datasheet: 989 TFLOPS BF16 dense, 3,350 GB/s HBM3, 80 GB.
 * - NVIDIA L4 datasheet: 121 TFLOPS BF16 dense (242 with sparsity), 300 GB/s GDDR6, 24 GB.
 * - vLLM serving Llama-3.1-8B on one A100-80GB: ~10–13 ms inter-token latency at low batch,
 *   and ~6–8k prompt tokens/s prefill; on H100 about 6–8 ms ITL and ~15–20k prompt tokens/s.
 *   A roofline with MBU≈0.8, MFU≈0.55 and ~2 ms scheduler/launch overhead per step lands there.
 */

export type GpuType = 'A100' | 'H100' | 'L4';

export interface GpuProfile {
  name: GpuType;
  displayName: string;
  /** Peak dense BF16 FLOP/s. */
  peakFlops: number;
  /** Peak memory bandwidth, bytes/s. */
  memBandwidth: number;
  /** Device memory, bytes. */
  memoryBytes: number;
  /** Achievable fraction of peakFlops in large prefill batches. */
  mfu: number;
  /** Achievable fraction of memBandwidth in decode. */
  mbu: number;
  /** Fixed cost of one engine step (scheduling, kernel launches, sampling), ms. */
  stepOverheadMs: number;
  /** vLLM's default max_num_batched_tokens for the OpenAI server on this class of GPU. */
  defaultMaxNumBatchedTokens: number;
}

const GB = 1e9;

export const GPU_PROFILES: Readonly<Record<GpuType, GpuProfile>> = {
  A100: {
    name: 'A100',
    displayName: 'NVIDIA A100-SXM4-80GB (simulated)',
    peakFlops: 312e12,
    memBandwidth: 2039 * GB,
    memoryBytes: 80 * GB,
    mfu: 0.55,
    mbu: 0.8,
    stepOverheadMs: 2.0,
    defaultMaxNumBatchedTokens: 8192,
  },
  H100: {
    name: 'H100',
    displayName: 'NVIDIA H100-SXM5-80GB (simulated)',
    peakFlops: 989e12,
    memBandwidth: 3350 * GB,
    memoryBytes: 80 * GB,
    mfu: 0.45,
    mbu: 0.8,
    stepOverheadMs: 1.5,
    defaultMaxNumBatchedTokens: 8192,
  },
  L4: {
    name: 'L4',
    displayName: 'NVIDIA L4 24GB (simulated)',
    peakFlops: 121e12,
    memBandwidth: 300 * GB,
    memoryBytes: 24 * GB,
    mfu: 0.55,
    mbu: 0.8,
    stepOverheadMs: 2.5,
    defaultMaxNumBatchedTokens: 2048,
  },
};

/** Transformer shape, enough for a roofline estimate and KV sizing. */
export interface ModelArch {
  name: string;
  /** Parameters (dense). */
  params: number;
  layers: number;
  hiddenSize: number;
  kvHeads: number;
  headDim: number;
  /** Bytes per weight/KV element (2 for BF16/FP16). */
  dtypeBytes: number;
  maxModelLen: number;
}

export const MODEL_ARCHS: Readonly<Record<string, ModelArch>> = {
  'llama-3.1-8b': { name: 'llama-3.1-8b', params: 8.03e9, layers: 32, hiddenSize: 4096, kvHeads: 8, headDim: 128, dtypeBytes: 2, maxModelLen: 131072 },
  'llama-3.1-70b': { name: 'llama-3.1-70b', params: 70.6e9, layers: 80, hiddenSize: 8192, kvHeads: 8, headDim: 128, dtypeBytes: 2, maxModelLen: 131072 },
  'qwen2.5-1.5b': { name: 'qwen2.5-1.5b', params: 1.54e9, layers: 28, hiddenSize: 1536, kvHeads: 2, headDim: 128, dtypeBytes: 2, maxModelLen: 32768 },
};

/** KV bytes for one token across all layers (K and V), whole model (before TP sharding). */
export function kvBytesPerToken(arch: ModelArch): number {
  return 2 * arch.layers * arch.kvHeads * arch.headDim * arch.dtypeBytes;
}

/** Pick an architecture from a served model name ('meta-llama/Llama-3.1-70B-Instruct' → 70b). */
export function archForModelName(model: string): ModelArch {
  const m = model.toLowerCase();
  if (/70b|72b/.test(m)) return MODEL_ARCHS['llama-3.1-70b']!;
  if (/1\.5b|0\.5b|1b\b|tiny|small/.test(m)) return MODEL_ARCHS['qwen2.5-1.5b']!;
  return MODEL_ARCHS['llama-3.1-8b']!;
}

export interface CapacityInput {
  gpu: GpuProfile;
  arch: ModelArch;
  tensorParallelSize: number;
  blockSize: number;
  /** vLLM --gpu-memory-utilization (default 0.9). */
  gpuMemoryUtilization?: number;
  /** Activation / CUDA-graph reserve per GPU, bytes (default 1.5 GB). */
  reserveBytesPerGpu?: number;
}

/**
 * Number of KV blocks that fit, as vLLM computes it at startup:
 * (util × memory × tp − weights − reserve) / (block_size × kv bytes per token).
 * Returns 0 when the weights do not fit.
 */
export function computeNumGpuBlocks(c: CapacityInput): number {
  const util = c.gpuMemoryUtilization ?? 0.9;
  const reserve = (c.reserveBytesPerGpu ?? 1.5e9) * c.tensorParallelSize;
  const weights = c.arch.params * c.arch.dtypeBytes;
  const free = util * c.gpu.memoryBytes * c.tensorParallelSize - weights - reserve;
  if (free <= 0) return 0;
  return Math.floor(free / (c.blockSize * kvBytesPerToken(c.arch)));
}
