/**
 * power_of_two picker ("power of two choices", Mitzenmacher 2001): sample two distinct
 * candidates uniformly with ctx.random and take the less loaded one.
 *
 *   load      = inFlight + waiting          (waiting only once scraped, else 0)
 *   effective = (load + 1) / weightFactor   (slow start: a recovering endpoint looks busier;
 *                                            with weightFactor 1 this orders exactly like load)
 *   pick      = argmin effective over the two samples; ties → higher score, then the first sample
 *
 * Two random samples avoid the herd effect of a global least-loaded pick on stale data while
 * keeping the maximum queue exponentially smaller than pure random. One candidate → it.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { EndpointView } from '../types.js';

export function liveLoad(e: EndpointView): number {
  return e.load.inFlight + (e.load.waiting ?? 0);
}

function effective(e: EndpointView): number {
  const wf = e.weightFactor > 0 ? Math.min(1, e.weightFactor) : 1e-6;
  return (liveLoad(e) + 1) / wf;
}

export const powerOfTwoPicker = definePlugin({
  type: 'power_of_two',
  kind: 'picker',
  description: 'sample two candidates, pick the lower (inFlight + waiting + 1) / weightFactor',
  params: z.strictObject({}),
  create: (_params, name) => {
    let note = 'power_of_two';
    return {
      name,
      type: 'power_of_two',
      kind: 'picker',
      pick(ctx, candidates) {
        const n = candidates.length;
        if (n <= 1) {
          note = 'power_of_two (only candidate)';
          return candidates[0];
        }
        const i = Math.min(n - 1, Math.floor(ctx.random() * n));
        let j = Math.min(n - 2, Math.floor(ctx.random() * (n - 1)));
        if (j >= i) j++;
        const a = candidates[i]!;
        const b = candidates[j]!;
        const ea = effective(a.endpoint);
        const eb = effective(b.endpoint);
        const picked = eb < ea || (eb === ea && b.score > a.score) ? b : a;
        const other = picked === a ? b : a;
        note = `power_of_two (load ${liveLoad(picked.endpoint)} vs ${liveLoad(other.endpoint)})`;
        return picked;
      },
      explain: () => note,
    };
  },
});
