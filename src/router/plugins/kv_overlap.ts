/**
 * kv_overlap scorer: prefer the endpoint whose KV cache already holds the longest prefix of the
 * prompt, from the exact KV index (vLLM KV events; llm-d's precise prefix-cache scorer).
 *
 *   B       = full blocks of the prompt (ctx.kvIndex.blockSize tokens each, request.tokenIds)
 *   held_i  = leading prompt blocks endpoint i holds (KvBlockIndex.lookupSlots, 0 if unknown)
 *   score_i = held_i / B
 *           = 0 for all when there is no ctx.kvIndex, no token ids, or B = 0
 *
 * Absolute (a fraction of the prompt), so a 2-block hit on a 100-block prompt barely counts and a
 * full hit scores 1 wherever it is. The prompt is hashed once per request (promptPrefixHashes)
 * and looked up once per call: one probe per block until no backend matches (no allocation).
 */
import { z } from 'zod';
import { definePlugin } from '../plugin.js';
import { promptPrefixHashes } from '../prompt.js';
import type { EndpointView, RoutingContext } from '../types.js';

/**
 * out[i] = leading prompt blocks held by endpoints[i] per ctx.kvIndex (0 without an index or
 * token ids); returns B, the prompt's full blocks. Shared by kv_overlap, prefill_cost, cluster_score.
 */
export function kvHeldBlocks(ctx: RoutingContext, endpoints: readonly EndpointView[], out: number[]): number {
  const n = endpoints.length;
  const index = ctx.kvIndex;
  const hashes = index === undefined ? undefined : promptPrefixHashes(ctx.request, index.blockSize);
  const blocks = hashes === undefined ? 0 : hashes.length >>> 1;
  if (index === undefined || hashes === undefined || blocks === 0) {
    for (let i = 0; i < n; i++) out[i] = 0;
    return blocks;
  }
  const held = index.lookupSlots(hashes);
  for (let i = 0; i < n; i++) {
    const s = index.slotOf(endpoints[i]!.id);
    out[i] = s < 0 ? 0 : (held[s] ?? 0);
  }
  return blocks;
}

export const kvOverlapScorer = definePlugin({
  type: 'kv_overlap',
  kind: 'scorer',
  description: 'score = leading prompt blocks the endpoint holds (exact KV index) / prompt blocks',
  params: z.strictObject({}),
  create: (_params, name) => {
    let lastIds: readonly EndpointView[] = [];
    let lastHeld: number[] = [];
    let lastBlocks = 0;
    return {
      name,
      type: 'kv_overlap',
      kind: 'scorer',
      score(ctx, endpoints) {
        const held = new Array<number>(endpoints.length);
        const blocks = kvHeldBlocks(ctx, endpoints, held);
        const out = new Array<number>(endpoints.length);
        for (let i = 0; i < endpoints.length; i++) out[i] = blocks === 0 ? 0 : held[i]! / blocks;
        [lastIds, lastHeld, lastBlocks] = [endpoints, held, blocks];
        return out;
      },
      explain(_ctx, picked) {
        const i = lastIds.indexOf(picked.endpoint);
        return i < 0 ? undefined : `${lastHeld[i]}/${lastBlocks} blocks cached`;
      },
    };
  },
});
