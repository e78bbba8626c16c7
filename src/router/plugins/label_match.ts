/**
 * label_match filter: keep the endpoints whose labels match every entry of `match`.
 *
 *   keep e  ⇔  ∀ (k, v) ∈ match: e.labels[k] === v        (empty match keeps everything)
 *
 * Example: `{ type: label_match, params: { match: { region: eu-west, gpu: h100 } } }`.
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';

export const labelMatchFilter = definePlugin({
  type: 'label_match',
  kind: 'filter',
  description: 'keep endpoints whose labels equal every key/value in match',
  params: z.strictObject({ match: z.record(z.string(), z.string()).default({}) }),
  create: (params, name) => {
    const pairs = Object.entries(params.match);
    return {
      name,
      type: 'label_match',
      kind: 'filter',
      filter(_ctx, endpoints) {
        if (pairs.length === 0) return endpoints.slice();
        return endpoints.filter((e) => pairs.every(([k, v]) => e.labels[k] === v));
      },
    };
  },
});
