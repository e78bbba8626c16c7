/**
 * Cluster prefix summaries in the simulator (`clusterKv: 'summary'`): what each cluster's agent
 * would report (ADR 0016), rebuilt on the virtual clock.
 *
 * Like PrefixReporter, each cluster has its own KvBlockIndex keyed by replica (worker) id, fed by
 * its workers' KV events (applyKvEventBatch), and every tick it rebuilds the summary when an
 * event arrived since the last build, with the agent's builder and size cap
 * (PrefixSummary.build with a 64 KiB cap: the API's PREFIX_SUMMARY_MAX_BYTES, which the agent
 * uses, equals the router's DEFAULT_PREFIX_SUMMARY_MAX_BYTES; simulate.test.ts checks). A summary
 * "sent" is one whose bytes changed (the agent PUTs only those; the periodic re-send of an
 * unchanged one is not counted).
 *
 * Staleness. Live, a decision reads the summary the gateway last polled from the control plane
 * (every 1 s), which is the one the agent last built (every 1 s, unsynchronised): 0–2 s old, 1 s
 * on average. Here the two loops are one: the router uses the summaries of the last rebuild,
 * every `summaryRefreshMs` (default the agent's interval, 1 s), from t = 0 — 0 to refresh old,
 * refresh / 2 on average. `summaryRefreshMs: 2000` gives the live system's mean staleness.
 */
import type { KvEventBatch } from '../kvevents/index.js';
import { applyKvEventBatch, DEFAULT_PREFIX_SUMMARY_MAX_BYTES, KvBlockIndex, PrefixSummary } from '../router/index.js';

/** Counters of the summaries built during a run (summary mode only). */
export interface ClusterSummaryStats {
  readonly refreshMs: number;
  /** Rebuild ticks (each rebuilds the clusters whose workers sent KV events since the last). */
  readonly ticks: number;
  /** Summaries built (over all clusters). */
  readonly builds: number;
  /** Summaries whose bytes changed: what the agents would have PUT. */
  readonly sent: number;
  /** Bytes of those. */
  readonly sentBytes: number;
  /** Mean and largest encoded size of a cluster's summary, over ticks × clusters. */
  readonly bytesMean: number;
  readonly bytesMax: number;
  /** Highest checkpoint level used (0: every block is in the filter). */
  readonly sampleShiftMax: number;
}

interface Member {
  readonly id: string;
  readonly index: KvBlockIndex;
  dirty: boolean;
  summary: PrefixSummary;
}

export class ClusterSummaries {
  private readonly members: readonly Member[];
  private readonly byWorker: ReadonlyMap<string, Member>;
  private ticks = 0;
  private builds = 0;
  private sent = 0;
  private sentBytes = 0;
  private bytesSum = 0;
  private bytesMax = 0;
  private shiftMax = 0;

  constructor(
    clusters: readonly { readonly id: string; readonly workerIds: readonly string[] }[],
    blockSize: number,
    readonly refreshMs: number,
  ) {
    const byWorker = new Map<string, Member>();
    this.members = clusters.map((c) => {
      const m: Member = { id: c.id, index: new KvBlockIndex({ blockSize, expectedBackends: c.workerIds.length }), dirty: false, summary: PrefixSummary.empty(blockSize) };
      for (const w of c.workerIds) byWorker.set(w, m);
      return m;
    });
    this.byWorker = byWorker;
  }

  /** A worker's KV events, as its cluster's agent receives them. */
  onKvEvents(workerId: string, batch: KvEventBatch): void {
    const m = this.byWorker.get(workerId);
    if (m === undefined) return;
    applyKvEventBatch(m.index, workerId, batch);
    m.dirty = true;
  }

  /** One agent tick in every cluster: rebuild the summaries whose cluster changed. */
  rebuild(): void {
    this.ticks++;
    for (const m of this.members) {
      if (m.dirty) {
        m.dirty = false;
        const built = PrefixSummary.build(m.index, { maxBytes: DEFAULT_PREFIX_SUMMARY_MAX_BYTES });
        this.builds++;
        if (!built.equals(m.summary)) {
          this.sent++;
          this.sentBytes += built.byteLength;
        }
        m.summary = built;
        if (built.sampleShift > this.shiftMax) this.shiftMax = built.sampleShift;
      }
      const bytes = m.summary.byteLength;
      this.bytesSum += bytes;
      if (bytes > this.bytesMax) this.bytesMax = bytes;
    }
  }

  /** The clusters' summaries as of the last rebuild. */
  summary(cluster: string): PrefixSummary | undefined {
    return this.members.find((m) => m.id === cluster)?.summary;
  }

  stats(): ClusterSummaryStats {
    const samples = this.ticks * this.members.length;
    return { refreshMs: this.refreshMs, ticks: this.ticks, builds: this.builds, sent: this.sent, sentBytes: this.sentBytes, bytesMean: samples === 0 ? 0 : this.bytesSum / samples, bytesMax: this.bytesMax, sampleShiftMax: this.shiftMax };
  }
}
