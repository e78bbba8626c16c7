/**
 * The paged KV cache's block pool, with vLLM v1 (BlockPool) semantics:
 *
 * - `numBlocks` fixed-size blocks, each with a reference count.
 * - Free blocks sit in an LRU queue (doubly linked, O(1) remove from the middle). A freed block
 *   keeps its content hash, so it can still serve prefix-cache hits until it is reused.
 *   Requests free their blocks tail-first, so a sequence's last blocks are evicted first.
 * - Allocation takes blocks from the queue head; taking a block that still holds a cached hash
 *   evicts it (BlockRemoved).
 * - A prefix hit on a free block "touches" it: it leaves the free queue and gains a reference.
 * - Usage (vllm:kv_cache_usage_perc) = 1 − free/total; evictable cached blocks count as free.
 *
 * Events mirror exactly the set of cached hashes: BlockStored when a hash enters the cache,
 * BlockRemoved when it leaves. A duplicate physical copy of an already-cached hash (two requests
 * computing the same block at once) is not registered and produces no events.
 */
import type { KvCacheEvent } from '../../../kvevents/index.js';

const NONE = -1;

export class BlockPool {
  readonly numBlocks: number;
  private readonly refCnt: Int32Array;
  private readonly hashes: (bigint | null)[];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private freeCount = 0;
  private readonly cached = new Map<bigint, number>();
  /** Pending events, drained by the engine after each step. Null when events are disabled. */
  private readonly events: KvCacheEvent[] | null;
  private removedBatch: bigint[] = [];
  evictions = 0;

  constructor(numBlocks: number, emitEvents = true) {
    if (!Number.isInteger(numBlocks) || numBlocks <= 0) throw new RangeError(`numBlocks must be a positive integer, got ${numBlocks}`);
    this.numBlocks = numBlocks;
    this.refCnt = new Int32Array(numBlocks);
    this.hashes = new Array<bigint | null>(numBlocks).fill(null);
    this.prev = new Int32Array(numBlocks).fill(NONE);
    this.next = new Int32Array(numBlocks).fill(NONE);
    this.events = emitEvents ? [] : null;
    for (let i = 0; i < numBlocks; i++) this.pushTail(i);
  }

  get numFree(): number {
    return this.freeCount;
  }
  get numCached(): number {
    return this.cached.size;
  }
  usage(): number {
    return 1 - this.freeCount / this.numBlocks;
  }

  /** Block id holding `hash`, if cached. */
  lookup(hash: bigint): number | undefined {
    return this.cached.get(hash);
  }

  /** True when `count` new blocks can be allocated after touching `touched` cached blocks. */
  canAllocate(count: number, touched: readonly number[]): boolean {
    let touchedFree = 0;
    for (const id of touched) if (this.refCnt[id] === 0) touchedFree++;
    return this.freeCount - touchedFree >= count;
  }

  /** Take a reference on cached blocks found by a prefix lookup. */
  touch(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.refCnt[id] === 0) this.unlink(id);
      this.refCnt[id]!++;
    }
  }

  /** Allocate `count` blocks from the LRU head, evicting cached content. Caller checked capacity. */
  allocate(count: number, out: number[]): void {
    for (let k = 0; k < count; k++) {
      const id = this.head;
      if (id === NONE) throw new Error('BlockPool.allocate: out of blocks (caller must check canAllocate)');
      this.unlink(id);
      const h = this.hashes[id];
      if (h !== undefined && h !== null) {
        if (this.cached.get(h) === id) {
          this.cached.delete(h);
          this.removedBatch.push(h);
          this.evictions++;
        }
        this.hashes[id] = null;
      }
      this.refCnt[id] = 1;
      out.push(id);
    }
    this.flushRemoved();
  }

  /** Drop one reference from each block, in the given order (pass tail-first for LRU order). */
  free(ids: readonly number[]): void {
    for (const id of ids) {
      const r = --this.refCnt[id]!;
      if (r === 0) this.pushTail(id);
      else if (r < 0) throw new Error(`BlockPool.free: block ${id} freed twice`);
    }
  }

  /**
   * Register full blocks' hashes. `blockIds[i]` holds the block whose hash is `hashes[i]`;
   * `tokens` are their token ids concatenated; `parent` is the hash of the block before the first.
   */
  cacheBlocks(blockIds: readonly number[], hashes: readonly bigint[], tokens: number[], parent: bigint | null, blockSize: number): void {
    let stored: bigint[] | null = null;
    let storedTokens: number[] | null = null;
    let storedParent: bigint | null = parent;
    for (let i = 0; i < blockIds.length; i++) {
      const id = blockIds[i]!;
      const h = hashes[i]!;
      this.hashes[id] = h;
      if (this.cached.has(h)) {
        // Duplicate copy: close the current run of new blocks (events must chain by parent).
        if (stored) this.emitStored(stored, storedParent, storedTokens!, blockSize);
        stored = null;
        storedTokens = null;
        storedParent = h;
        continue;
      }
      this.cached.set(h, id);
      if (!stored) {
        stored = [];
        storedTokens = [];
      }
      stored.push(h);
      for (let t = i * blockSize; t < (i + 1) * blockSize; t++) storedTokens!.push(tokens[t]!);
    }
    if (stored) this.emitStored(stored, storedParent, storedTokens!, blockSize);
  }

  /** Drop every cached hash (vLLM reset_prefix_cache). Blocks in use keep their data. */
  clear(): void {
    this.cached.clear();
    for (let i = 0; i < this.numBlocks; i++) this.hashes[i] = null;
    this.events?.push({ type: 'AllBlocksCleared' });
  }

  drainEvents(): KvCacheEvent[] {
    if (!this.events || this.events.length === 0) return [];
    return this.events.splice(0, this.events.length);
  }

  private emitStored(hashes: bigint[], parent: bigint | null, tokenIds: number[], blockSize: number): void {
    this.events?.push({ type: 'BlockStored', blockHashes: hashes, parentBlockHash: parent, tokenIds, blockSize, loraId: null, medium: 'GPU', loraName: null });
  }

  private flushRemoved(): void {
    if (this.removedBatch.length === 0) return;
    this.events?.push({ type: 'BlockRemoved', blockHashes: this.removedBatch, medium: 'GPU' });
    this.removedBatch = [];
  }

  private pushTail(id: number): void {
    this.prev[id] = this.tail;
    this.next[id] = NONE;
    if (this.tail !== NONE) this.next[this.tail] = id;
    else this.head = id;
    this.tail = id;
    this.freeCount++;
  }

  private unlink(id: number): void {
    const p = this.prev[id]!;
    const n = this.next[id]!;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
    this.prev[id] = NONE;
    this.next[id] = NONE;
    this.freeCount--;
  }
}
