/**
 * The engine core: a continuous-batching scheduler over a paged KV cache, modelled on vLLM v1.
 *
 * One step = schedule() → (the caller waits plan.durationMs) → complete(). Scheduling:
 *  1. Running requests first, in arrival order. Each asks for its remaining tokens (the rest of
 *     its prompt chunk, or 1 in decode), capped by the step's token budget
 *     (max_num_batched_tokens). If the KV cache cannot grow it, the lowest-priority running
 *     request (the newest) is preempted — its blocks are freed and it goes back to the front of
 *     the waiting queue to be recomputed — until the allocation fits.
 *  2. Then waiting requests, while running < max_num_seqs and budget remains. A request's first
 *     schedule looks up the prefix cache (block-aligned, at most num_tokens − 1 tokens, as vLLM
 *     always recomputes the last token) and computes only the uncached tokens, in chunks
 *     (chunked prefill). No waiting request is admitted in a step that preempted.
 * Completing a step advances every scheduled request; a request whose whole context is now
 * computed samples one output token. Full blocks are hashed and registered in the prefix cache.
 */
import { SwitchyardError } from '../../../core/index.js';
import type { KvCacheEvent } from '../../../kvevents/index.js';
import { hashBlock } from './block-hash.js';
import { BlockPool } from './block-pool.js';
import type { PerfModel } from './perf-model.js';
import type { EngineConfig, EngineObserver, EngineRequest, EngineStats, FinishReason } from './types.js';

class Seq {
  readonly tokens: number[];
  readonly promptLen: number;
  numComputed = 0;
  blocks: number[] = [];
  /** Number of leading blocks already registered in the prefix cache. */
  numCachedBlocks = 0;
  readonly blockHashes: bigint[] = [];
  outputCount = 0;
  cachedTokens = 0;
  scheduledMs: number | null = null;
  firstTokenMs: number | null = null;
  lastTokenMs = 0;
  preemptions = 0;
  finished = false;
  everScheduled = false;
  constructor(readonly req: EngineRequest, readonly arrivalMs: number) {
    this.tokens = req.promptTokenIds.slice();
    this.promptLen = this.tokens.length;
  }
  /** Hash of full block i, computed on demand and memoized (tokens never change once written). */
  blockHash(i: number, bs: number): bigint {
    while (this.blockHashes.length <= i) {
      const k = this.blockHashes.length;
      const parent = k === 0 ? null : this.blockHashes[k - 1]!;
      this.blockHashes.push(hashBlock(parent, this.tokens, k * bs, (k + 1) * bs));
    }
    return this.blockHashes[i]!;
  }
}

interface Scheduled {
  seq: Seq;
  numNew: number;
}

export interface StepPlan {
  readonly startMs: number;
  readonly durationMs: number;
  readonly items: readonly Scheduled[];
  readonly prefillTokens: number;
  readonly decodeTokens: number;
}

export class EngineCore {
  readonly pool: BlockPool;
  private readonly waiting: Seq[] = [];
  private running: Seq[] = [];
  private readonly byId = new Map<string, Seq>();
  private stats = { prefixQueriedTokens: 0, prefixHitTokens: 0, preemptions: 0, promptTokens: 0, generationTokens: 0, steps: 0 };

  constructor(readonly config: EngineConfig, private readonly perf: PerfModel, private readonly observer: EngineObserver = {}) {
    this.pool = new BlockPool(config.numGpuBlocks, config.emitKvEvents);
  }

  /** Validate and enqueue a request. Throws a 400-class SwitchyardError when it can never run. */
  add(req: EngineRequest, nowMs: number): void {
    const { maxModelLen, blockSize, numGpuBlocks } = this.config;
    const p = req.promptTokenIds.length;
    if (p === 0) throw new SwitchyardError('invalid_request', 'The prompt is empty: it must contain at least one token.', { param: 'messages' });
    if (this.byId.has(req.id)) throw new SwitchyardError('conflict', `request id '${req.id}' is already in the engine`);
    if (p + req.maxTokens > maxModelLen) {
      throw new SwitchyardError(
        'context_length_exceeded',
        `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${p + req.maxTokens} tokens (${p} in the messages, ${req.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
        { param: 'messages' },
      );
    }
    if (Math.ceil((p + req.maxTokens) / blockSize) > numGpuBlocks) {
      // vLLM refuses to start when max_model_len does not fit the KV cache; the simulator allows
      // tiny caches (to exercise eviction), so it checks per request instead.
      throw new SwitchyardError(
        'context_length_exceeded',
        `The request needs ${p + req.maxTokens} tokens (${p} prompt + ${req.maxTokens} completion) but this engine's KV cache holds ${numGpuBlocks * blockSize} tokens (${numGpuBlocks} blocks of ${blockSize}). Reduce max_tokens or the prompt.`,
        { param: 'max_tokens' },
      );
    }
    const seq = new Seq(req, nowMs);
    this.byId.set(req.id, seq);
    this.waiting.push(seq);
  }

