/**
 * PriceBook: the price table (USD per million tokens per served model) that usage metering
 * prices requests with. It lives in the store's meta table (`GET/PUT /api/v1/pricing`), not in
 * the Functions: a price is a business fact about a model name, changed by admins, and
 * changing it must not restart or re-generate anything. Unknown models cost the table's
 * `default`, or nothing. Reads are synchronous from a cache that is refreshed from the store at
 * most every `refreshMs` (other control-plane replicas' changes arrive within that).
 */
import { EMPTY_PRICE_TABLE, PriceTableSchema, type PriceTable } from '../api/index.js';
import { formatZodIssues, zodParseOptions, ConfigError } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import type { ResourceStore } from '../store/index.js';

const META_KEY = 'price-table-v1';

export class PriceBook {
  private table: PriceTable = EMPTY_PRICE_TABLE;
  private loadedAt = -Infinity;
  private loading: Promise<PriceTable> | undefined;

  constructor(
    private readonly store: Pick<ResourceStore, 'getMeta' | 'setMeta'>,
    private readonly clock: Clock,
    private readonly logger?: Logger,
    private readonly refreshMs = 10_000,
  ) {}

  /** The table as last read (synchronous; refreshes in the background when stale). */
  current(): PriceTable {
    if (this.clock.now() - this.loadedAt >= this.refreshMs && !this.loading) {
      this.load().catch((e: unknown) => this.logger?.warn({ err: e }, 'pricing: reading the price table failed (keeping the last one)'));
    }
    return this.table;
  }

  /** Read the table from the store. */
  load(): Promise<PriceTable> {
    this.loading ??= (async () => {
      try {
        const text = await this.store.getMeta(META_KEY);
        this.table = text ? parse(JSON.parse(text)) : EMPTY_PRICE_TABLE;
        this.loadedAt = this.clock.now();
        return this.table;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Validate and store a new table. Returns the previous one and the new one. @throws ConfigError naming the path. */
  async set(input: unknown): Promise<{ before: PriceTable; after: PriceTable }> {
    const after = parse(input);
    const before = await this.load();
    await this.store.setMeta(META_KEY, JSON.stringify(after));
    this.table = after;
    this.loadedAt = this.clock.now();
    return { before, after };
  }
}

function parse(input: unknown): PriceTable {
  const r = PriceTableSchema.safeParse(input, zodParseOptions);
  if (!r.success) throw new ConfigError('price table', formatZodIssues(r.error));
  return r.data;
}
