/**
 * approx_prefix scorer: prefer the endpoint that was recently sent the longest prefix of this
 * prompt (approximate prefix-cache affinity without KV events: the SGLang router's approximate
 * radix tree, llm-d's approximate prefix-cache scorer).
 *
 *   keys    = block keys of the prompt (first `maxBlocks`):
 *               tokens → chained hashes of `blockSize`-token blocks (request.tokenIds)
 *               text   → chained hashes of `chunkChars`-character chunks (request.promptText)
 *               auto   → tokens when the request has token ids, else text
 *   score_i = matched_i / |keys|     matched_i = leading keys routed to i within `ttl`
 *           = 0 for all when |keys| = 0 (no prompt, or shorter than one block)
 *
 * onPicked inserts the prompt's keys under the picked endpoint (stamped ctx.now), so the tree
 * learns from this profile's own decisions. Bounded by `ttl` (older entries count as absent) and
 * `maxBlocksPerEndpoint` (LRU); onEndpointGone forgets the endpoint. It predicts, it does not
 * know: an engine that evicted the blocks still scores. With KV events, prefer kv_overlap.
 */
import { z } from 'zod';
import { ApproxPrefixTree, textBlockKeys, tokenBlockKeys } from '../approx-tree.js';
import { definePlugin } from '../plugin.js';
import { promptPrefixHashes } from '../prompt.js';
import type { RouteRequest } from '../types.js';
import { durationParam } from '../util.js';

export const approxPrefixParams = z.strictObject({
  source: z.enum(['auto', 'tokens', 'text']).default('auto'),
  blockSize: z.number().int().min(1).default(16),
  chunkChars: z.number().int().min(1).default(64),
  maxBlocks: z.number().int().min(1).default(256),
  ttl: durationParam().prefault('10m'),
  maxBlocksPerEndpoint: z.number().int().min(1).default(31_250),
});

export type ApproxPrefixParams = z.output<typeof approxPrefixParams>;

const NO_KEYS = new Float64Array(0);

/** The prompt's block keys under `params` (see the formula above). */
export function approxPromptKeys(request: RouteRequest, params: ApproxPrefixParams): Float64Array {
  const useTokens = params.source === 'tokens' || (params.source === 'auto' && request.tokenIds !== undefined);
  if (useTokens) return tokenBlockKeys(promptPrefixHashes(request, params.blockSize), params.maxBlocks);
  const text = request.promptText;
  return text === undefined ? NO_KEYS : textBlockKeys(text, params.chunkChars, params.maxBlocks);
}

/**
 * The tree plus a one-request memo of the keys (score() computes them, onPicked reuses them).
 * Shared by approx_prefix and cluster_score.
 */
export class ApproxPrefixState {
  readonly tree: ApproxPrefixTree;
  private lastRequest: RouteRequest | undefined;
  private lastKeys: Float64Array = NO_KEYS;

  constructor(private readonly params: ApproxPrefixParams) {
    this.tree = new ApproxPrefixTree({ ttlMs: params.ttl, maxBlocksPerEndpoint: params.maxBlocksPerEndpoint });
  }

  keys(request: RouteRequest): Float64Array {
    if (request !== this.lastRequest) {
      this.lastKeys = approxPromptKeys(request, this.params);
      this.lastRequest = request;
    }
    return this.lastKeys;
  }

  /** out[i] = matched fraction for endpoints[i]; returns |keys|. */
  fractions(request: RouteRequest, endpoints: readonly { readonly id: string }[], now: number, out: number[]): number {
    const keys = this.keys(request);
    this.tree.match(keys, endpoints, now, out);
    const b = keys.length;
    for (let i = 0; i < endpoints.length; i++) out[i] = b === 0 ? 0 : out[i]! / b;
    return b;
  }
}

export const approxPrefixScorer = definePlugin({
  type: 'approx_prefix',
  kind: 'scorer',
  description: 'score = leading prompt blocks recently routed to the endpoint / prompt blocks (learned from own picks, ttl + LRU bounded)',
  params: approxPrefixParams,
  create: (params, name) => {
    const state = new ApproxPrefixState(params);
    let lastIds: readonly { readonly id: string }[] = [];
    let lastScores: number[] = [];
    let lastBlocks = 0;
    return {
      name,
      type: 'approx_prefix',
      kind: 'scorer',
      score(ctx, endpoints) {
        const out = new Array<number>(endpoints.length);
        lastBlocks = state.fractions(ctx.request, endpoints, ctx.now, out);
        lastIds = endpoints;
        lastScores = out;
        return out;
      },
      onPicked(ctx, endpoint) {
        state.tree.insert(endpoint.id, state.keys(ctx.request), ctx.now);
      },
      onEndpointGone(endpointId) {
        state.tree.remove(endpointId);
      },
      explain(_ctx, picked) {
        const i = lastIds.indexOf(picked.endpoint);
        return i < 0 ? undefined : `~${Math.round(lastScores[i]! * lastBlocks)}/${lastBlocks} blocks routed here before`;
      },
    };
  },
});
