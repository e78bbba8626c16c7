/**
 * The cluster layer's KV views: ClusterKvView (the workers' exact index) and ClusterSummaryView
 * (agents' prefix summaries, per cluster, falling back to the exact index).
 */
import { describe, expect, it } from 'vitest';
import { ClusterKvView, ClusterSummaryView } from './cluster-layer.js';
import { KvBlockIndex, kvPrefixHashes, PrefixSummary } from './kvindex/index.js';

const BS = 4;
const tokens = (blocks: number, salt = 0): number[] => Array.from({ length: blocks * BS }, (_, i) => 1000 * salt + i);

/** An index where each worker holds the first `n` blocks of `tokens(10, salt)`. */
function indexOf(held: Record<string, [number, number]>): KvBlockIndex {
  const index = new KvBlockIndex({ blockSize: BS });
  for (const [id, [n, salt]] of Object.entries(held)) {
    if (n === 0) continue;
    index.blockStored(id, { blockHashes: Array.from({ length: n }, (_, i) => BigInt(salt * 100 + i + 1)), parentBlockHash: null, tokenIds: tokens(10, salt).slice(0, n * BS), blockSize: BS, loraId: null });
  }
  return index;
}

const clusters = [
  { id: 'cluster:eu', workerIds: ['eu-0', 'eu-1'] },
  { id: 'cluster:us', workerIds: ['us-0'] },
];

describe('ClusterKvView', () => {
  it('a cluster holds what its best worker holds', () => {
    const view = new ClusterKvView(indexOf({ 'eu-0': [3, 0], 'eu-1': [7, 0], 'us-0': [2, 0] }), clusters);
    const out = view.lookupSlots(kvPrefixHashes(tokens(10), BS));
    expect([out[view.slotOf('cluster:eu')], out[view.slotOf('cluster:us')]]).toEqual([7, 2]);
    expect(view.slotOf('cluster:ap')).toBe(-1);
  });
});

describe('ClusterSummaryView', () => {
  const prompt = kvPrefixHashes(tokens(10), BS);
  const eu = indexOf({ 'eu-0': [3, 0], 'eu-1': [7, 0] });
  const us = indexOf({ 'us-0': [2, 0] });
  const exact = indexOf({ 'eu-0': [3, 0], 'eu-1': [7, 0], 'us-0': [2, 0] });

  it.each([
    ['summaries for every cluster', true, true, undefined, 'summary', [7, 2]],
    ['a summary for one cluster, the exact index for the other', true, false, exact, 'summary+exact', [7, 2]],
    ['a summary for one cluster and no exact index', true, false, undefined, 'summary', [7, 0]],
    ['no summaries: the exact index', false, false, exact, 'exact', [7, 2]],
    ['nothing', false, false, undefined, 'none', [0, 0]],
  ] as const)('%s', (_what, euSummary, usSummary, index, source, want) => {
    const members = [
      { ...clusters[0]!, summary: euSummary ? PrefixSummary.build(eu) : undefined },
      { ...clusters[1]!, summary: usSummary ? PrefixSummary.build(us) : undefined },
    ];
    const view = new ClusterSummaryView(BS, members, index);
    expect(view.source).toBe(source);
    expect(view.lastHeld('cluster:eu')).toBeUndefined();
    const out = view.lookupSlots(prompt);
    expect([out[view.slotOf('cluster:eu')], out[view.slotOf('cluster:us')]]).toEqual(want);
    expect(view.lastHeld('cluster:eu')).toEqual({ held: want[0], blocks: 10 });
  });

  it('a summary answers at its checkpoint granularity, never above the exact answer here', () => {
    const big = indexOf({ w: [10, 0] });
    const coarse = PrefixSummary.build(big, { minSampleShift: 2 });
    const view = new ClusterSummaryView(BS, [{ id: 'cluster:x', workerIds: ['w'], summary: coarse }]);
    const held = view.lookupSlots(prompt)[0]!;
    expect(held).toBeLessThanOrEqual(10);
    let best = 0;
    for (let i = 0; i < 10; i++) if (Math.clz32(prompt[2 * i]!) >= 2) best = i + 1;
    expect(held).toBe(best);
  });
});
