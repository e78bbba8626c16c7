/**
 * UsageMeter: the control plane's end of usage metering. Gateways call `record()` once per
 * finished request (in process, or through `POST /api/v1/usage` from a RemoteUsageSink).
 *
 * - `record` is synchronous and O(1): it prices the record (when it carries no `usd`) with the
 *   current price table, counts it in the per-tenant Prometheus counters, and queues it. It
 *   never waits for the store and never throws.
 * - A BatchBuffer writes the queue with `store.appendUsage`: `flushIntervalMs` (1 s) after the
 *   first unwritten record, or at once when `maxBatch` (500) are waiting; one batch per
 *   transaction. Store errors keep the batch and retry it with backoff (0.5 s doubling to 30 s).
 *   At most `maxBuffered` (100,000) records are held; beyond that the oldest are dropped and
 *   counted in `switchyard_usage_records_dropped_total`.
 * - After a batch is stored, each tenant in it gets `status.usage` (this UTC month's totals,
 *   read back with `usageTotals`, so every replica and gateway sees the same numbers) at most
 *   once per `statusIntervalMs` (1 s). Budgets read it from the watch stream.
 *
 * Crash-loss bound: a crash (kill -9) of the process loses the records not yet committed:
 * while the store is healthy, those recorded in the last `flushIntervalMs` plus the batch in
 * flight, i.e. at most about one second of requests (and never more than `maxBuffered`); while
 * the store is down, up to `maxBuffered`. `close()` writes what is queued.
 */
import { BatchBuffer, costOf, EMPTY_PRICE_TABLE, monthStartMs, usageMonth, type DropReason, type PriceTable, type UsageRecord, type UsageSink } from '../api/index.js';
import { RealClock, type Clock, type TimerHandle } from '../core/index.js';
import { createMetricsRegistry, createNullLogger, type Logger, type MetricsRegistry } from '../observability/index.js';
import type { ResourceStore } from '../store/index.js';
import type { ResourceService } from './resources.js';

export interface UsageMeterOptions {
  store: Pick<ResourceStore, 'appendUsage' | 'usageTotals'>;
  /** Where Tenant.status.usage is written; without it, statuses are not updated. */
  service?: Pick<ResourceService, 'updateStatus'>;
  /** The price table records without `usd` are priced with. Default: everything is free. */
  prices?: () => PriceTable;
  clock?: Clock;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** Default 1000. */
  flushIntervalMs?: number;
  /** Default 500. */
  maxBatch?: number;
  /** Default 100,000. */
  maxBuffered?: number;
  /** Default 500. */
  retryMinMs?: number;
  /** Default 30,000. */
  retryMaxMs?: number;
  /** Least time between two status.usage updates of one tenant. Default 1000. */
  statusIntervalMs?: number;
  /** ApiKey.status.lastUsedAt is written at most this often per key. Default 60 s. */
  keyStatusIntervalMs?: number;
}

/** Prometheus counters per tenant, and the meter's own. */
function meterMetrics(m: MetricsRegistry) {
  return {
    requests: m.counter({ name: 'switchyard_tenant_requests_total', help: 'Finished requests per tenant, model and status', labelNames: ['tenant', 'model', 'status'] as const }),
    tokens: m.counter({ name: 'switchyard_tenant_tokens_total', help: 'Tokens per tenant and model; kind: input (cached included), output, cached', labelNames: ['tenant', 'model', 'kind'] as const }),
    cost: m.counter({ name: 'switchyard_tenant_cost_usd_total', help: 'Cost in USD per tenant and model, from the price table', labelNames: ['tenant', 'model'] as const }),
    dropped: m.counter({ name: 'switchyard_usage_records_dropped_total', help: 'Usage records dropped before being stored (reason: overflow, rejected, closed)', labelNames: ['reason'] as const }),
    failures: m.counter({ name: 'switchyard_usage_flush_failures_total', help: 'Failed writes of usage batches to the store (retried)' }),
  };
}

