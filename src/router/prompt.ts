/**
 * The request's prompt as KV-aware plugins see it: token ids and their chained block hashes,
 * computed lazily and at most once per request object (several plugins, both routing layers and
 * onPicked share one computation). Memoised in a WeakMap keyed by the RouteRequest, so nothing
 * outlives the request and requests without `tokenIds` never touch the map.
 *
 *   promptTokenIds(request)           → request.tokenIds() (called once), or undefined
 *   promptPrefixHashes(request, 16)   → kvPrefixHashes(tokens, 16, { loraId }) (once per block size)
 */
import { kvPrefixHashes, type PrefixHashes } from './kvindex/index.js';
import type { RouteRequest } from './types.js';

interface Memo {
  tokens: ArrayLike<number> | undefined;
  /** Block sizes hashed so far and their hashes (rarely more than one). */
  sizes: number[];
  hashes: PrefixHashes[];
}

const memos = new WeakMap<RouteRequest, Memo>();
const EMPTY: PrefixHashes = new Uint32Array(0);

function memoOf(request: RouteRequest): Memo | undefined {
  const thunk = request.tokenIds;
  if (thunk === undefined) return undefined;
  let m = memos.get(request);
  if (m === undefined) {
    m = { tokens: thunk.call(request), sizes: [], hashes: [] };
    memos.set(request, m);
  }
  return m;
}

/** The prompt's token ids (request.tokenIds() is called at most once per request), or undefined. */
export function promptTokenIds(request: RouteRequest): ArrayLike<number> | undefined {
  return memoOf(request)?.tokens;
}

/**
 * Our chained hashes of the prompt's full blocks of `blockSize` tokens, rooted at the request's
 * loraId: what KvBlockIndex.lookupSlots takes. Empty when the request has no token ids (or a
 * prompt shorter than one block). Computed once per (request, blockSize); do not mutate.
 */
export function promptPrefixHashes(request: RouteRequest, blockSize: number): PrefixHashes {
  const m = memoOf(request);
  if (m === undefined || m.tokens === undefined) return EMPTY;
  const i = m.sizes.indexOf(blockSize);
  if (i >= 0) return m.hashes[i]!;
  const h = kvPrefixHashes(m.tokens, blockSize, { loraId: request.loraId ?? null });
  m.sizes.push(blockSize);
  m.hashes.push(h);
  return h;
}
