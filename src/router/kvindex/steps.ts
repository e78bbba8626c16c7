/**
 * Test-only steps for the contract suite and the differential test (not exported from ./index.ts):
 * a KvPrefixIndex call as data, so cases are tables and failing streams print as JSON.
 *
 * Block size 4; `T(1, 2, 3)` is the token ids of blocks labelled 1, 2, 3 (label x → 10x..10x+3).
 */
import type { KvPrefixIndex } from './types.js';

export const BS = 4;
export const T = (...labels: number[]): number[] => labels.flatMap((x) => [10 * x, 10 * x + 1, 10 * x + 2, 10 * x + 3]);
const big = (h: number | bigint): bigint => (typeof h === 'bigint' ? h : BigInt(h));

export type Step =
  | { store: string; hashes: (number | bigint)[]; parent: number | bigint | null; tokens: number[]; lora?: number; blockSize?: number }
  | { remove: string; hashes: (number | bigint)[] }
  | { clear: string }
  | { drop: string };

export function applyStep(idx: KvPrefixIndex, s: Step): number {
  if ('store' in s) {
    return idx.blockStored(s.store, { blockHashes: s.hashes.map(big), parentBlockHash: s.parent === null ? null : big(s.parent), tokenIds: s.tokens, blockSize: s.blockSize ?? BS, loraId: s.lora ?? null });
  }
  if ('remove' in s) return idx.blocksRemoved(s.remove, s.hashes.map(big));
  if ('clear' in s) idx.backendCleared(s.clear);
  else idx.removeBackend(s.drop);
  return 0;
}
