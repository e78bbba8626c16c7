/**
 * KvEventFeeds: one KvEventSubscriber per backend, kept in step with a desired set of KV-event
 * sources (`sync`), handing every batch to one consumer. What the gateway (its exact KV index)
 * and cluster agents (their cluster's index, summarised for the control plane) share.
 *
 * The consumer owns its index; the feeds tell it what happened to each backend's stream:
 * - `onBatch(id, batch)`: a batch, in order (live or replayed);
 * - `onReset(id)`: the backend's cache is unknown from now on — an unrepaired gap (replay off,
 *   timed out, or the engine restarted), or its source changed (resubscribed);
 * - `onGone(id)`: the backend left the desired set (its subscription is closed).
 * Gaps are also passed to `onGap` (metrics); repaired ones need no action.
 */
import { SwitchyardError } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import { KvEventSubscriber, type KvEventGap } from './subscriber.js';
import type { KvEventBatch } from './types.js';

/** Where a backend publishes KV events (ZMQ PUB, and the ROUTER that replays them). */
export interface KvFeedSource {
  readonly endpoint: string;
  readonly replayEndpoint?: string | undefined;
  readonly topic?: string | undefined;
}

export interface KvEventFeedsOptions {
  logger: Logger;
  /** Max wait for a replay to fill a gap. Default 1000 ms (the subscriber's). */
  replayTimeoutMs?: number | undefined;
  onBatch: (id: string, batch: KvEventBatch) => void;
  onReset: (id: string) => void;
  onGone: (id: string) => void;
  onGap?: (id: string, gap: KvEventGap) => void;
}

/** Per-backend subscriber counters (for debug endpoints). */
export interface KvFeedStats {
  endpoint: string;
  lastSeq: string;
  received: number;
  replayed: number;
  gapsRepaired: number;
  gapsUnrepaired: number;
  errors: number;
}

interface Subscription {
  /** The source it was created for (endpoint|replay|topic): a change resubscribes. */
  key: string;
  sub: KvEventSubscriber | null;
  closed: boolean;
}

const keyOf = (s: KvFeedSource): string => `${s.endpoint}|${s.replayEndpoint ?? ''}|${s.topic ?? ''}`;

export class KvEventFeeds {
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly opts: KvEventFeedsOptions) {}

  /** Subscribe to new sources, resubscribe changed ones (onReset), drop the rest (onGone). */
  sync(want: ReadonlyMap<string, KvFeedSource>): void {
    for (const [id, s] of this.subs) {
      const w = want.get(id);
      if (w !== undefined && keyOf(w) === s.key) continue;
      this.subs.delete(id);
      void this.closeSub(s);
      if (w === undefined) this.opts.onGone(id);
      else this.opts.onReset(id); // a new source: its cache starts unknown
    }
    for (const [id, src] of want) if (!this.subs.has(id)) this.subscribe(id, src);
  }

  /** Backend ids with a subscription (or one being created). */
  ids(): string[] {
    return [...this.subs.keys()];
  }

  /** Per-backend subscriber counters; null while the subscription is being created. */
  stats(): Record<string, KvFeedStats | null> {
    const out: Record<string, KvFeedStats | null> = {};
    for (const [id, s] of this.subs) {
      const x = s.sub;
      out[id] = x ? { endpoint: x.endpoint, lastSeq: String(x.lastSeq), received: x.received, replayed: x.replayed, gapsRepaired: x.gapsRepaired, gapsUnrepaired: x.gapsUnrepaired, errors: x.errors } : null;
    }
    return out;
  }

  async close(): Promise<void> {
    const all = [...this.subs.values()];
    this.subs.clear();
    await Promise.all(all.map((s) => this.closeSub(s)));
  }

  private subscribe(id: string, src: KvFeedSource): void {
    const s: Subscription = { key: keyOf(src), sub: null, closed: false };
    this.subs.set(id, s);
    const { logger: log, onBatch, onReset, onGap } = this.opts;
    KvEventSubscriber.create({
      endpoint: src.endpoint,
      replayEndpoint: src.replayEndpoint,
      topic: src.topic ?? '',
      replayTimeoutMs: this.opts.replayTimeoutMs,
      onBatch: (batch) => onBatch(id, batch),
      onGap: (gap) => {
        onGap?.(id, gap);
        if (gap.repaired) {
          log.info({ backend: id, expected: String(gap.expected), got: String(gap.got) }, 'KV-event gap repaired by replay');
        } else {
          onReset(id);
          log.warn({ backend: id, expected: String(gap.expected), got: String(gap.got) }, "KV-event gap not repaired: cleared the backend's KV index entries");
        }
      },
      onError: (e) => log.warn({ err: e, backend: id }, 'KV-event stream error'),
    }).then(
      (sub) => {
        if (s.closed) void sub.close();
        else {
          s.sub = sub;
          log.info({ backend: id, endpoint: src.endpoint, replay: src.replayEndpoint ?? null }, 'subscribed to KV events');
        }
      },
      (e: unknown) => {
        if (this.subs.get(id) === s) this.subs.delete(id);
        log.error({ err: e instanceof SwitchyardError ? e.message : e, backend: id, endpoint: src.endpoint }, 'cannot subscribe to KV events; routing this backend without them');
      },
    );
  }

  private async closeSub(s: Subscription): Promise<void> {
    s.closed = true;
    await s.sub?.close();
  }
}
