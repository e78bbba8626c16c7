/**
 * PrefixReporter: the agent's view of its cluster's KV caches, and the prefix summary it reports
 * to the control plane (ADR 0016).
 *
 * The agent tells it which replicas publish KV events (`sync`, after each Deployment listing);
 * it subscribes to each (KvEventFeeds: the same subscriber and gap repair as the gateway) and
 * feeds one KvBlockIndex keyed by replica id. Every `intervalMs` (default 1 s) it rebuilds the
 * summary if any event arrived, and PUTs it when its bytes changed; an unchanged summary is
 * re-sent every `refreshMs` (default 10 s) so a restarted control plane has it back and a live
 * agent's summary never expires there. A failed PUT is retried at the next tick; failures are
 * logged once per outage. Engines' token ids are hashed by the index (no tokenizer needed).
 */
import { PREFIX_SUMMARY_MAX_BYTES, type PrefixSummaryPut } from '../api/index.js';
import { PeriodicTask, type Clock } from '../core/index.js';
import { KvEventFeeds, type KvFeedSource, type KvFeedStats } from '../kvevents/index.js';
import type { Logger } from '../observability/index.js';
import { applyKvEventBatch, KvBlockIndex, PrefixSummary } from '../router/index.js';

/** What the reporter needs of the admin API (SwitchyardClient satisfies it). */
export interface PrefixSummaryClient {
  putPrefixSummary(cluster: string, body: PrefixSummaryPut): Promise<unknown>;
}

export interface PrefixReporterOptions {
  cluster: string;
  client: PrefixSummaryClient;
  clock: Clock;
  logger: Logger;
  /** Rebuild (when events arrived) and send (when changed) this often. Default 1 s. */
  intervalMs?: number;
  /** Re-send an unchanged summary this often. Default 10 s. */
  refreshMs?: number;
  /** Must equal the engines' KV block size (and the gateways'). Default 16. */
  blockSize?: number;
  maxBlocksPerBackend?: number;
  /** Summary size cap (bytes). Default the API's limit, 64 KiB. */
  maxBytes?: number;
  replayTimeoutMs?: number;
}

export const DEFAULT_PREFIX_SUMMARY_INTERVAL_MS = 1_000;
export const DEFAULT_PREFIX_SUMMARY_REFRESH_MS = 10_000;

export class PrefixReporter {
  readonly index: KvBlockIndex;
  readonly intervalMs: number;
  readonly refreshMs: number;
  private readonly feeds: KvEventFeeds;
  private readonly maxBytes: number;
  /** Events (or backend changes) since the last build. */
  private dirty = true;
  private last: { base64: string; backends: string[]; summary: PrefixSummary } | undefined;
  /** The last PUT that the control plane accepted (base64 + backends), and when. */
  private sentKey = '';
  private sentAt = -Infinity;
  private readonly ticker: PeriodicTask;
  private failures = 0;
  /** Summaries the control plane accepted. */
  sent = 0;

  constructor(private readonly opts: PrefixReporterOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_PREFIX_SUMMARY_INTERVAL_MS;
    this.refreshMs = opts.refreshMs ?? DEFAULT_PREFIX_SUMMARY_REFRESH_MS;
    if (!(this.intervalMs > 0) || !(this.refreshMs > 0)) throw new RangeError(`prefix summary intervals must be > 0 (interval ${this.intervalMs}, refresh ${this.refreshMs})`);
    this.maxBytes = opts.maxBytes ?? PREFIX_SUMMARY_MAX_BYTES;
    this.ticker = new PeriodicTask(opts.clock, this.intervalMs, () => this.report());
    this.index = new KvBlockIndex({ blockSize: opts.blockSize ?? 16, ...(opts.maxBlocksPerBackend !== undefined ? { maxBlocksPerBackend: opts.maxBlocksPerBackend } : {}) });
    const changed = (): void => void (this.dirty = true);
    this.feeds = new KvEventFeeds({
      logger: opts.logger,
      replayTimeoutMs: opts.replayTimeoutMs,
      onBatch: (id, batch) => {
        applyKvEventBatch(this.index, id, batch);
        changed();
      },
      onReset: (id) => {
        this.index.backendCleared(id);
        changed();
      },
      onGone: (id) => {
        this.index.removeBackend(id);
        changed();
      },
    });
  }

  /** Subscribe to these replicas' KV events (replica id → source); drop the others. */
  sync(sources: ReadonlyMap<string, KvFeedSource>): void {
    const before = this.feeds.ids().sort().join('\n');
    this.feeds.sync(sources);
    if (this.feeds.ids().sort().join('\n') !== before) this.dirty = true; // the report lists the backends
    for (const b of this.index.stats().perBackend) {
      if (!sources.has(b.id)) {
        this.index.removeBackend(b.id);
        this.dirty = true;
      }
    }
  }

  /** Per-replica subscriber counters. */
  subscriberStats(): Record<string, KvFeedStats | null> {
    return this.feeds.stats();
  }

  /** The summary of what the cluster holds now. */
  summary(): PrefixSummary {
    return PrefixSummary.build(this.index, { maxBytes: this.maxBytes });
  }

  /** Report now and every interval. */
  start(): void {
    this.ticker.start();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
    await this.feeds.close();
  }

  /** Resolves when no report is in flight. */
  idle(): Promise<void> {
    return this.ticker.idle();
  }

  /** Build the summary if anything changed, and send it when new or due for a re-send. Never rejects. */
  async report(): Promise<void> {
    if (this.dirty || this.last === undefined) {
      this.dirty = false;
      const summary = this.summary();
      this.last = { summary, base64: Buffer.from(summary.encode()).toString('base64'), backends: this.feeds.ids().sort() };
    }
    const { base64, backends, summary } = this.last;
    const key = `${backends.join('\n')}\n${base64}`;
    const now = this.opts.clock.now();
    if (key === this.sentKey && now - this.sentAt < this.refreshMs) return;
    try {
      await this.opts.client.putPrefixSummary(this.opts.cluster, { summary: base64, intervalMs: this.refreshMs, backends });
    } catch (e) {
      if (this.failures++ === 0) {
        // A control plane that is down or starting is the heartbeat loop's warning (once per
        // outage); only a refusal of the summary itself (4xx) is worth a warning of its own.
        const status = (e as { status?: unknown }).status;
        const refused = typeof status === 'number' && status >= 400 && status < 500;
        this.opts.logger[refused ? 'warn' : 'info']({ cluster: this.opts.cluster, error: e instanceof Error ? e.message : String(e) }, `cannot report the prefix summary; retrying every ${this.intervalMs} ms`);
      }
      return;
    }
    if (this.failures > 0) this.opts.logger.info({ cluster: this.opts.cluster, failed: this.failures }, 'prefix summary reported again');
    this.failures = 0;
    if (key !== this.sentKey) this.opts.logger.debug({ cluster: this.opts.cluster, bytes: summary.byteLength, blocks: summary.blocks, sampleShift: summary.sampleShift, backends: backends.length }, 'prefix summary changed');
    this.sentKey = key;
    this.sentAt = now;
    this.sent++;
  }
}