  /** Abort a request (client went away). Its blocks are released at once. */
  abort(id: string, nowMs: number): boolean {
    const seq = this.byId.get(id);
    if (!seq || seq.finished) return false;
    const wi = this.waiting.indexOf(seq);
    if (wi >= 0) this.waiting.splice(wi, 1);
    const ri = this.running.indexOf(seq);
    if (ri >= 0) this.running.splice(ri, 1);
    this.finish(seq, 'abort', nowMs);
    return true;
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  /** Plan one step. Returns null when idle (or when nothing fits, which add() prevents). */
  schedule(nowMs: number): StepPlan | null {
    const bs = this.config.blockSize;
    let budget = this.config.maxNumBatchedTokens;
    const items: Scheduled[] = [];
    let preempted = false;

    // 1. Running requests.
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i]!;
      const numNew = Math.min(seq.tokens.length - seq.numComputed, budget);
      if (numNew <= 0) continue;
      const need = Math.ceil((seq.numComputed + numNew) / bs) - seq.blocks.length;
      let ok = true;
      while (need > 0 && !this.pool.canAllocate(need, [])) {
        const victim = this.running[this.running.length - 1]!;
        this.preempt(victim);
        preempted = true;
        if (victim === seq) {
          ok = false;
          break;
        }
      }
      if (!ok) break;
      if (need > 0) this.pool.allocate(need, seq.blocks);
      items.push({ seq, numNew });
      budget -= numNew;
    }

    // 2. Waiting requests.
    while (!preempted && budget > 0 && this.waiting.length > 0 && this.running.length < this.config.maxNumSeqs) {
      const seq = this.waiting[0]!;
      const hits = this.config.enablePrefixCaching ? this.lookupPrefix(seq) : [];
      const cachedTokens = hits.length * bs;
      const numNew = Math.min(seq.tokens.length - cachedTokens, budget);
      const need = Math.ceil((cachedTokens + numNew) / bs) - hits.length;
      if (!this.pool.canAllocate(need, hits)) break;
      if (this.config.enablePrefixCaching) {
        this.stats.prefixQueriedTokens += seq.tokens.length;
        this.stats.prefixHitTokens += cachedTokens;
        this.observer.prefixLookup?.(seq.tokens.length, cachedTokens);
      }
      this.pool.touch(hits);
      seq.blocks = hits.slice();
      this.pool.allocate(need, seq.blocks);
      seq.numComputed = cachedTokens;
      seq.numCachedBlocks = hits.length;
      if (!seq.everScheduled) {
        seq.everScheduled = true;
        seq.cachedTokens = cachedTokens;
        seq.scheduledMs = nowMs;
      }
      this.waiting.shift();
      this.running.push(seq);
      items.push({ seq, numNew });
      budget -= numNew;
    }