export class UsageMeter implements UsageSink {
  private readonly buffer: BatchBuffer<UsageRecord>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: ReturnType<typeof meterMetrics>;
  private readonly prices: () => PriceTable;
  private readonly statusIntervalMs: number;
  /** Tenants whose status.usage is behind the store. */
  private readonly dirty = new Set<string>();
  private readonly lastStatusAt = new Map<string, number>();
  /** Keys used since their lastUsedAt was last written: key → latest record ts. */
  private readonly keysUsed = new Map<string, number>();
  private readonly keyWrittenAt = new Map<string, number>();
  private readonly keyStatusIntervalMs: number;
  private statusTimer: TimerHandle | undefined;
  private statusRun: Promise<void> | undefined;
  private statusAgain = false;
  /** Closing: write every dirty tenant's status now, due or not. */
  private final = false;
  private closed = false;

  constructor(private readonly o: UsageMeterOptions) {
    this.clock = o.clock ?? new RealClock();
    this.logger = o.logger ?? createNullLogger('usage');
    this.metrics = meterMetrics(o.metrics ?? createMetricsRegistry());
    this.prices = o.prices ?? (() => EMPTY_PRICE_TABLE);
    this.statusIntervalMs = o.statusIntervalMs ?? 1000;
    this.keyStatusIntervalMs = o.keyStatusIntervalMs ?? 60_000;
    this.buffer = new BatchBuffer<UsageRecord>({
      write: (batch) => o.store.appendUsage(batch),
      clock: this.clock,
      ...(o.flushIntervalMs !== undefined ? { flushIntervalMs: o.flushIntervalMs } : {}),
      ...(o.maxBatch !== undefined ? { maxBatch: o.maxBatch } : {}),
      ...(o.maxBuffered !== undefined ? { maxBuffered: o.maxBuffered } : {}),
      ...(o.retryMinMs !== undefined ? { retryMinMs: o.retryMinMs } : {}),
      ...(o.retryMaxMs !== undefined ? { retryMaxMs: o.retryMaxMs } : {}),
      onDrop: (count, reason, err) => this.onDrop(count, reason, err),
      onError: (err, size, retryInMs) => {
        this.metrics.failures.inc();
        this.logger.warn({ err, records: size, retryInMs, buffered: this.buffer.size }, 'usage: storing a batch failed');
      },
      onWritten: (batch) => {
        for (const r of batch) {
          if (r.tenant !== '') this.dirty.add(r.tenant);
          if (r.key !== '' && r.ts > (this.keysUsed.get(r.key) ?? -Infinity)) this.keysUsed.set(r.key, r.ts);
        }
        if (this.o.service) void this.updateStatuses();
      },
    });
  }

  /** Meter one finished request. Synchronous, O(1); never blocks or throws. */
  record(r: UsageRecord): void {
    let rec = r;
    try {
      if (rec.usd === undefined) rec = { ...rec, usd: costOf(rec, this.prices()) };
      const { tenant, model } = rec;
      this.metrics.requests.inc({ tenant, model, status: String(rec.status) });
      this.metrics.tokens.inc({ tenant, model, kind: 'input' }, rec.inputTokens);
      this.metrics.tokens.inc({ tenant, model, kind: 'output' }, rec.outputTokens);
      this.metrics.tokens.inc({ tenant, model, kind: 'cached' }, rec.cachedTokens);
      this.metrics.cost.inc({ tenant, model }, rec.usd ?? 0);
    } catch (e) {
      // A malformed in-process record (e.g. a negative count) must not fail the request; the store refuses it.
      this.logger.warn({ err: e, requestId: rec.requestId }, 'usage: could not meter a record');
    }
    this.buffer.push(rec);
  }

  /** Records held in memory (waiting and being written). */
  get buffered(): number {
    return this.buffer.size;
  }

