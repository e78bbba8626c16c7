/**
 * The gateway's exact KV-cache view: one KvEventSubscriber per endpoint that publishes vLLM KV
 * events (ZMQ SUB, gaps repaired through the replay socket), all feeding one KvBlockIndex keyed by
 * endpoint id, plus the prompt tokenizers that turn a request into the token ids the engine will
 * prefill. kv_overlap / prefill_cost / cluster_score read the index through RoutingContext.kvIndex.
 *
 * Lifecycle, kept in step with the routing table (`sync`):
 * - an endpoint with `kvEvents` gets a subscriber; one whose source changed is resubscribed;
 * - an endpoint that leaves the table loses its subscriber and its index entries;
 * - an unrepaired gap (replay off, timed out, or the engine restarted) clears that endpoint's
 *   entries: its cache is unknown, so it is treated as empty until new events arrive.
 *
 * Tokenizers load lazily (the sim tokenizer costs ~200 ms and ~20 MB): until one is ready,
 * requests for its models route without token ids (the profile's other signals decide).
 */
import { SwitchyardError } from '../core/index.js';
import { KvEventSubscriber } from '../kvevents/index.js';
import type { Logger, MetricsRegistry } from '../observability/index.js';
import { applyKvEventBatch, KvBlockIndex } from '../router/index.js';
import { loadSimTokenizer, PromptTokenizer } from '../tokenizers/index.js';
import type { GatewayEndpoint, KvEventSource } from './table.js';

export type TokenizerName = 'sim';

export interface KvRoutingOptions {
  blockSize: number;
  maxBlocksPerBackend: number;
  /** Max wait for a replay to fill a gap. */
  replayTimeoutMs?: number;
  logger: Logger;
  metrics: MetricsRegistry;
}

interface Subscription {
  /** The source it was created for (endpoint|replay|topic): a change resubscribes. */
  key: string;
  sub: KvEventSubscriber | null;
  closed: boolean;
}

const keyOf = (s: KvEventSource): string => `${s.endpoint}|${s.replayEndpoint ?? ''}|${s.topic ?? ''}`;

export class KvRouting {
  readonly index: KvBlockIndex;
  private readonly subs = new Map<string, Subscription>();
  private readonly tokenizers = new Map<TokenizerName, PromptTokenizer | Promise<void>>();
  private readonly batches;
  private readonly gaps;

  constructor(private readonly opts: KvRoutingOptions) {
    this.index = new KvBlockIndex({ blockSize: opts.blockSize, maxBlocksPerBackend: opts.maxBlocksPerBackend });
    const m = opts.metrics;
    this.batches = m.counter({ name: 'switchyard_kv_event_batches_total', help: 'KV-event batches applied to the KV index, per backend (live and replayed).', labelNames: ['backend'] });
    this.gaps = m.counter({ name: 'switchyard_kv_event_gaps_total', help: 'Sequence gaps in a backend\'s KV-event stream; repaired="false" cleared its index entries.', labelNames: ['backend', 'repaired'] });
    const index = this.index;
    m.gauge({
      name: 'switchyard_kvindex_blocks',
      help: 'KV blocks indexed per backend (from its KV events).',
      labelNames: ['backend'],
      collect() {
        this.reset();
        for (const b of index.stats().perBackend) this.set({ backend: b.id }, b.blocks);
      },
    });
    m.gauge({
      name: 'switchyard_kvindex_bytes',
      help: 'Estimated memory held by the KV index.',
      collect() {
        this.set(index.stats().estimatedBytes);
      },
    });
    m.gauge({
      name: 'switchyard_kvindex_bytes_per_block',
      help: 'Estimated index bytes per indexed block per backend (0 when empty).',
      collect() {
        this.set(index.stats().bytesPerEntry);
      },
    });
  }

  /** Subscribe to new sources, drop endpoints that are gone. */
  sync(endpoints: readonly GatewayEndpoint[]): void {
    const want = new Map<string, KvEventSource>();
    for (const e of endpoints) if (e.kvEvents) want.set(e.id, e.kvEvents);
    const present = new Set(endpoints.map((e) => e.id));
    for (const [id, s] of this.subs) {
      const w = want.get(id);
      if (w === undefined || keyOf(w) !== s.key) this.unsubscribe(id, s, !present.has(id) || w === undefined);
    }
    for (const id of this.index.stats().perBackend.map((b) => b.id)) if (!present.has(id)) this.index.removeBackend(id);
    for (const [id, src] of want) if (!this.subs.has(id)) this.subscribe(id, src);
  }

  /** The prompt tokenizer, or undefined while it loads (the first call starts loading it). */
  tokenizer(name: TokenizerName): PromptTokenizer | undefined {
    const t = this.tokenizers.get(name);
    if (t instanceof PromptTokenizer) return t;
    if (t === undefined) this.load(name);
    return undefined;
  }

  /** Resolves once the named tokenizer is loaded (tests, warm-up). */
  async ready(name: TokenizerName): Promise<PromptTokenizer> {
    for (;;) {
      const t = this.tokenizer(name);
      if (t) return t;
      await this.tokenizers.get(name);
    }
  }

  /** Per-endpoint subscriber counters (for /debug/routing). */
  subscriberStats(): Record<string, { endpoint: string; lastSeq: string; received: number; replayed: number; gapsRepaired: number; gapsUnrepaired: number; errors: number } | null> {
    const out: Record<string, ReturnType<KvRouting['subscriberStats']>[string]> = {};
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

  private load(name: TokenizerName): void {
    const loading = loadSimTokenizer().then(
      (tok) => {
        this.tokenizers.set(name, new PromptTokenizer(tok));
        this.opts.logger.info({ tokenizer: name }, 'prompt tokenizer loaded: exact KV-aware routing is on for its models');
      },
      (e: unknown) => {
        this.opts.logger.error({ err: e, tokenizer: name }, 'prompt tokenizer failed to load; routing those models without token ids');
      },
    );
    this.tokenizers.set(name, loading);
  }

  private subscribe(id: string, src: KvEventSource): void {
    const s: Subscription = { key: keyOf(src), sub: null, closed: false };
    this.subs.set(id, s);
    const log = this.opts.logger;
    KvEventSubscriber.create({
      endpoint: src.endpoint,
      replayEndpoint: src.replayEndpoint,
      topic: src.topic ?? '',
      replayTimeoutMs: this.opts.replayTimeoutMs,
      onBatch: (batch) => {
        applyKvEventBatch(this.index, id, batch);
        this.batches.inc({ backend: id });
      },
      onGap: (gap) => {
        this.gaps.inc({ backend: id, repaired: String(gap.repaired) });
        if (gap.repaired) {
          log.info({ backend: id, expected: String(gap.expected), got: String(gap.got) }, 'KV-event gap repaired by replay');
        } else {
          this.index.backendCleared(id);
          log.warn({ backend: id, expected: String(gap.expected), got: String(gap.got) }, 'KV-event gap not repaired: cleared the backend\'s KV index entries');
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

  private unsubscribe(id: string, s: Subscription, forget: boolean): void {
    this.subs.delete(id);
    void this.closeSub(s);
    if (forget) this.index.removeBackend(id);
    else this.index.backendCleared(id); // a new source: its cache starts unknown
  }

  private async closeSub(s: Subscription): Promise<void> {
    s.closed = true;
    await s.sub?.close();
  }
}
