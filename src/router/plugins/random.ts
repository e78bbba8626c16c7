/**
 * random picker.
 *
 *   weighted: false (default)  P(i) = 1 / n
 *   weighted: true             P(i) = score_i / Σ_j score_j   (uniform if every score is 0)
 *
 * Weighted mode follows the scores (and therefore slow start: score includes weightFactor), but
 * softly: a better endpoint gets proportionally more, not all, of the traffic.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { ScoredEndpoint } from '../types.js';

export const randomPicker = definePlugin({
  type: 'random',
  kind: 'picker',
  description: 'uniform random, or weighted by score with weighted: true',
  params: z.strictObject({ weighted: z.boolean().default(false) }),
  create: (params, name) => ({
    name,
    type: 'random',
    kind: 'picker',
    usesScores: params.weighted,
    pick(ctx, candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      if (params.weighted) {
        let total = 0;
        for (const c of candidates) total += c.score;
        if (total > 0) {
          let x = ctx.random() * total;
          let last: ScoredEndpoint | undefined;
          for (const c of candidates) {
            if (c.score <= 0) continue;
            last = c;
            x -= c.score;
            if (x < 0) return c;
          }
          return last; // rounding: x landed exactly on the total
        }
      }
      return candidates[Math.min(n - 1, Math.floor(ctx.random() * n))];
    },
    explain: () => (params.weighted ? 'random (weighted)' : 'random'),
  }),
});
