/**
 * cache_aware picker: cache affinity while the load is balanced, shortest queue when it is not.
 * A reimplementation of the SGLang router's cache_aware policy from its public docs; pair it with
 * a prefix scorer (approx_prefix, as SGLang's approximate tree, or kv_overlap), whose score is
 * the prompt's match rate.
 *
 *   load_i      = inFlight_i (the router's own count, as SGLang's)
 *   imbalanced ⇔ max load − min load > balanceAbsThreshold  and  max load > balanceRelThreshold · min load
 *   pick        = imbalanced                    → argmin (load_i + 1) / weightFactor_i
 *                 max_i score_i > cacheThreshold → argmax score_i               (cache affinity)
 *                 otherwise                     → argmin kvUsage_i (unknown 0.5), then load
 *   ties → ctx.random
 *
 * Below the threshold SGLang picks the worker with the smallest approximate tree ("most cache
 * space"); we have the engine's measured KV usage, so the most free KV cache stands in for it.
 * Defaults (0.3, 64, 1.5) are the documented ones. The score includes weightFactor (slow start).
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { ScoredEndpoint } from '../types.js';

export const cacheAwarePicker = definePlugin({
  type: 'cache_aware',
  kind: 'picker',
  description: 'SGLang-style: shortest queue when imbalanced (abs and rel thresholds), else best prefix match above cacheThreshold, else most free KV',
  params: z.strictObject({
    cacheThreshold: z.number().min(0).max(1).default(0.3),
    balanceAbsThreshold: z.number().min(0).default(64),
    balanceRelThreshold: z.number().min(1).default(1.5),
  }),
  create: (params, name) => {
    let note = 'cache_aware';
    return {
      name,
      type: 'cache_aware',
      kind: 'picker',
      pick(ctx, candidates) {
        if (candidates.length === 0) return undefined;
        let lo = Infinity;
        let hi = -Infinity;
        for (const c of candidates) {
          const l = c.endpoint.load.inFlight;
          if (l < lo) lo = l;
          if (l > hi) hi = l;
        }
        if (hi - lo > params.balanceAbsThreshold && hi > params.balanceRelThreshold * lo) {
          note = `cache_aware (imbalanced ${lo}..${hi} in flight: least loaded)`;
          return best(ctx.random, candidates, (c) => -load(c));
        }
        const top = best(ctx.random, candidates, (c) => c.score);
        if (top.score > params.cacheThreshold) {
          note = `cache_aware (match ${top.score.toFixed(2)} > ${params.cacheThreshold})`;
          return top;
        }
        note = `cache_aware (match ${top.score.toFixed(2)} <= ${params.cacheThreshold}: most free KV)`;
        let minKv = Infinity;
        for (const c of candidates) minKv = Math.min(minKv, kv(c));
        return best(ctx.random, candidates.filter((c) => kv(c) <= minKv + 1e-9), (c) => -load(c));
      },
      explain: () => note,
    };
  },
});

function kv(c: ScoredEndpoint): number {
  const u = c.endpoint.load.kvUsage;
  return u === null || Number.isNaN(u) ? 0.5 : u;
}

function load(c: ScoredEndpoint): number {
  const wf = c.endpoint.weightFactor;
  return (c.endpoint.load.inFlight + 1) / (wf >= 1 ? 1 : wf > 1e-3 ? wf : 1e-3);
}

/** argmax key, ties (within 1e-12) broken uniformly at random. */
function best(random: () => number, candidates: readonly ScoredEndpoint[], key: (c: ScoredEndpoint) => number): ScoredEndpoint {
  let top = candidates[0]!;
  let topKey = key(top);
  let ties = 1;
  for (let i = 1; i < candidates.length; i++) {
    const c = candidates[i]!;
    const k = key(c);
    if (k > topKey + 1e-12) [top, topKey, ties] = [c, k, 1];
    else if (k >= topKey - 1e-12 && random() * ++ties < 1) top = c;
  }
  return top;
}
