/**
 * Deterministic embeddings: a bag-of-tokens random projection, L2-normalised. Each token id maps
 * to a fixed pseudo-random unit-ish vector (seeded by the id), and a text's embedding is the
 * normalised sum — so identical texts give identical vectors and texts sharing tokens are close.
 * Not a semantic model: a stand-in with the right shape, cost profile and determinism.
 */
import { mixSeeds, Rng } from '../../../core/index.js';

export const DEFAULT_EMBEDDING_DIM = 768;

export function embedTokens(ids: readonly number[], dim = DEFAULT_EMBEDDING_DIM): number[] {
  const acc = new Float64Array(dim);
  for (const id of ids) {
    const rng = new Rng(mixSeeds(0x5eed, id));
    for (let d = 0; d < dim; d++) acc[d]! += rng.next() * 2 - 1;
  }
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += acc[d]! * acc[d]!;
  norm = Math.sqrt(norm) || 1;
  const out = new Array<number>(dim);
  for (let d = 0; d < dim; d++) out[d] = acc[d]! / norm;
  return out;
}

/** Base64 of little-endian float32s, as OpenAI's encoding_format: 'base64' returns. */
export function embeddingToBase64(v: readonly number[]): string {
  const f = new Float32Array(v);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}
