/**
 * cluster_score scorer: the global layer's one-number view of a cluster (or any endpoint) from
 * coarse signals — prefix locality, session pin, load headroom, network latency (the seed design):
 *
 *   score_i   = (w_c·cache_i + w_s·session_i + w_l·load_i + w_t·latency_i) / (w_c + w_s + w_l + w_t)
 *               weights default 0.35 / 0.25 / 0.25 / 0.15
 *   cache_i   = max(exact_i, approx_i)
 *               exact_i  = leading prompt blocks i holds / prompt blocks (ctx.kvIndex, as kv_overlap;
 *                          0 when the index does not know i — e.g. it is keyed by workers, i is a cluster)
 *               approx_i = approx_prefix's learned match (tree fed by this scorer's own picks)
 *   session_i = session_affinity: 1 pinned here / 0 pinned elsewhere / 0.5 no pin (same ttl)
 *   load_i    = 1 / (1 + q_i / (k · max(1, weight_i)))     q = estimatedQueue (queue_depth's q);
 *               weight = replicas behind a cluster view, so k is the comfortable depth per replica
 *   latency_i = 1 / (1 + ms_i / latencyHalfMs)             ms = Number(labels[latencyLabel]);
 *               0.5 (neutral) when the label is missing or not a non-negative number
 *
 * One scorer instead of four in a profile because the global layer's config is one formula with
 * one set of weights (and one clamp); the parts reuse session_affinity, approx_prefix and
 * kv_overlap, so they behave exactly like those plugins. Weight 0 skips a part entirely.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { EndpointView } from '../types.js';
import { durationParam } from '../util.js';
import { ApproxPrefixState, approxPrefixParams } from './approx_prefix.js';
import { kvHeldBlocks } from './kv_overlap.js';
import { estimatedQueue } from './queue_depth.js';
import { sessionAffinityScorer } from './session_affinity.js';

const weight = (d: number) => z.number().min(0).default(d);
const PARTS = ['cache', 'session', 'load', 'latency'] as const;

export const clusterScoreScorer = definePlugin({
  type: 'cluster_score',
  kind: 'scorer',
  description: 'score = (0.35·cache + 0.25·session + 0.25·load headroom + 0.15·latency) / Σw, weights configurable',
  params: z.strictObject({
    weights: z
      .strictObject({ cache: weight(0.35), session: weight(0.25), load: weight(0.25), latency: weight(0.15) })
      .prefault({})
      .refine((w) => w.cache + w.session + w.load + w.latency > 0, { error: 'at least one weight must be > 0' }),
    ttl: durationParam().prefault('10m'),
    header: z.string().min(1).optional(),
    k: z.number().positive().default(8),
    latencyLabel: z.string().min(1).default('latencyMs'),
    latencyHalfMs: z.number().positive().default(50),
  }),
  create: (params, name) => {
    const w = params.weights;
    const total = w.cache + w.session + w.load + w.latency;
    const session = sessionAffinityScorer.create(sessionAffinityScorer.params.parse({ ttl: params.ttl, ...(params.header === undefined ? {} : { header: params.header }) }), `${name}.session`);
    const approx = new ApproxPrefixState(approxPrefixParams.parse({ ttl: params.ttl }));
    let lastIds: readonly EndpointView[] = [];
    let lastParts: number[][] = [];
    return {
      name,
      type: 'cluster_score',
      kind: 'scorer',
      score(ctx, endpoints) {
        const n = endpoints.length;
        const cache = new Array<number>(n).fill(0);
        if (w.cache > 0) {
          const fromTree = new Array<number>(n);
          const blocks = kvHeldBlocks(ctx, endpoints, cache);
          approx.fractions(ctx.request, endpoints, ctx.now, fromTree);
          for (let i = 0; i < n; i++) cache[i] = Math.max(blocks === 0 ? 0 : cache[i]! / blocks, fromTree[i]!);
        }
        const pinned = w.session > 0 ? session.score(ctx, endpoints) : new Array<number>(n).fill(0.5);
        const load = new Array<number>(n);
        const latency = new Array<number>(n);
        const out = new Array<number>(n);
        for (let i = 0; i < n; i++) {
          const e = endpoints[i]!;
          load[i] = 1 / (1 + estimatedQueue(e.load) / (params.k * Math.max(1, e.weight)));
          const raw = e.labels[params.latencyLabel];
          const ms = raw === undefined || raw === '' ? NaN : Number(raw);
          latency[i] = ms >= 0 ? 1 / (1 + ms / params.latencyHalfMs) : 0.5;
          out[i] = (w.cache * cache[i]! + w.session * pinned[i]! + w.load * load[i]! + w.latency * latency[i]!) / total;
        }
        lastIds = endpoints;
        lastParts = [cache, pinned, load, latency];
        return out;
      },
      onPicked(ctx, endpoint) {
        if (w.session > 0) session.onPicked?.(ctx, endpoint);
        if (w.cache > 0) approx.tree.insert(endpoint.id, approx.keys(ctx.request), ctx.now);
      },
      onEndpointGone(endpointId) {
        session.onEndpointGone?.(endpointId);
        approx.tree.remove(endpointId);
      },
      explain(_ctx, picked) {
        const i = lastIds.indexOf(picked.endpoint);
        return i < 0 ? undefined : PARTS.map((p, j) => `${p} ${lastParts[j]![i]!.toFixed(2)}`).join(', ');
      },
    };
  },
});
