/**
 * KvBlockIndex: the fast KV prefix index (semantics: KvPrefixIndex in ./types.ts; layout and
 * memory accounting: README.md).
 *
 * - Blocks: a HolderTable (our hash → backends holding it) answers lookups.
 * - Entries: one per (backend, engine hash), in a pooled Int32Array, 6 words each
 *   [ourHi, ourLo, engHi, engLo, prev, next]; prev/next chain the backend's entries from least to
 *   most recently stored (the cap evicts from the head).
 * - Per backend: a U64Map engine hash → entry (for BlockRemoved and parent lookup).
 *
 * Pure: no I/O, no timers. Engine hashes are split into uint32 halves once, on ingest; nothing
 * on the lookup path allocates (lookupSlots) or touches BigInt.
 */
import { SwitchyardError } from '../../core/index.js';
import { hashBlockInto, rootSeedInto, splitU64Into, type PrefixHashes } from './hash.js';
import { HolderTable } from './holders.js';
import { compileKvIndexOptions, type KvBackendStats, type KvIndexOptions, type KvIndexStats, type KvPrefixIndex, type StoredBlocks } from './types.js';
import { U64Map } from './u64-map.js';

const E = 6; // words per entry
const OUR_HI = 0;
const OUR_LO = 1;
const ENG_HI = 2;
const ENG_LO = 3;
const PREV = 4;
const NEXT = 5;
const NIL = -1;
/** Rough fixed cost of a backend: its state object, id string, map entries, empty engine map. */
const BACKEND_OVERHEAD_BYTES = 400;

interface Backend {
  readonly id: string;
  readonly slot: number;
  readonly engine: U64Map;
  head: number;
  tail: number;
  count: number;
  evictions: number;
  unknownParents: number;
  skippedBlocks: number;
}

export class KvBlockIndex implements KvPrefixIndex {
  readonly blockSize: number;
  readonly maxBlocksPerBackend: number;
  private readonly holders: HolderTable;
  private readonly byId = new Map<string, Backend>();
  private readonly bySlot: (Backend | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private ent: Int32Array;
  private entTop = 0;
  private entFree = NIL;
  private entries = 0;
  private out: Int32Array;
  /** Scratch: [engHi, engLo, ourHi, ourLo]. */
  private readonly tmp = new Uint32Array(4);

  constructor(opts: KvIndexOptions = {}) {
    const o = compileKvIndexOptions(opts);
    this.blockSize = o.blockSize;
    this.maxBlocksPerBackend = o.maxBlocksPerBackend;
    this.holders = new HolderTable(o.expectedBlocks, o.expectedBackends);
    this.ent = new Int32Array(Math.max(64, Math.min(o.expectedBlocks, 1 << 24)) * E);
    this.out = new Int32Array(this.holders.backendCapacity);
  }

  blockStored(backendId: string, ev: StoredBlocks): number {
    const be = this.ensure(backendId);
    const n = ev.blockHashes.length;
    const bs = this.blockSize;
    if (ev.blockSize !== bs) {
      be.skippedBlocks += n;
      return 0;
    }
    const tmp = this.tmp;
    const lora = ev.loraId ?? null;
    if (ev.parentBlockHash === null) rootSeedInto(lora, tmp, 2);
    else {
      splitU64Into(ev.parentBlockHash, tmp, 0);
      const e = be.engine.get(tmp[0]!, tmp[1]!);
      if (e >= 0) {
        tmp[2] = this.ent[e * E + OUR_HI]!;
        tmp[3] = this.ent[e * E + OUR_LO]!;
      } else {
        rootSeedInto(lora, tmp, 2);
        be.unknownParents++;
      }
    }
    const tokens = ev.tokenIds;
    const full = Math.min(n, Math.floor(tokens.length / bs));
    for (let i = 0; i < full; i++) {
      hashBlockInto(tmp[2]!, tmp[3]!, tokens, i * bs, (i + 1) * bs, tmp, 2);
      splitU64Into(ev.blockHashes[i]!, tmp, 0);
      this.upsert(be, tmp[0]! | 0, tmp[1]! | 0, tmp[2]! | 0, tmp[3]! | 0);
    }
    be.skippedBlocks += n - full;
    return full;
  }

  blocksRemoved(backendId: string, engineHashes: readonly bigint[]): number {
    const be = this.ensure(backendId);
    const tmp = this.tmp;
    let removed = 0;
    for (const h of engineHashes) {
      splitU64Into(h, tmp, 0);
      const e = be.engine.get(tmp[0]!, tmp[1]!);
      if (e < 0) continue;
      this.removeEntry(be, e);
      removed++;
    }
    return removed;
  }

  backendCleared(backendId: string): void {
    this.clearEntries(this.ensure(backendId));
  }

  removeBackend(backendId: string): void {
    const be = this.byId.get(backendId);
    if (!be) return;
    this.clearEntries(be);
    this.byId.delete(backendId);
    this.bySlot[be.slot] = undefined;
    this.freeSlots.push(be.slot);
  }

  lookup(hashes: PrefixHashes): Map<string, number> {
    const out = this.lookupSlots(hashes);
    const result = new Map<string, number>();
    for (let s = 0; s < this.bySlot.length; s++) {
      const k = out[s]!;
      if (k > 0) result.set(this.bySlot[s]!.id, k);
    }
    return result;
  }

  /**
   * The allocation-free lookup: out[slotOf(id)] = leading blocks held by backend `id` (0: none).
   * The array is reused: valid until the next lookup, and may be longer than the slot count.
   */
  lookupSlots(hashes: PrefixHashes): Int32Array {
    const out = this.out;
    out.fill(0);
    this.holders.matchPrefix(hashes, out);
    return out;
  }

  /** The backend's slot in lookupSlots' result, or -1 (unknown backend). Slots are reused after removeBackend. */
  slotOf(backendId: string): number {
    return this.byId.get(backendId)?.slot ?? -1;
  }

  /** The backend in a slot (undefined: free slot). */
  backendAt(slot: number): string | undefined {
    return this.bySlot[slot]?.id;
  }

  /** Every distinct block (our hash, uint32 halves) held by at least one backend: a PrefixSummary source. */
  forEachBlock(cb: (hi: number, lo: number) => void): void {
    this.holders.forEach(cb);
  }

  stats(): KvIndexStats {
    const perBackend: KvBackendStats[] = [];
    let bytes = this.holders.byteLength + this.ent.byteLength + this.out.byteLength;
    for (const be of this.byId.values()) {
      perBackend.push({ id: be.id, blocks: be.count, evictions: be.evictions, unknownParents: be.unknownParents, skippedBlocks: be.skippedBlocks });
      bytes += be.engine.byteLength + BACKEND_OVERHEAD_BYTES;
    }
    perBackend.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      backends: this.byId.size,
      blocks: this.holders.size,
      entries: this.entries,
      estimatedBytes: bytes,
      bytesPerEntry: this.entries === 0 ? 0 : bytes / this.entries,
      perBackend,
    };
  }

