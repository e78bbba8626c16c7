/**
 * Fleet simulation metrics: the infinite-cache hit-rate bound of a trace, percentiles,
 * imbalance, and the summary `switchyard simulate` prints.
 *
 * Hit rate (token-weighted) = Σ cached prompt tokens / Σ prompt tokens over completed requests,
 * cached tokens being what the engine's prefix cache served when the request was first scheduled.
 *
 * Upper bound (infinite cache, one shared cache, perfect routing): walking the trace in arrival
 * order, block i of a request is hittable when its prefix chain (hash_ids[0..i]) appeared in an
 * earlier request. The hittable prefix P (tokens; a block counts min(traceBlockSize, tokens of
 * it inside input_length)) is then cut to what a paged engine can serve: whole engine blocks, and
 * never the last prompt token (vLLM always recomputes it):
 *
 *   hittable_r = min(⌊P / bs⌋·bs, ⌊(L − 1) / bs⌋·bs)        bs = engine block size, L = input_length
 *
 * So the simulated hit rate never exceeds the bound, and meets it with one worker, an
 * unbounded cache and requests that do not overlap in time.
 */
import { percentileSorted } from '../core/index.js';
import type { TraceRequest } from './trace.js';

export interface UpperBoundOptions {
  /** Tokens per hash id (default 512). */
  readonly traceBlockSize?: number;
  /** The engine's KV block size (default = traceBlockSize). */
  readonly engineBlockSize?: number;
}

export interface UpperBound {
  /** Σ hittable tokens / Σ prompt tokens. */
  readonly hitRate: number;
  readonly hittableTokens: number;
  readonly promptTokens: number;
  /** Hittable tokens per request, in trace order. */
  readonly perRequest: readonly number[];
}

/** The infinite-cache upper bound of the token-weighted prefix hit rate for `requests`. */
export function hitRateUpperBound(requests: readonly Pick<TraceRequest, 'inputLength' | 'hashIds'>[], options: UpperBoundOptions = {}): UpperBound {
  const tb = options.traceBlockSize ?? 512;
  const bs = options.engineBlockSize ?? tb;
  // A trie of prefix chains: node id per (parent node, hash id).
  const nodes = new Map<string, number>();
  let hittable = 0;
  let prompt = 0;
  const perRequest: number[] = [];
  for (const r of requests) {
    const L = r.inputLength;
    let node = 0;
    let p = 0;
    let hitting = true;
    for (let i = 0; i < r.hashIds.length && i * tb < L; i++) {
      const key = `${node}:${r.hashIds[i]!}`;
      const found = nodes.get(key);
      if (found === undefined) {
        hitting = false;
        node = nodes.size + 1;
        nodes.set(key, node);
      } else {
        node = found;
        if (hitting) p += Math.min(tb, L - i * tb);
      }
    }
    const h = Math.min(Math.floor(p / bs) * bs, Math.floor((L - 1) / bs) * bs);
    perRequest.push(h);
    hittable += h;
    prompt += L;
  }
  return { hitRate: prompt > 0 ? hittable / prompt : 0, hittableTokens: hittable, promptTokens: prompt, perRequest };
}

/** Percentiles (0..100) of unsorted samples; NaN when empty. */
export function percentiles(samples: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  return ps.map((p) => percentileSorted(arr, p));
}

/** max / mean over all workers (1 = perfectly even; 1 when nothing was served). */
export function imbalance(perWorker: readonly number[]): number {
  if (perWorker.length === 0) return 1;
  let max = 0;
  let sum = 0;
  for (const v of perWorker) {
    sum += v;
    if (v > max) max = v;
  }
  return sum > 0 ? max / (sum / perWorker.length) : 1;
}

/** A growable Float64 sample buffer (ITL has one sample per output token). */
export class Samples {
  private buf = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  values(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

/** What `switchyard simulate --json` prints (the first eight keys are the stable contract). */
export interface SimulationMetrics {
  /** Token-weighted prefix-cache hit rate, 0..1. */
  hitRate: number;
  /** Infinite-cache upper bound for the trace, 0..1. */
  hitRateUpperBound: number;
  /** Time to first token, ms of simulated time. */
  ttft: { p50: number; p90: number; p99: number };
  /** Inter-token latency, ms of simulated time. */
  itl: { p50: number; p90: number };
  /** Output tokens per second of simulated time (first arrival → last completion). */
  throughputTokensPerS: number;
  /** max/mean of requests served per worker. */
  imbalance: number;
  /** p99 of the router's route() wall time per request, µs (real CPU time, not simulated). */
  decisionP99Us: number;
  /** Requests replayed (after --limit). */
  requests: number;
  /** Requests that finished with all their output tokens. */
  completed: number;
  /** Requests an engine refused (longer than its context or KV capacity) or no endpoint took. */
  rejected: number;
  /** max/mean of (prompt + output) tokens served per worker. */
  imbalanceTokens: number;
  preemptions: number;
  /** Simulated seconds from the first arrival to the last completion. */
  simulatedSeconds: number;
}

/** One finished request, as the summary needs it. */
export interface OutcomeSample {
  readonly worker: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly cachedTokens: number;
  readonly arrivalMs: number;
  readonly firstTokenMs: number | null;
  readonly finishedMs: number;
  readonly preemptions: number;
}

export interface SummaryInput {
  readonly requests: number;
  readonly rejected: number;
  readonly workers: number;
  readonly outcomes: readonly OutcomeSample[];
  readonly itlMs: ArrayLike<number>;
  readonly decisionUs: ArrayLike<number>;
  readonly upperBound: number;
}

export function summarize(s: SummaryInput): SimulationMetrics {
  let prompt = 0;
  let cached = 0;
  let output = 0;
  let preemptions = 0;
  let first = Infinity;
  let last = -Infinity;
  const reqs = new Array<number>(s.workers).fill(0);
  const toks = new Array<number>(s.workers).fill(0);
  const ttft: number[] = [];
  for (const o of s.outcomes) {
    prompt += o.promptTokens;
    cached += o.cachedTokens;
    output += o.outputTokens;
    preemptions += o.preemptions;
    if (o.arrivalMs < first) first = o.arrivalMs;
    if (o.finishedMs > last) last = o.finishedMs;
    reqs[o.worker]!++;
    toks[o.worker]! += o.promptTokens + o.outputTokens;
    if (o.firstTokenMs !== null) ttft.push(o.firstTokenMs - o.arrivalMs);
  }
  const seconds = last > first ? (last - first) / 1000 : 0;
  const [t50, t90, t99] = percentiles(ttft, [50, 90, 99]);
  const [i50, i90] = percentiles(s.itlMs, [50, 90]);
  const [d99] = percentiles(s.decisionUs, [99]);
  return {
    hitRate: prompt > 0 ? cached / prompt : 0,
    hitRateUpperBound: s.upperBound,
    ttft: { p50: t50!, p90: t90!, p99: t99! },
    itl: { p50: i50!, p90: i90! },
    throughputTokensPerS: seconds > 0 ? output / seconds : 0,
    imbalance: imbalance(reqs),
    decisionP99Us: d99!,
    requests: s.requests,
    completed: s.outcomes.length,
    rejected: s.rejected,
    imbalanceTokens: imbalance(toks),
    preemptions,
    simulatedSeconds: seconds,
  };
}