    if (items.length === 0) return null;
    let newTokens = 0;
    let attnPairs = 0;
    let kvRead = 0;
    let prefillTokens = 0;
    let decodeTokens = 0;
    for (const { seq, numNew } of items) {
      newTokens += numNew;
      attnPairs += numNew * (seq.numComputed + numNew / 2);
      kvRead += seq.numComputed + numNew;
      const isDecode = numNew === 1 && seq.outputCount > 0 && seq.numComputed === seq.tokens.length - 1;
      if (isDecode) decodeTokens += 1;
      else prefillTokens += numNew;
    }
    const durationMs = this.perf.stepMs({ newTokens, attnPairs, kvTokensRead: kvRead });
    this.stats.steps++;
    this.observer.step?.({ startMs: nowMs, durationMs, numRequests: items.length, prefillTokens, decodeTokens });
    return { startMs: nowMs, durationMs, items, prefillTokens, decodeTokens };
  }

  /** Apply a step's results at time `nowMs` (= plan.startMs + plan.durationMs). */
  complete(plan: StepPlan, nowMs: number): void {
    const bs = this.config.blockSize;
    for (const { seq, numNew } of plan.items) {
      if (seq.finished) continue; // aborted during the step
      const wasPrompt = Math.max(0, Math.min(numNew, seq.promptLen - seq.numComputed));
      this.stats.promptTokens += wasPrompt;
      seq.numComputed += numNew;
      if (this.config.enablePrefixCaching) this.cacheFullBlocks(seq, bs);
      if (seq.numComputed < seq.tokens.length) continue; // prefill chunk, more to come
      // The whole context is computed: sample one token.
      const index = seq.outputCount;
      const token = seq.req.nextToken(index);
      seq.tokens.push(token);
      seq.outputCount++;
      this.stats.generationTokens++;
      if (seq.firstTokenMs === null) {
        seq.firstTokenMs = nowMs;
        this.observer.firstToken?.(seq.req.id, nowMs - seq.arrivalMs);
      } else {
        this.observer.interToken?.(seq.req.id, nowMs - seq.lastTokenMs);
      }
      seq.lastTokenMs = nowMs;
      const stopRequested = seq.req.onToken?.(token, index, nowMs) === true;
      const minOk = seq.outputCount >= (seq.req.minTokens ?? 0);
      let reason: FinishReason | null = null;
      if (stopRequested && minOk) reason = 'stop';
      else if (seq.outputCount >= seq.req.maxTokens) reason = 'length';
      else if (!seq.req.ignoreEos && minOk && seq.outputCount >= (seq.req.eosAt ?? Infinity)) reason = 'stop';
      if (reason) {
        const ri = this.running.indexOf(seq);
        if (ri >= 0) this.running.splice(ri, 1);
        this.finish(seq, reason, nowMs);
      }
    }
  }

  drainEvents(): KvCacheEvent[] {
    return this.pool.drainEvents();
  }

  /** Drop the whole prefix cache (vLLM /reset_prefix_cache). */
  resetPrefixCache(): void {
    this.pool.clear();
    for (const seq of this.byId.values()) seq.numCachedBlocks = seq.blocks.length;
  }

  getStats(): EngineStats {
    let pending = 0;
    for (const s of this.running) pending += Math.max(0, s.promptLen - s.numComputed);
    for (const s of this.waiting) pending += Math.max(0, s.tokens.length - s.numComputed);
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvUsage: this.pool.usage(),
      numGpuBlocks: this.pool.numBlocks,
      cachedBlocks: this.pool.numCached,
      evictions: this.pool.evictions,
      pendingPrefillTokens: pending,
      ...this.stats,
    };
  }

  private lookupPrefix(seq: Seq): number[] {
    const bs = this.config.blockSize;
    const maxBlocks = Math.floor((seq.tokens.length - 1) / bs);
    const hits: number[] = [];
    for (let i = 0; i < maxBlocks; i++) {
      const id = this.pool.lookup(seq.blockHash(i, bs));
      if (id === undefined) break;
      hits.push(id);
    }
    return hits;
  }

  private cacheFullBlocks(seq: Seq, bs: number): void {
    const full = Math.min(Math.floor(seq.numComputed / bs), seq.blocks.length);
    if (full <= seq.numCachedBlocks) return;
    const from = seq.numCachedBlocks;
    const ids = seq.blocks.slice(from, full);
    const hashes: bigint[] = [];
    for (let i = from; i < full; i++) hashes.push(seq.blockHash(i, bs));
    const parent = from === 0 ? null : seq.blockHash(from - 1, bs);
    this.pool.cacheBlocks(ids, hashes, seq.tokens.slice(from * bs, full * bs), parent, bs);
    seq.numCachedBlocks = full;
  }

  private preempt(seq: Seq): void {
    const ri = this.running.lastIndexOf(seq);
    if (ri >= 0) this.running.splice(ri, 1);
    this.releaseBlocks(seq);
    seq.numComputed = 0;
    seq.numCachedBlocks = 0;
    seq.preemptions++;
    this.stats.preemptions++;
    this.observer.preempted?.(seq.req.id);
    this.waiting.unshift(seq);
  }

  private releaseBlocks(seq: Seq): void {
    if (seq.blocks.length > 0) this.pool.free(seq.blocks.reverse());
    seq.blocks = [];
  }

  private finish(seq: Seq, reason: FinishReason, nowMs: number): void {
    seq.finished = true;
    this.releaseBlocks(seq);
    this.byId.delete(seq.req.id);
    const result = {
      id: seq.req.id,
      finishReason: reason,
      promptTokens: seq.promptLen,
      outputTokens: seq.outputCount,
      cachedTokens: seq.cachedTokens,
      arrivalMs: seq.arrivalMs,
      scheduledMs: seq.scheduledMs,
      firstTokenMs: seq.firstTokenMs,
      finishedMs: nowMs,
      preemptions: seq.preemptions,
    };
    this.observer.finished?.(result);
    seq.req.onFinish?.(result);
  }
}
