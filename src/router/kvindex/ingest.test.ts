import { describe, expect, it } from 'vitest';
import { decodeKvEventBatch, encodeKvEventBatch, type KvCacheEvent, type KvEventBatch } from '../../kvevents/index.js';
import { kvPrefixHashes } from './hash.js';
import { applyKvEventBatch } from './ingest.js';
import { KvBlockIndex } from './kv-index.js';
import { ReferenceKvIndex } from './reference.js';
import { BS, T } from './steps.js';

const stored = (hashes: bigint[], parent: bigint | null, tokens: number[], medium: string | null = 'GPU'): KvCacheEvent => ({ type: 'BlockStored', blockHashes: hashes, parentBlockHash: parent, tokenIds: tokens, blockSize: BS, loraId: null, medium, loraName: null });
const removed = (hashes: bigint[], medium: string | null = 'GPU'): KvCacheEvent => ({ type: 'BlockRemoved', blockHashes: hashes, medium });
const batch = (...events: KvCacheEvent[]): KvEventBatch => ({ ts: 1_700_000_000.5, events, dataParallelRank: null });
const look = (idx: KvBlockIndex, ...labels: number[]): Record<string, number> => Object.fromEntries(idx.lookup(kvPrefixHashes(T(...labels), BS)));

describe('applyKvEventBatch', () => {
  it.each<[string, KvEventBatch, Record<string, number>, { stored: number; removed: number; cleared: number; ignored: number }]>([
    ['stores a chain across events', batch(stored([1n, 2n], null, T(1, 2)), stored([3n], 2n, T(3))), { w: 3 }, { stored: 3, removed: 0, cleared: 0, ignored: 0 }],
    ['removes', batch(stored([1n, 2n, 3n], null, T(1, 2, 3)), removed([3n, 9n])), { w: 2 }, { stored: 3, removed: 1, cleared: 0, ignored: 0 }],
    ['clears, then stores again', batch(stored([1n, 2n], null, T(1, 2)), { type: 'AllBlocksCleared' }, stored([1n], null, T(1))), { w: 1 }, { stored: 1 + 2, removed: 0, cleared: 1, ignored: 0 }],
    ['medium null (older vLLM) counts as GPU', batch(stored([1n], null, T(1), null)), { w: 1 }, { stored: 1, removed: 0, cleared: 0, ignored: 0 }],
    ['CPU-tier events are ignored: a CPU BlockRemoved keeps the GPU copy', batch(stored([1n, 2n], null, T(1, 2)), stored([1n, 2n], null, T(1, 2), 'CPU'), removed([2n], 'CPU')), { w: 2 }, { stored: 2, removed: 0, cleared: 0, ignored: 2 }],
  ])('%s', (_name, b, expected, result) => {
    const idx = new KvBlockIndex({ blockSize: BS });
    expect(applyKvEventBatch(idx, 'w', b)).toEqual(result);
    expect(look(idx, 1, 2, 3)).toEqual(expected);
  });

  it('media option: index the CPU tier instead', () => {
    const idx = new KvBlockIndex({ blockSize: BS });
    applyKvEventBatch(idx, 'w', batch(stored([1n], null, T(1)), stored([7n], null, T(5), 'CPU')), { media: ['CPU'] });
    expect([look(idx, 1), look(idx, 5)]).toEqual([{}, { w: 1 }]);
  });

  it('map and array wire encodings decode to batches with the same effect', () => {
    const events: KvCacheEvent[] = [
      stored([2n ** 64n - 1n, 5n], null, T(1, 2)),
      stored([6n], 5n, T(3)),
      { ...stored([11n], null, T(4)), loraId: 3 } as KvCacheEvent,
      removed([6n]),
      stored([12n], 999n, T(2)),
    ];
    const answers = (['map', 'array'] as const).map((enc) => {
      const idx = new KvBlockIndex({ blockSize: BS });
      const ref = new ReferenceKvIndex({ blockSize: BS });
      const decoded = decodeKvEventBatch(encodeKvEventBatch(batch(...events), enc));
      applyKvEventBatch(idx, 'w', decoded);
      applyKvEventBatch(ref, 'w', decoded);
      const probes = [T(1, 2, 3), T(2), T(4)].map((t) => kvPrefixHashes(t, BS));
      const lora = kvPrefixHashes(T(4), BS, { loraId: 3 });
      const a = [...probes, lora].map((h) => Object.fromEntries(idx.lookup(h)));
      expect(a).toEqual([...probes, lora].map((h) => Object.fromEntries(ref.lookup(h))));
      return a;
    });
    expect(answers[0]).toEqual([{ w: 2 }, { w: 1 }, {}, { w: 1 }]);
    expect(answers[1]).toEqual(answers[0]);
  });
});