  /** Records dropped so far. */
  get dropped(): number {
    return this.buffer.dropped;
  }

  /**
   * Store everything queued now, then bring the affected tenants' status.usage up to date (those
   * updated less than statusIntervalMs ago get a timer). False if a store write failed.
   */
  async flush(): Promise<boolean> {
    const ok = await this.buffer.flush();
    if (this.o.service) await this.updateStatuses();
    return ok;
  }

  /** Store what is queued (one attempt) and the last statuses; later records are dropped. */
  async close(): Promise<void> {
    await this.buffer.close();
    this.final = true;
    if (this.o.service) await this.updateStatuses();
    this.closed = true;
    this.clock.clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
  }

  private onDrop(count: number, reason: DropReason, err: unknown): void {
    this.metrics.dropped.inc({ reason }, count);
    this.logger.warn({ err, records: count, reason }, 'usage: records dropped');
  }

  /** Write status.usage of the dirty tenants that are due; one run at a time. */
  private updateStatuses(): Promise<void> {
    if (this.statusRun) {
      this.statusAgain = true;
      return this.statusRun;
    }
    this.statusRun = (async () => {
      do {
        this.statusAgain = false;
        await this.updateDue();
      } while (this.statusAgain);
    })().finally(() => {
      this.statusRun = undefined;
    });
    return this.statusRun;
  }

  private async updateDue(): Promise<void> {
    for (const tenant of [...this.dirty]) {
      const now = this.clock.now();
      if (!this.final && now - (this.lastStatusAt.get(tenant) ?? -Infinity) < this.statusIntervalMs) continue;
      this.dirty.delete(tenant);
      this.lastStatusAt.set(tenant, now);
      try {
        await this.writeStatus(tenant);
      } catch (e) {
        if (!this.final) this.dirty.add(tenant); // tried again after statusIntervalMs
        this.logger.warn({ err: e, tenant }, 'usage: updating the tenant status failed');
      }
    }
    for (const [key, ts] of [...this.keysUsed]) {
      const now = this.clock.now();
      if (!this.final && now - (this.keyWrittenAt.get(key) ?? -Infinity) < this.keyStatusIntervalMs) continue;
      this.keysUsed.delete(key);
      this.keyWrittenAt.set(key, now);
      const at = new Date(ts).toISOString();
      try {
        // A gateway accepted this key: its last use, for `switchyard keys list` (never moves back).
        await this.o.service!.updateStatus('ApiKey', key, (cur) => (cur.status?.lastUsedAt !== undefined && cur.status.lastUsedAt >= at ? undefined : { ...cur.status, lastUsedAt: at }));
      } catch (e) {
        this.logger.warn({ err: e, key }, 'usage: updating the key status failed');
      }
    }
    this.scheduleStatus();
  }

  private async writeStatus(tenant: string): Promise<void> {
    const epoch = this.clock.epochMs();
    const totals = await this.o.store.usageTotals(tenant, monthStartMs(epoch));
    const usage = { month: usageMonth(epoch), ...totals };
    await this.o.service!.updateStatus('Tenant', tenant, (cur) => ({ ...cur.status, usage }));
  }

  /** A timer for the earliest dirty tenant not yet due. */
  private scheduleStatus(): void {
    if (this.closed || (this.dirty.size === 0 && this.keysUsed.size === 0)) return;
    const now = this.clock.now();
    let wait = Infinity;
    for (const t of this.dirty) wait = Math.min(wait, (this.lastStatusAt.get(t) ?? -Infinity) + this.statusIntervalMs - now);
    for (const k of this.keysUsed.keys()) wait = Math.min(wait, (this.keyWrittenAt.get(k) ?? -Infinity) + this.keyStatusIntervalMs - now);
    this.clock.clearTimeout(this.statusTimer);
    this.statusTimer = this.clock.setTimeout(() => {
      this.statusTimer = undefined;
      void this.updateStatuses();
    }, Math.max(0, wait));
  }
}
