/**
 * round_robin picker: rotates over the candidates in stable id order and ignores scores (and so
 * slow start).
 *
 *   pick = the candidate with the smallest id > last picked id; if none, the smallest id
 *
 * The cursor is the last picked id (per profile instance), not a position, so the rotation stays
 * fair when the candidate set changes between calls (a retry excludes one endpoint, a replica
 * flaps): nobody is skipped or picked twice in a row because the list shifted. O(n), no sorting.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import type { ScoredEndpoint } from '../types.js';

export const roundRobinPicker = definePlugin({
  type: 'round_robin',
  kind: 'picker',
  description: 'rotate over candidates in stable id order, ignoring scores',
  params: z.strictObject({}),
  create: (_params, name) => {
    let last: string | undefined;
    return {
      name,
      type: 'round_robin',
      kind: 'picker',
      pick(_ctx, candidates) {
        let next: ScoredEndpoint | undefined; // smallest id > last
        let first: ScoredEndpoint | undefined; // smallest id overall (wrap-around)
        for (const c of candidates) {
          const id = c.endpoint.id;
          if (first === undefined || id < first.endpoint.id) first = c;
          if (last !== undefined && id > last && (next === undefined || id < next.endpoint.id)) next = c;
        }
        const picked = next ?? first;
        if (picked !== undefined) last = picked.endpoint.id;
        return picked;
      },
      explain: () => 'round_robin',
    };
  },
});
