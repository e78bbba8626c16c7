/**
 * queue_depth scorer: prefer endpoints with a short queue, using the load view.
 *
 *   q_i     = waiting + running + max(0, inFlight − inFlightAtScrape)   once scraped
 *           = inFlight                                                   never scraped
 *   score_i = 1 / (1 + q_i / k)                                          (k > 0, default 8)
 *           = (max_j q_j − q_i) / (max_j q_j − min_j q_j), all equal → 1    mode: minmax
 *
 * q is the engine's last scraped depth plus what this gateway sent since that scrape (scrapes
 * lag; our own sends do not). Completions since the scrape are not subtracted (we cannot tell
 * them from other gateways' traffic), so q errs high until the next scrape.
 *
 * Why 1/(1 + q/k) rather than 1 − q/max(q): it is absolute, so an endpoint's score depends only
 * on its own queue — it does not jump when another endpoint's queue changes, all-idle endpoints
 * score 1 instead of 0/0, and a 1-vs-0 difference between near-idle endpoints is not inflated to
 * the full [0,1] range (which would override kv_usage and affinity). k is the depth at which the
 * score halves; set it near the engine's comfortable batch size.
 *
 * `mode: minmax` is llm-d's queue-scorer normalisation (relative: the shortest queue scores 1, the
 * longest 0), kept for the llmd_default profile's fidelity; it has the drawbacks just listed.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { EndpointLoad } from '../types.js';

/**
 * Estimated queue depth (see the formula above): the single definition, shared by this scorer,
 * the gateway's load view and the fleet simulator. Unknown (never or no longer scraped) engine
 * counts fall back to the live in-flight count.
 */
export function estimatedQueue(l: EndpointLoad): number {
  if (l.running === null || l.waiting === null) return l.inFlight;
  return l.waiting + l.running + Math.max(0, l.inFlight - l.inFlightAtScrape);
}

export const queueDepthScorer = definePlugin({
  type: 'queue_depth',
  kind: 'scorer',
  description: 'q = waiting + running + sent since scrape; score = 1 / (1 + q/k), or min-max normalised (mode: minmax)',
  params: z.strictObject({ k: z.number().positive().default(8), mode: z.enum(['absolute', 'minmax']).default('absolute') }),
  create: (params, name) => ({
    name,
    type: 'queue_depth',
    kind: 'scorer',
    score(_ctx, endpoints) {
      const n = endpoints.length;
      const out = new Array<number>(n);
      if (params.mode === 'absolute') {
        for (let i = 0; i < n; i++) out[i] = 1 / (1 + estimatedQueue(endpoints[i]!.load) / params.k);
        return out;
      }
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const q = (out[i] = estimatedQueue(endpoints[i]!.load));
        if (q < lo) lo = q;
        if (q > hi) hi = q;
      }
      for (let i = 0; i < n; i++) out[i] = hi > lo ? (hi - out[i]!) / (hi - lo) : 1;
      return out;
    },
  }),
});
