/**
 * ReferenceKvIndex: the obviously-correct KvPrefixIndex (Maps of Sets, string keys, a linear scan
 * per lookup). Slow; it exists to check KvBlockIndex in the differential test, and it defines the
 * semantics in the fewest lines (see KvPrefixIndex in ./types.ts).
 */
import { hashBlockInto, rootSeedInto, type PrefixHashes } from './hash.js';
import { compileKvIndexOptions, type KvIndexOptions, type KvIndexStats, type KvPrefixIndex, type StoredBlocks } from './types.js';

interface RefBackend {
  /** engine hash → our hash key; Map order = least → most recently stored. */
  engine: Map<bigint, string>;
  /** our hash key → how many of this backend's engine hashes map to it. */
  held: Map<string, number>;
  evictions: number;
  unknownParents: number;
  skippedBlocks: number;
}

const key = (h: Uint32Array, o: number): string => `${h[o]}:${h[o + 1]}`;

export class ReferenceKvIndex implements KvPrefixIndex {
  readonly blockSize: number;
  private readonly cap: number;
  private readonly backends = new Map<string, RefBackend>();

  constructor(opts: KvIndexOptions = {}) {
    const o = compileKvIndexOptions(opts);
    this.blockSize = o.blockSize;
    this.cap = o.maxBlocksPerBackend;
  }

  blockStored(backendId: string, ev: StoredBlocks): number {
    const be = this.backend(backendId);
    const n = ev.blockHashes.length;
    if (ev.blockSize !== this.blockSize) {
      be.skippedBlocks += n;
      return 0;
    }
    const prev = new Uint32Array(2);
    rootSeedInto(ev.loraId ?? null, prev, 0);
    if (ev.parentBlockHash !== null) {
      const parent = be.engine.get(BigInt.asUintN(64, ev.parentBlockHash));
      if (parent === undefined) be.unknownParents++;
      else prev.set(parent.split(':').map(Number));
    }
    let indexed = 0;
    for (let i = 0; i < n; i++) {
      const end = (i + 1) * this.blockSize;
      if (end > ev.tokenIds.length) break;
      hashBlockInto(prev[0]!, prev[1]!, ev.tokenIds, i * this.blockSize, end, prev, 0);
      const engineHash = BigInt.asUintN(64, ev.blockHashes[i]!);
      const old = be.engine.get(engineHash);
      if (old !== undefined) {
        be.engine.delete(engineHash);
        this.release(be, old);
      }
      be.engine.set(engineHash, key(prev, 0));
      be.held.set(key(prev, 0), (be.held.get(key(prev, 0)) ?? 0) + 1);
      if (old === undefined) {
        while (be.engine.size > this.cap) {
          const [oldest, our] = be.engine.entries().next().value!;
          be.engine.delete(oldest);
          this.release(be, our);
          be.evictions++;
        }
      }
      indexed++;
    }
    be.skippedBlocks += n - indexed;
    return indexed;
  }

  blocksRemoved(backendId: string, engineHashes: readonly bigint[]): number {
    const be = this.backend(backendId);
    let removed = 0;
    for (const h of engineHashes) {
      const our = be.engine.get(BigInt.asUintN(64, h));
      if (our === undefined) continue;
      be.engine.delete(BigInt.asUintN(64, h));
      this.release(be, our);
      removed++;
    }
    return removed;
  }

  backendCleared(backendId: string): void {
    const be = this.backend(backendId);
    be.engine.clear();
    be.held.clear();
  }

  removeBackend(backendId: string): void {
    this.backends.delete(backendId);
  }

  lookup(hashes: PrefixHashes): Map<string, number> {
    const keys = Array.from({ length: hashes.length >>> 1 }, (_, i) => key(hashes, 2 * i));
    const result = new Map<string, number>();
    for (const [id, be] of this.backends) {
      let k = 0;
      while (k < keys.length && be.held.has(keys[k]!)) k++;
      if (k > 0) result.set(id, k);
    }
    return result;
  }

  /** Every distinct block held by at least one backend (as KvBlockIndex.forEachBlock). */
  forEachBlock(cb: (hi: number, lo: number) => void): void {
    const seen = new Set<string>();
    for (const be of this.backends.values()) {
      for (const k of be.held.keys()) {
        if (seen.has(k)) continue;
        seen.add(k);
        const [hi, lo] = k.split(':').map(Number);
        cb(hi!, lo!);
      }
    }
  }

  stats(): KvIndexStats {
    const distinct = new Set<string>();
    let entries = 0;
    const perBackend = [...this.backends].map(([id, be]) => {
      for (const k of be.held.keys()) distinct.add(k);
      entries += be.engine.size;
      return { id, blocks: be.engine.size, evictions: be.evictions, unknownParents: be.unknownParents, skippedBlocks: be.skippedBlocks };
    });
    perBackend.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Rough: a Map entry with a bigint key and a string value, plus a held-map entry (~250 B).
    const estimatedBytes = entries * 250 + this.backends.size * 400;
    return { backends: this.backends.size, blocks: distinct.size, entries, estimatedBytes, bytesPerEntry: entries === 0 ? 0 : estimatedBytes / entries, perBackend };
  }

  private backend(id: string): RefBackend {
    let be = this.backends.get(id);
    if (!be) {
      be = { engine: new Map(), held: new Map(), evictions: 0, unknownParents: 0, skippedBlocks: 0 };
      this.backends.set(id, be);
    }
    return be;
  }

  private release(be: RefBackend, our: string): void {
    const c = be.held.get(our)!;
    if (c === 1) be.held.delete(our);
    else be.held.set(our, c - 1);
  }
}
