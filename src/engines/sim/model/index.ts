export * from './types.js';
export * from './profiles.js';
export { PerfModel, type StepShape } from './perf-model.js';
export { hashBlock, hashFullBlocks } from './block-hash.js';
export { BlockPool } from './block-pool.js';
export { EngineCore, type StepPlan } from './engine-core.js';
export { EngineRunner, type RunnerHooks } from './runner.js';
export { buildEngineConfig, type EngineOptions } from './build.js';
