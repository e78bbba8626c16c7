/**
 * prefill_cost picker: the endpoint with the least expected work for this request — prefill it
 * must do (uncached prompt + prefill already queued there) plus its decode load. A
 * reimplementation of the cost in NVIDIA Dynamo's KV router docs:
 * `cost = overlap_score_weight · prefill_blocks + decode_blocks`, softmax with router_temperature.
 *
 *   bs          = ctx.kvIndex.blockSize (no index: `blockSize`);  T = prompt tokens (0 if unknown)
 *   uncached_i  = max(0, T − held_i · bs)                held_i: kv_overlap's leading blocks held
 *   queued_i    = pendingPrefillTokens_i (or waiting_i · meanPromptTokens) + sentPrefill_i   scraped
 *               = inFlight_i · meanPromptTokens                                         never scraped
 *   decode_i    = kvUsage_i · kvCapacityBlocks_i + sentBlocks_i   both known (blocks in use)
 *               = running_i · meanPromptTokens / bs + sentBlocks_i   scraped
 *               = inFlight_i · meanPromptTokens / bs               never scraped
 *                 sentPrefill_i / sentBlocks_i: uncached tokens / ⌈T/bs⌉ of the requests this
 *                 picker sent to i since i's last scrape (recorded by onPicked)
 *   cost_i      = (w · (queued_i + uncached_i) / bs + decode_i + ⌈T/bs⌉ + 1) / weightFactor_i
 *                 · (1 − scoreBonus · score_i)         score_i: the profile's scorers, in [0, 1]
 *   temperature = 0: argmin cost (ties → ctx.random)
 *               > 0: P(i) ∝ exp(−(cost_i / min_j cost_j − 1) / temperature)
 *
 * w = `overlapWeight` (Dynamo's overlap_score_weight, default 1): higher favours cache hits
 * (TTFT), lower favours spreading decode load (ITL); 0 ignores prefill entirely. The sent_* terms
 * play the role of queue_depth's "sent since scrape" (and of Dynamo's own active-block
 * accounting): without them every request between two scrapes would go to the same cheapest
 * endpoint, and a fully cached one would look free forever. Like queue_depth, completions since
 * the scrape are not subtracted (errs high until the next scrape). The load view can supply
 * EndpointLoad.pendingPrefillTokens / kvCapacityBlocks; meanPromptTokens fills in without them.
 * The profile's scorers only enter through `scoreBonus` (default 0: ignored; filters still apply):
 * a discount of up to that fraction of the cost, e.g. session_affinity's pin or approx_prefix's
 * learned prefix when the request has no token ids. With no scorers every score is 1 (no effect).
 *
 * Softmax normalisation: Dynamo samples from "normalized" cost logits; we normalise by the minimum
 * (relative excess cost) rather than min–max, so near-equal costs stay near-uniform (min–max would
 * stretch a 1% difference to the full range) and one slow-start outlier does not flatten the rest.
 * cost ≥ 1 (the +1), so the ratio is defined; weightFactor is floored at 1e-3.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import { promptTokenIds } from '../prompt.js';
import type { EndpointView, ScoredEndpoint } from '../types.js';
import { kvHeldBlocks } from './kv_overlap.js';

/** What this picker sent to an endpoint since its last scrape (the scrape does not show it yet). */
interface Sent {
  scrapedAt: number;
  prefillTokens: number;
  blocks: number;
}

