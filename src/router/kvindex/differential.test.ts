/**
 * Differential test: KvBlockIndex against ReferenceKvIndex on seeded random event streams,
 * compared after every op (return values, stats counts, lookups). A failure is shrunk to a
 * minimal op sequence, printed in the assertion message ready to paste into a test.
 */
import { describe, expect, it } from 'vitest';
import { firstMismatch, formatOps, randomCase, shrinkOps } from './differential.js';
import { KvBlockIndex } from './kv-index.js';
import { ReferenceKvIndex } from './reference.js';
import type { KvIndexOptions, KvPrefixIndex } from './types.js';

const CASES = 300;

/** Run seeds until one fails; shrink it. Returns null when all agree. */
function hunt(makeFast: (o: KvIndexOptions) => KvPrefixIndex, seeds: number): { report: string; minimal: number } | null {
  const makeRef = (o: KvIndexOptions): KvPrefixIndex => new ReferenceKvIndex(o);
  for (let seed = 1; seed <= seeds; seed++) {
    const c = randomCase(seed);
    if (firstMismatch(c, makeFast, makeRef) === null) continue;
    const minimal = shrinkOps(c.ops, (ops) => firstMismatch({ ...c, ops }, makeFast, makeRef) !== null);
    const why = firstMismatch({ ...c, ops: minimal }, makeFast, makeRef);
    const report = `seed ${seed} (opts ${JSON.stringify(c.opts)}): ${c.ops.length} ops shrunk to ${minimal.length}:\n${formatOps(minimal)}\n${why}`;
    return { report, minimal: minimal.length };
  }
  return null;
}

describe('KvBlockIndex ≡ ReferenceKvIndex (differential)', () => {
  it(`agrees on ${CASES} seeded random event streams (caps on and off)`, () => {
    const failure = hunt((o) => new KvBlockIndex(o), CASES);
    if (failure) expect.fail(failure.report);
  });

  it(`agrees with minimal presized tables (every rehash / regrow path)`, () => {
    const failure = hunt((o) => new KvBlockIndex({ ...o, expectedBlocks: 0, expectedBackends: 1 }), 100);
    if (failure) expect.fail(failure.report);
  });

  it('finds a planted bug and shrinks it to a minimal sequence', () => {
    /** Forgets every removed hash after the first of an event. */
    class Buggy extends KvBlockIndex {
      override blocksRemoved(id: string, hashes: readonly bigint[]): number {
        return super.blocksRemoved(id, hashes.slice(0, 1));
      }
    }
    const failure = hunt((o) => new Buggy(o), CASES);
    expect(failure).not.toBeNull();
    // A store then a remove of two of its hashes is the smallest witness.
    expect(failure!.minimal).toBe(2);
    expect(failure!.report).toMatch(/\{"remove":"b\d+","hashes":\[\d+n,\d+n\]\}/);
  });
});
