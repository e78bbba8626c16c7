/**
 * The latest prefix summary of each cluster, as its agent reported it (ADR 0016). Kept in memory:
 * a summary is soft state that the agent rebuilds every second and re-sends at least every
 * `intervalMs`, so a restarted control plane has every live cluster's summary back within one
 * interval, and persisting it would put ~64 KiB per cluster per change into the store and its
 * watch log for data that is stale in seconds.
 *
 * - `put`: an identical re-send only refreshes `receivedAt`; new bytes bump the cluster's version
 *   and the registry's (the ETag gateways poll with).
 * - A summary not re-sent for 3 × its `intervalMs` expires (its agent is gone): dropped at the next
 *   read, which bumps the registry's version so gateways stop using it.
 */
import { randomBytes } from 'node:crypto';
import type { PrefixSummaryItem, PrefixSummaryList } from '../api/index.js';
import type { Clock } from '../core/index.js';
import type { MetricsRegistry } from '../observability/index.js';
import type { PrefixSummary } from '../router/index.js';

/** Re-sends an agent may miss before its summary expires. */
export const PREFIX_SUMMARY_MISSED_RESENDS = 3;
export const DEFAULT_PREFIX_SUMMARY_INTERVAL_MS = 10_000;

interface Entry {
  item: PrefixSummaryItem;
  receivedAtMs: number;
  intervalMs: number;
}

export interface PrefixSummaryReport {
  /** The decoded summary (validated), and its bytes as sent. */
  summary: PrefixSummary;
  base64: string;
  intervalMs?: number | undefined;
  backends: readonly string[];
}

export class PrefixSummaryRegistry {
  private readonly byCluster = new Map<string, Entry>();
  private version = 0;
  /** Distinguishes this process's versions from a previous run's (ETags stay unique across restarts). */
  private readonly epoch = randomBytes(4).toString('hex');

  constructor(
    private readonly clock: Clock,
    metrics?: MetricsRegistry,
  ) {
    const latest = (): PrefixSummaryItem[] => this.list().items;
    metrics?.gauge({
      name: 'switchyard_prefix_summary_bytes',
      help: "Size of each cluster's latest prefix summary (reported by its agent), in bytes.",
      labelNames: ['cluster'],
      collect() {
        this.reset();
        for (const item of latest()) this.set({ cluster: item.cluster }, item.bytes);
      },
    });
  }

  /** Record a cluster's report. Returns its version and whether the bytes changed. */
  put(cluster: string, r: PrefixSummaryReport): { version: number; changed: boolean } {
    const now = this.clock.epochMs();
    const prev = this.byCluster.get(cluster);
    const intervalMs = r.intervalMs ?? DEFAULT_PREFIX_SUMMARY_INTERVAL_MS;
    const backends = [...r.backends].sort();
    if (prev && prev.item.summary === r.base64 && prev.item.backends.join('\n') === backends.join('\n')) {
      prev.receivedAtMs = now;
      prev.intervalMs = intervalMs;
      prev.item.receivedAt = new Date(now).toISOString();
      return { version: prev.item.version, changed: false };
    }
    const s = r.summary;
    this.version++;
    const item: PrefixSummaryItem = {
      cluster,
      version: (prev?.item.version ?? 0) + 1,
      receivedAt: new Date(now).toISOString(),
      bytes: s.byteLength,
      blockSize: s.blockSize,
      blocks: s.blocks,
      entries: s.entries,
      sampleShift: s.sampleShift,
      backends,
      summary: r.base64,
    };
    this.byCluster.set(cluster, { item, receivedAtMs: now, intervalMs });
    return { version: item.version, changed: true };
  }

  /** The cluster's latest summary, unless expired. */
  get(cluster: string): PrefixSummaryItem | undefined {
    this.expire();
    return this.byCluster.get(cluster)?.item;
  }

  /** Every cluster's latest summary, by cluster name. */
  list(): PrefixSummaryList {
    this.expire();
    const items = [...this.byCluster.values()].map((e) => e.item).sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
    return { items, version: this.etag() };
  }

  /** Changes whenever list() would answer differently (apart from receivedAt). */
  etag(): string {
    this.expire();
    return `"${this.epoch}-${this.version}"`;
  }

  /** Forget a cluster (deleted). */
  remove(cluster: string): void {
    if (this.byCluster.delete(cluster)) this.version++;
  }

  private expire(): void {
    const now = this.clock.epochMs();
    for (const [cluster, e] of this.byCluster) {
      if (now - e.receivedAtMs > PREFIX_SUMMARY_MISSED_RESENDS * e.intervalMs) {
        this.byCluster.delete(cluster);
        this.version++;
      }
    }
  }
}
