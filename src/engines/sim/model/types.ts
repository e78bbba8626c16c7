/** Public types of the simulated engine model (pure: no I/O, time passed in by the caller). */

export type FinishReason = 'stop' | 'length' | 'abort';

/**
 * Request lifecycle inside the engine:
 * - waiting:   queued, holds no KV blocks (new, or preempted and waiting to recompute)
 * - running:   holds KV blocks; prefilling (chunked) or decoding one token per step
 * - finished:  stopped (EOS, stop sequence), hit max_tokens, or aborted; blocks released
 */
export type RequestPhase = 'waiting' | 'running' | 'finished';

export interface EngineRequest {
  id: string;
  promptTokenIds: readonly number[];
  /** Maximum output tokens (max_tokens). */
  maxTokens: number;
  /** Minimum output tokens before EOS may end the request (vLLM min_tokens). */
  minTokens?: number;
  /** Do not stop at the model's natural end (vLLM ignore_eos). */
  ignoreEos?: boolean;
  /** Output length at which the simulated model emits EOS, unless ignoreEos. Infinity = never. */
  eosAt?: number;
  /** Deterministic output token generator: the token at output position `index`. */
  nextToken(index: number): number;
  /** Called for each output token; return true to stop now (a stop sequence matched). */
  onToken?(tokenId: number, index: number, now: number): boolean | void;
  onFinish?(result: FinishedRequest): void;
}

export interface FinishedRequest {
  id: string;
  finishReason: FinishReason;
  promptTokens: number;
  outputTokens: number;
  /** Prompt tokens served from the prefix cache when the request was first scheduled. */
  cachedTokens: number;
  arrivalMs: number;
  /** First time the request was scheduled (queue time = this − arrival). */
  scheduledMs: number | null;
  firstTokenMs: number | null;
  finishedMs: number;
  preemptions: number;
}

export interface EngineConfig {
  blockSize: number;
  numGpuBlocks: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  enablePrefixCaching: boolean;
  /** Emit KV cache events (BlockStored/BlockRemoved/AllBlocksCleared). */
  emitKvEvents: boolean;
}

/** Observer hooks for metrics; all times in ms of the engine's clock. */
export interface EngineObserver {
  firstToken?(id: string, ttftMs: number): void;
  interToken?(id: string, itlMs: number): void;
  finished?(result: FinishedRequest): void;
  preempted?(id: string): void;
  prefixLookup?(queriedTokens: number, hitTokens: number): void;
  step?(info: StepInfo): void;
}

export interface StepInfo {
  startMs: number;
  durationMs: number;
  numRequests: number;
  prefillTokens: number;
  decodeTokens: number;
}

export interface EngineStats {
  running: number;
  waiting: number;
  kvUsage: number;
  numGpuBlocks: number;
  cachedBlocks: number;
  prefixQueriedTokens: number;
  prefixHitTokens: number;
  preemptions: number;
  evictions: number;
  promptTokens: number;
  generationTokens: number;
  steps: number;
  /** Prefill tokens scheduled but not yet computed, across running and waiting requests. */
  pendingPrefillTokens: number;
}
