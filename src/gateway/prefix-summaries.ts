/**
 * The clusters' prefix summaries as this gateway knows them (ADR 0016): fetched from the control
 * plane it follows (GET /api/v1/prefix-summaries) every `intervalMs` (default 1 s) with the last
 * ETag, so an unchanged set costs a 304. Each cluster's summary is decoded once per version. On
 * an error the last good set is kept (as the routing table is) and the next poll retries; errors
 * are logged once per outage.
 *
 * The two-layer router reads it as ClusterPrefixSummaries: `summary(cluster)`.
 */
import type { PrefixSummaryItem, PrefixSummaryList } from '../api/index.js';
import { PeriodicTask, RealClock, type Clock } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import { PrefixSummary, type ClusterPrefixSummaries } from '../router/index.js';

/** What the feed needs of the admin API (SwitchyardClient satisfies it). */
export interface PrefixSummarySource {
  prefixSummaries(etag?: string, signal?: AbortSignal): Promise<{ list: PrefixSummaryList; etag: string } | null>;
}

export interface PrefixSummaryFeedOptions {
  source: PrefixSummarySource;
  logger: Logger;
  /** Poll period. Default 1 s. */
  intervalMs?: number;
  clock?: Clock;
}

interface Held {
  version: number;
  base64: string;
  summary: PrefixSummary;
  item: Omit<PrefixSummaryItem, 'summary'>;
}

export const DEFAULT_PREFIX_SUMMARY_POLL_MS = 1_000;

export class PrefixSummaryFeed implements ClusterPrefixSummaries {
  readonly intervalMs: number;
  private byCluster = new Map<string, Held>();
  private etag: string | undefined;
  private readonly ticker: PeriodicTask;
  private readonly abort = new AbortController();
  private failing = false;
  /** Successful polls that brought a new set. */
  updates = 0;

  constructor(private readonly o: PrefixSummaryFeedOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_PREFIX_SUMMARY_POLL_MS;
    this.ticker = new PeriodicTask(o.clock ?? new RealClock(), this.intervalMs, () => this.poll(), { mode: 'delay' });
  }

  summary(cluster: string): PrefixSummary | undefined {
    return this.byCluster.get(cluster)?.summary;
  }

  /** What the feed holds (for /debug and tests): per cluster, without the bytes. */
  stats(): { etag: string | null; clusters: Omit<PrefixSummaryItem, 'summary'>[] } {
    return { etag: this.etag ?? null, clusters: [...this.byCluster.values()].map((h) => h.item) };
  }

  start(): void {
    this.ticker.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.ticker.stop();
  }

  /** Fetch once. Resolves true when the set changed; never rejects. */
  async poll(): Promise<boolean> {
    let got: Awaited<ReturnType<PrefixSummarySource['prefixSummaries']>>;
    try {
      got = await this.o.source.prefixSummaries(this.etag, this.abort.signal);
    } catch (e) {
      if (!this.failing && !this.abort.signal.aborted) this.o.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'cannot fetch prefix summaries; keeping the last ones');
      this.failing = true;
      return false;
    }
    if (this.failing) this.o.logger.info('prefix summaries fetched again');
    this.failing = false;
    if (got === null) return false;
    const next = new Map<string, Held>();
    for (const it of got.list.items) {
      const old = this.byCluster.get(it.cluster);
      if (old && old.version === it.version && old.base64 === it.summary) {
        next.set(it.cluster, old);
        continue;
      }
      try {
        const { summary: base64, ...item } = it;
        next.set(it.cluster, { version: it.version, base64, summary: PrefixSummary.decode(Buffer.from(base64, 'base64')), item });
      } catch (e) {
        this.o.logger.warn({ cluster: it.cluster, err: e instanceof Error ? e.message : String(e) }, 'ignoring an undecodable prefix summary');
      }
    }
    this.byCluster = next;
    this.etag = got.etag || undefined;
    this.updates++;
    return true;
  }
}