  private ensure(id: string): Backend {
    const known = this.byId.get(id);
    if (known) return known;
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    if (slot >= 65536) throw new SwitchyardError('invalid_argument', 'kvindex: more than 65536 backends; remove backends that are gone (removeBackend)');
    this.holders.ensureBackendCapacity(slot + 1);
    if (this.out.length < this.holders.backendCapacity) this.out = new Int32Array(this.holders.backendCapacity);
    const be: Backend = { id, slot, engine: new U64Map(), head: NIL, tail: NIL, count: 0, evictions: 0, unknownParents: 0, skippedBlocks: 0 };
    this.byId.set(id, be);
    this.bySlot[slot] = be;
    return be;
  }

  /** Index engine hash (ehi, elo) → our hash (ohi, olo) on `be`, as its most recent block. */
  private upsert(be: Backend, ehi: number, elo: number, ohi: number, olo: number): void {
    const e = this.entFree !== NIL ? this.entFree : this.entTop; // the id allocEntry() will return
    const existing = be.engine.getOrInsert(ehi, elo, e);
    if (existing >= 0) {
      const p = existing * E;
      const ent = this.ent;
      if (ent[p + OUR_HI] !== ohi || ent[p + OUR_LO] !== olo) {
        this.holders.remove(ent[p + OUR_HI]!, ent[p + OUR_LO]!, be.slot);
        ent[p + OUR_HI] = ohi;
        ent[p + OUR_LO] = olo;
        this.holders.add(ohi, olo, be.slot);
      }
      if (be.tail !== existing) {
        this.unlink(be, existing);
        this.linkTail(be, existing);
      }
      return;
    }
    this.allocEntry();
    const p = e * E;
    const ent = this.ent;
    ent[p + OUR_HI] = ohi;
    ent[p + OUR_LO] = olo;
    ent[p + ENG_HI] = ehi;
    ent[p + ENG_LO] = elo;
    this.linkTail(be, e);
    this.holders.add(ohi, olo, be.slot);
    be.count++;
    this.entries++;
    while (be.count > this.maxBlocksPerBackend) {
      this.removeEntry(be, be.head);
      be.evictions++;
    }
  }

  private removeEntry(be: Backend, e: number): void {
    const p = e * E;
    const ent = this.ent;
    this.unlink(be, e);
    be.engine.delete(ent[p + ENG_HI]!, ent[p + ENG_LO]!);
    this.holders.remove(ent[p + OUR_HI]!, ent[p + OUR_LO]!, be.slot);
    ent[p + NEXT] = this.entFree;
    this.entFree = e;
    be.count--;
    this.entries--;
  }

  private clearEntries(be: Backend): void {
    const ent = this.ent;
    for (let e = be.head; e !== NIL; ) {
      const p = e * E;
      const next = ent[p + NEXT]!;
      this.holders.remove(ent[p + OUR_HI]!, ent[p + OUR_LO]!, be.slot);
      ent[p + NEXT] = this.entFree;
      this.entFree = e;
      e = next;
    }
    this.entries -= be.count;
    be.count = 0;
    be.head = NIL;
    be.tail = NIL;
    be.engine.clear();
  }

  private allocEntry(): number {
    if (this.entFree !== NIL) {
      const e = this.entFree;
      this.entFree = this.ent[e * E + NEXT]!;
      return e;
    }
    if ((this.entTop + 1) * E > this.ent.length) {
      const next = new Int32Array(this.ent.length * 2);
      next.set(this.ent);
      this.ent = next;
    }
    return this.entTop++;
  }

  private linkTail(be: Backend, e: number): void {
    const p = e * E;
    this.ent[p + PREV] = be.tail;
    this.ent[p + NEXT] = NIL;
    if (be.tail !== NIL) this.ent[be.tail * E + NEXT] = e;
    else be.head = e;
    be.tail = e;
  }

  private unlink(be: Backend, e: number): void {
    const p = e * E;
    const prev = this.ent[p + PREV]!;
    const next = this.ent[p + NEXT]!;
    if (prev !== NIL) this.ent[prev * E + NEXT] = next;
    else be.head = next;
    if (next !== NIL) this.ent[next * E + PREV] = prev;
    else be.tail = prev;
  }
}
