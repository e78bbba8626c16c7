/**
 * least_request scorer: prefer the endpoint with the fewest requests in flight from this gateway.
 *
 *   score_i = (min_j inFlight_j + 1) / (inFlight_i + 1)
 *
 * The least-loaded candidate scores exactly 1 and all-equal candidates all score 1 (no
 * preference). The score depends on load RATIOS, not absolute numbers (scale-free): 10 vs 20 in
 * flight scores like 1 vs ~2 does, so a one-request difference matters a lot on idle endpoints and
 * little on busy ones (unlike min-max normalisation, which would blow 10 vs 11 up to 1 vs 0 and
 * swamp every other scorer). The +1 keeps idle endpoints finite. Live counts, so it reacts
 * between metric scrapes.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';

export const leastRequestScorer = definePlugin({
  type: 'least_request',
  kind: 'scorer',
  description: 'score = (min inFlight + 1) / (inFlight + 1)',
  params: z.strictObject({}),
  create: (_params, name) => ({
    name,
    type: 'least_request',
    kind: 'scorer',
    score(_ctx, endpoints) {
      let min = Infinity;
      for (const e of endpoints) if (e.load.inFlight < min) min = e.load.inFlight;
      const out = new Array<number>(endpoints.length);
      for (let i = 0; i < endpoints.length; i++) out[i] = (min + 1) / (endpoints[i]!.load.inFlight + 1);
      return out;
    },
  }),
});
