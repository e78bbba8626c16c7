/**
 * LoadView: per endpoint, the gateway's live in-flight count plus the last scraped vLLM load.
 *
 * - begin(id)/end(id) bracket each upstream request: O(1), no allocation (a Map lookup and an
 *   increment). Unknown ids are ignored, and inFlight never drops below 0.
 * - recordScrape(id, load) stores running/waiting/kvUsage with scrapedAt = clock.now() and
 *   inFlightAtScrape = inFlight at that moment. recordScrapeFailure keeps the old values.
 * - Staleness: when the last successful scrape is more than `staleAfter` ms old, running,
 *   waiting, kvUsage *and scrapedAt* read as null — exactly as before the first scrape — so
 *   plugins fall back to live counts whether they test `running === null` or
 *   `scrapedAt === null`. snapshot() still reports the last success as `lastScrapedAt`.
 *
 * Mutability: get(id) returns the endpoint's *live* EndpointLoad object (no copy). Its inFlight
 * moves with begin/end, and its scraped fields are refreshed (and nulled when stale) on every
 * get. Read it during one routing decision; copy it (`{ ...load }`) to keep it; never write it.
 * Unknown ids get a shared frozen all-empty load.
 */
import type { Clock } from '../../core/index.js';
import type { EndpointLoad } from '../../router/index.js';
import type { VllmLoad } from './vllm.js';


const EMPTY_LOAD: EndpointLoad = Object.freeze({ inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0 });

interface Entry {
  /** The live object handed out by get(). */
  readonly load: EndpointLoad;
  /** The last scraped values and their time (load's copies are nulled while stale). */
  scraped: VllmLoad | null;
  scrapedAt: number | null;
  consecutiveFailures: number;
  lastError: string | null;
}

/** Debug view of one endpoint. */
export interface LoadDetail extends EndpointLoad {
  readonly stale: boolean;
  /** Time of the last successful scrape, stale or not. */
  readonly lastScrapedAt: number | null;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
}

export interface LoadViewOptions {
  readonly clock: Clock;
  /** Scraped values older than this (ms) read as null. Default 3000 (3 × the 1 s scrape interval). */
  readonly staleAfter?: number;
  readonly ids?: Iterable<string>;
}

export class LoadView {
  readonly staleAfter: number;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: LoadViewOptions) {
    this.clock = opts.clock;
    this.staleAfter = opts.staleAfter ?? 3_000;
    for (const id of opts.ids ?? []) this.add(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }
  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Start tracking an endpoint (no-op when known). */
  add(id: string): void {
    if (this.entries.has(id)) return;
    const load: EndpointLoad = { inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0 };
    this.entries.set(id, { load, scraped: null, scrapedAt: null, consecutiveFailures: 0, lastError: null });
  }

  /** Stop tracking: later begin/end/recordScrape calls for it are ignored. */
  remove(id: string): boolean {
    return this.entries.delete(id);
  }

  /** Track exactly these ids; known ones keep their counts and scrapes. */
  setEndpoints(ids: Iterable<string>): void {
    const want = new Set(ids);
    for (const id of [...this.entries.keys()]) if (!want.has(id)) this.entries.delete(id);
    for (const id of want) this.add(id);
  }

  begin(id: string): void {
    const e = this.entries.get(id);
    if (e) e.load.inFlight++;
  }

  end(id: string): void {
    const e = this.entries.get(id);
    if (e && e.load.inFlight > 0) e.load.inFlight--;
  }

  /** The live load of `id` (see the module comment on mutability). */
  get(id: string): EndpointLoad {
    const e = this.entries.get(id);
    if (!e) return EMPTY_LOAD;
    const l = e.load;
    const s = e.scraped;
    const at = e.scrapedAt;
    const fresh = s !== null && at !== null && this.clock.now() - at <= this.staleAfter;
    l.scrapedAt = fresh ? at : null;
    l.running = fresh ? s.running : null;
    l.waiting = fresh ? s.waiting : null;
    l.kvUsage = fresh ? s.kvUsage : null;
    return l;
  }

  /** Whether the last successful scrape of `id` showed Switchyard's simulator (kept when stale: that does not change). */
  isSimulated(id: string): boolean {
    return this.entries.get(id)?.scraped?.simulated === true;
  }

  /** Whether `id` has no scraped values younger than staleAfter (true before the first scrape). */
  isStale(id: string): boolean {
    return this.get(id).scrapedAt === null;
  }

  recordScrape(id: string, sample: VllmLoad): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.scraped = sample;
    e.scrapedAt = this.clock.now();
    e.load.inFlightAtScrape = e.load.inFlight;
    e.consecutiveFailures = 0;
    e.lastError = null;
    this.get(id);
  }

  /** A failed scrape: old values stay (until stale); the failure is kept for debugging. */
  recordScrapeFailure(id: string, error: unknown): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.consecutiveFailures++;
    e.lastError = error instanceof Error ? error.message : String(error);
  }

  /** Copies of every endpoint's load with scrape health, for debug endpoints. */
  snapshot(): Record<string, LoadDetail> {
    const out: Record<string, LoadDetail> = {};
    for (const [id, e] of this.entries) {
      const load = this.get(id);
      out[id] = { ...load, stale: load.scrapedAt === null, lastScrapedAt: e.scrapedAt, consecutiveFailures: e.consecutiveFailures, lastError: e.lastError };
    }
    return out;
  }
}
