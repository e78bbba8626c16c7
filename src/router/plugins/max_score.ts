/**
 * max_score picker: the candidate with the highest score.
 *
 *   pick = argmax_i score_i
 *
 * Ties (scores within 1e-9) are broken uniformly at random with ctx.random by reservoir
 * sampling: the k-th tied candidate replaces the current choice with probability 1/k. Without
 * this, equal endpoints (e.g. all idle) would send everything to the first one in list order.
 * Costs one ctx.random() call per tie, none when there is a clear winner.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { ScoredEndpoint } from '../types.js';

const TIE_EPSILON = 1e-9;

export const maxScorePicker = definePlugin({
  type: 'max_score',
  kind: 'picker',
  description: 'highest score wins; ties broken uniformly at random',
  params: z.strictObject({}),
  create: (_params, name) => ({
    name,
    type: 'max_score',
    kind: 'picker',
    usesScores: true,
    pick(ctx, candidates) {
      let best: ScoredEndpoint | undefined;
      let ties = 0;
      for (const c of candidates) {
        if (best === undefined || c.score > best.score + TIE_EPSILON) {
          best = c;
          ties = 1;
        } else if (c.score >= best.score - TIE_EPSILON) {
          ties++;
          if (ctx.random() * ties < 1) best = c;
        }
      }
      return best;
    },
    explain: (_ctx, picked) => `max_score ${picked.score.toFixed(2)}`,
  }),
});
