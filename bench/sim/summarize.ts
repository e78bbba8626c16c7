/** The result of one sweep point, and the reductions from raw records and samples to it. */
import type { StampedStats } from './engine.js';
import type { RequestRecord, WindowLatency } from './load.js';
import { mean, minMeanMax, type MinMeanMax, percentile } from './stats.js';

export interface PointResult {
  speedup: number;
  windowS: number;
  warmup: {
    /** Time to open the N keep-alive connections against the idle worker, before any stream. */
    connectS: number;
    /** Warm-up actually spent before the window. */
    s: number;
    /** From the first request to: N streams open at once / every stream's first token (NaN = never). */
    allOpenS: number;
    rampS: number;
    /** False when the warm-up cap was hit before every stream produced a token. */
    complete: boolean;
  };
  client: {
    /** Content deltas (= tokens) received per second within the window. */
    outputTokPerS: number;
    /** Σ usage.completion_tokens of streams that completed within the window, per second. */
    usageTokPerS: number;
    requestsPerS: number;
    completed: number;
    /** Failed requests that ended within the window / during the whole run (warm-up included). */
    errorsInWindow: number;
    errorsTotal: number;
    errorKinds: Record<string, number>;
    /** Completed streams whose delta count differs from usage.completion_tokens or from max_tokens. */
    tokenMismatches: number;
    /** Requests whose first token arrived within the window. */
    ttftMs: { p50: number; p99: number };
    /** Per stream, mean gap between the deltas it received within the window, wall clock. */
    interTokenMs: { mean: number; p50: number; p99: number };
    inFlight: MinMeanMax;
    openStreams: MinMeanMax;
    cpuPct: number;
  };
  worker: {
    /** utime+stime of all threads, % of one core. */
    cpuPct: number;
    /** Main (JS) thread: % of the window on a CPU, and % runnable but waiting for one. */
    mainThreadCpuPct: number;
    mainThreadWaitPct: number;
    rssMiB: number;
    peakRssMiB: number;
    /** Round-trip of GET /sim/stats during the window: how long the event loop takes to answer. */
    statsLatencyMs: { p50: number; max: number };
    exited: string | null;
  };
  engine: {
    genTokPerS: number;
    promptTokPerS: number;
    stepsPerS: number;
    tokensPerStep: number;
    running: MinMeanMax;
    waiting: MinMeanMax;
    preemptions: number;
    prefixHitPct: number;
  };
  host: { stealPct: number; otherCpuPct: number; loadAvg1: number };
}

export type ClientSummary = Pick<PointResult['client'], 'usageTokPerS' | 'requestsPerS' | 'completed' | 'errorsInWindow' | 'errorsTotal' | 'errorKinds' | 'tokenMismatches' | 'ttftMs' | 'interTokenMs'>;

/**
 * Client-side view: throughput and errors from the requests that ended within [t0, t1) (errors also
 * over the whole run), latency from what arrived within the window.
 */
export function summarizeClient(records: readonly RequestRecord[], latency: WindowLatency, t0: number, t1: number): ClientSummary {
  const windowS = (t1 - t0) / 1000;
  const errorKinds: Record<string, number> = {};
  let errorsInWindow = 0;
  let errorsTotal = 0;
  let completed = 0;
  let usageTokens = 0;
  let tokenMismatches = 0;
  for (const r of records) {
    const inWindow = r.endMs >= t0 && r.endMs < t1;
    if (r.error !== null) {
      errorsTotal++;
      errorKinds[r.error] = (errorKinds[r.error] ?? 0) + 1;
      if (inWindow) errorsInWindow++;
      continue;
    }
    if (!inWindow) continue;
    completed++;
    usageTokens += r.completionTokens ?? 0;
    if (r.deltas !== r.completionTokens || r.completionTokens !== r.maxTokens) tokenMismatches++;
  }
  return {
    usageTokPerS: usageTokens / windowS,
    requestsPerS: completed / windowS,
    completed,
    errorsInWindow,
    errorsTotal,
    errorKinds,
    tokenMismatches,
    ttftMs: { p50: percentile(latency.ttftMs, 50), p99: percentile(latency.ttftMs, 99) },
    interTokenMs: { mean: mean(latency.gapMs), p50: percentile(latency.gapMs, 50), p99: percentile(latency.gapMs, 99) },
  };
}

/** The engine's own counters over the window (deltas of /sim/stats) and its sampled queue sizes. */
export function summarizeEngine(s0: StampedStats, s1: StampedStats, samples: readonly StampedStats[]): PointResult['engine'] {
  const dt = (s1.atMs - s0.atMs) / 1000;
  const d = (k: 'generationTokens' | 'promptTokens' | 'steps' | 'preemptions' | 'prefixHitTokens' | 'prefixQueriedTokens'): number => s1.stats[k] - s0.stats[k];
  return {
    genTokPerS: d('generationTokens') / dt,
    promptTokPerS: d('promptTokens') / dt,
    stepsPerS: d('steps') / dt,
    tokensPerStep: d('steps') > 0 ? d('generationTokens') / d('steps') : NaN,
    running: minMeanMax(samples.map((s) => s.stats.running)),
    waiting: minMeanMax(samples.map((s) => s.stats.waiting)),
    preemptions: d('preemptions'),
    prefixHitPct: d('prefixQueriedTokens') > 0 ? (d('prefixHitTokens') / d('prefixQueriedTokens')) * 100 : NaN,
  };
}
