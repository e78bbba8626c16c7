/**
 * kv_usage scorer: prefer endpoints with free KV-cache memory.
 *
 *   score_i = 1 − clamp(kvUsage_i, 0, 1)     (unknown, i.e. never scraped → 0.5, neutral)
 *
 * High KV usage predicts preemption (the engine evicts running sequences to make room), which
 * hurts latency more than a slightly longer queue. Neutral 0.5 for unknown usage neither favours
 * nor punishes an endpoint that has not been scraped yet.
 */
import { z } from 'zod';
import { clamp } from '../../core/index.js';
import { definePlugin } from '../plugin.js';

export const kvUsageScorer = definePlugin({
  type: 'kv_usage',
  kind: 'scorer',
  description: 'score = 1 - kvUsage (unknown → 0.5)',
  params: z.strictObject({}),
  create: (_params, name) => ({
    name,
    type: 'kv_usage',
    kind: 'scorer',
    score(_ctx, endpoints) {
      const out = new Array<number>(endpoints.length);
      for (let i = 0; i < endpoints.length; i++) {
        const u = endpoints[i]!.load.kvUsage;
        out[i] = u === null || Number.isNaN(u) ? 0.5 : 1 - clamp(u, 0, 1);
      }
      return out;
    },
  }),
});