export const prefillCostPicker = definePlugin({
  type: 'prefill_cost',
  kind: 'picker',
  description: 'argmin w·(queued + uncached prefill tokens)/bs + decode blocks (Dynamo-style); softmax with temperature > 0',
  params: z.strictObject({
    overlapWeight: z.number().min(0).default(1),
    temperature: z.number().min(0).default(0),
    meanPromptTokens: z.number().positive().default(1024),
    blockSize: z.number().int().min(1).default(16),
    scoreBonus: z.number().min(0).max(0.95).default(0),
  }),
  create: (params, name) => {
    const sent = new Map<string, Sent>();
    let cands: readonly ScoredEndpoint[] = [];
    let uncached: number[] = [];
    let costs: number[] = [];
    let held: number[] = [];
    let blocks = 0;
    let lastBs = 1;
    let lastT = 0;
    let note = 'prefill_cost';

    /** w · queued prefill / bs + decode blocks, before this request. */
    const loadCost = (e: EndpointView, bs: number): number => {
      const l = e.load;
      if (l.running === null || l.waiting === null) return ((params.overlapWeight + 1) * l.inFlight * params.meanPromptTokens) / bs;
      const s = sent.get(e.id);
      const fresh = s !== undefined && s.scrapedAt === l.scrapedAt;
      const queued = (l.pendingPrefillTokens ?? l.waiting * params.meanPromptTokens) + (fresh ? s.prefillTokens : 0);
      const cap = l.kvCapacityBlocks;
      const used = l.kvUsage !== null && cap !== undefined && cap !== null ? Math.min(1, Math.max(0, l.kvUsage)) * cap : (l.running * params.meanPromptTokens) / bs;
      return (params.overlapWeight * queued) / bs + used + (fresh ? s.blocks : 0);
    };

    return {
      name,
      type: 'prefill_cost',
      kind: 'picker',
      pick(ctx, candidates) {
        const n = candidates.length;
        if (n === 0) return undefined;
        const bs = (lastBs = ctx.kvIndex?.blockSize ?? params.blockSize);
        const t = (lastT = promptTokenIds(ctx.request)?.length ?? 0);
        const views = candidates.map((c) => c.endpoint);
        held = new Array<number>(n);
        blocks = kvHeldBlocks(ctx, views, held);
        uncached = new Array<number>(n);
        costs = new Array<number>(n);
        let min = Infinity;
        for (let i = 0; i < n; i++) {
          const e = views[i]!;
          uncached[i] = Math.max(0, t - held[i]! * bs);
          const raw = loadCost(e, bs) + (params.overlapWeight * uncached[i]!) / bs + Math.ceil(t / bs) + 1;
          const wf = e.weightFactor;
          let c = raw / (wf >= 1 ? 1 : wf > 1e-3 ? wf : 1e-3); // NaN weightFactor → floor
          if (params.scoreBonus > 0) c *= 1 - params.scoreBonus * candidates[i]!.score;
          costs[i] = c;
          if (c < min) min = c;
        }
        cands = candidates;
        const picked = params.temperature > 0 ? softmax(ctx.random, candidates, costs, min, params.temperature) : argmin(ctx.random, candidates, costs);
        const i = candidates.indexOf(picked);
        note = `prefill_cost ${costs[i]!.toFixed(1)} blocks (${held[i]}/${blocks} cached${params.temperature > 0 ? `, softmax tau=${params.temperature}` : ''})`;
        return picked;
      },
      onPicked(_ctx, endpoint) {
        const i = cands.findIndex((c) => c.endpoint === endpoint);
        const at = endpoint.load.scrapedAt;
        if (i < 0 || at === null) return;
        let s = sent.get(endpoint.id);
        if (s === undefined || s.scrapedAt !== at) sent.set(endpoint.id, (s = { scrapedAt: at, prefillTokens: 0, blocks: 0 }));
        s.prefillTokens += uncached[i]!;
        s.blocks += Math.ceil(lastT / lastBs);
      },
      onEndpointGone(endpointId) {
        sent.delete(endpointId);
      },
      explain: () => note,
    };
  },
});

function argmin(random: () => number, candidates: readonly ScoredEndpoint[], costs: readonly number[]): ScoredEndpoint {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < candidates.length; i++) {
    const c = costs[i]!;
    if (c < costs[best]!) [best, ties] = [i, 1];
    else if (c === costs[best]! && random() * ++ties < 1) best = i;
  }
  return candidates[best]!;
}

function softmax(random: () => number, candidates: readonly ScoredEndpoint[], costs: readonly number[], min: number, temperature: number): ScoredEndpoint {
  const n = candidates.length;
  const w = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += w[i] = Math.exp(-(costs[i]! / min - 1) / temperature);
  let x = random() * total;
  for (let i = 0; i < n; i++) {
    x -= w[i]!;
    if (x < 0) return candidates[i]!;
  }
  return candidates[n - 1]!; // rounding: x landed exactly on the total
}
