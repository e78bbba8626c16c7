/** Compile engine options (as given on the command line) into an EngineConfig + PerfModel. */
import { SwitchyardError } from '../../../core/index.js';
import { PerfModel } from './perf-model.js';
import { archForModelName, computeNumGpuBlocks, GPU_PROFILES, MODEL_ARCHS, type GpuType, type ModelArch } from './profiles.js';
import type { EngineConfig } from './types.js';

export interface EngineOptions {
  model: string;
  gpu?: GpuType;
  /** Architecture profile name (see MODEL_ARCHS); default: guessed from the model name. */
  arch?: string;
  tensorParallelSize?: number;
  blockSize?: number;
  /** Override the computed KV capacity (small values exercise eviction and preemption). */
  numGpuBlocks?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  maxModelLen?: number;
  enablePrefixCaching?: boolean;
  emitKvEvents?: boolean;
}

export interface CompiledEngine {
  config: EngineConfig;
  perf: PerfModel;
  arch: ModelArch;
  gpu: GpuType;
  tensorParallelSize: number;
}

export function buildEngineConfig(o: EngineOptions): CompiledEngine {
  const gpuName = o.gpu ?? 'A100';
  const gpu = GPU_PROFILES[gpuName];
  if (!gpu) throw new SwitchyardError('invalid_argument', `unknown GPU '${String(gpuName)}'; expected one of ${Object.keys(GPU_PROFILES).join(', ')}`, { param: 'gpu' });
  let arch = archForModelName(o.model);
  if (o.arch !== undefined) {
    const a = MODEL_ARCHS[o.arch];
    if (!a) throw new SwitchyardError('invalid_argument', `unknown arch '${o.arch}'; expected one of ${Object.keys(MODEL_ARCHS).join(', ')}`, { param: 'arch' });
    arch = a;
  }
  const tp = o.tensorParallelSize ?? 1;
  if (!Number.isInteger(tp) || tp < 1 || (tp & (tp - 1)) !== 0) throw new SwitchyardError('invalid_argument', `tensor parallel size must be a power of two (1, 2, 4, 8), got ${tp}`, { param: 'tensor-parallel-size' });
  const blockSize = o.blockSize ?? 16;
  if (![1, 8, 16, 32, 64, 128].includes(blockSize)) throw new SwitchyardError('invalid_argument', `block size must be one of 1, 8, 16, 32, 64, 128 (as vLLM allows), got ${blockSize}`, { param: 'block-size' });
  const numGpuBlocks = o.numGpuBlocks ?? computeNumGpuBlocks({ gpu, arch, tensorParallelSize: tp, blockSize });
  if (numGpuBlocks <= 0) {
    throw new SwitchyardError('invalid_argument', `model ${arch.name} (${(arch.params / 1e9).toFixed(1)}B params) does not fit on ${tp}× ${gpu.name}; raise --tensor-parallel-size or pick a larger GPU`, { param: 'gpu' });
  }
  const config: EngineConfig = {
    blockSize,
    numGpuBlocks,
    maxNumSeqs: o.maxNumSeqs ?? 256,
    maxNumBatchedTokens: o.maxNumBatchedTokens ?? gpu.defaultMaxNumBatchedTokens,
    maxModelLen: o.maxModelLen ?? Math.min(arch.maxModelLen, 32768),
    enablePrefixCaching: o.enablePrefixCaching ?? true,
    emitKvEvents: o.emitKvEvents ?? true,
  };
  return { config, perf: new PerfModel(gpu, arch, tp), arch, gpu: gpuName, tensorParallelSize: tp };
}
