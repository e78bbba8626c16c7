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
 * Tokenizers load lazily (the sim tokenizer costs ~200 ms and ~20 MB; a model directory's
 * tokenizer.json is read and parsed once): until one is ready, requests for its models route
 * without token ids (the profile's other signals decide). One that cannot be loaded (a remote
 * model URI, a missing directory, a malformed file) is logged once and its models stay on
 * approximate routing; nothing is ever downloaded.
 */
import { SwitchyardError } from '../core/index.js';
import { KvEventFeeds, type KvFeedStats } from '../kvevents/index.js';
import type { Logger, MetricsRegistry } from '../observability/index.js';
import { applyKvEventBatch, KvBlockIndex } from '../router/index.js';
import { loadModelTokenizer, loadSimTokenizer, PromptTokenizer } from '../tokenizers/index.js';
import type { GatewayEndpoint, KvEventSource, TokenizerSpec } from './table.js';

export interface KvRoutingOptions {
  blockSize: number;
  maxBlocksPerBackend: number;
  /** Max wait for a replay to fill a gap. */
  replayTimeoutMs?: number;
  logger: Logger;
  metrics: MetricsRegistry;
}

export class KvRouting {
  readonly index: KvBlockIndex;
  /** One subscriber per endpoint with KV events (shared with cluster agents: kvevents/feeds.ts). */
  private readonly feeds: KvEventFeeds;
  /** By tokenizer key: loaded, loading, or null (cannot be loaded: logged once, no token ids). */
  private readonly tokenizers = new Map<string, PromptTokenizer | Promise<void> | null>();
  private readonly keys = new WeakMap<object, string>();
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
    this.feeds = new KvEventFeeds({
      logger: opts.logger,
      replayTimeoutMs: opts.replayTimeoutMs,
      onBatch: (id, batch) => {
        applyKvEventBatch(index, id, batch);
        this.batches.inc({ backend: id });
      },
      onGap: (id, gap) => this.gaps.inc({ backend: id, repaired: String(gap.repaired) }),
      onReset: (id) => index.backendCleared(id),
      onGone: (id) => index.removeBackend(id),
    });
  }

  /** Subscribe to new sources, drop endpoints that are gone. */
  sync(endpoints: readonly GatewayEndpoint[]): void {
    const want = new Map<string, KvEventSource>();
    for (const e of endpoints) if (e.kvEvents) want.set(e.id, e.kvEvents);
    const present = new Set(endpoints.map((e) => e.id));
    this.feeds.sync(want);
    for (const id of this.index.stats().perBackend.map((b) => b.id)) if (!present.has(id)) this.index.removeBackend(id);
  }

  /** The prompt tokenizer, or undefined while it loads (the first call starts loading it) or when it cannot be loaded. */
  tokenizer(spec: TokenizerSpec): PromptTokenizer | undefined {
    const key = this.keyOf(spec);
    const t = this.tokenizers.get(key);
    if (t instanceof PromptTokenizer) return t;
    if (t === undefined) this.load(key, spec);
    return undefined;
  }

  /** Resolves once the tokenizer is loaded (tests, warm-up); rejects when it cannot be. */
  async ready(spec: TokenizerSpec): Promise<PromptTokenizer> {
    for (;;) {
      const t = this.tokenizer(spec);
      if (t) return t;
      const loading = this.tokenizers.get(this.keyOf(spec));
      if (loading === null) throw new SwitchyardError('unavailable', `tokenizer ${this.keyOf(spec)} could not be loaded (see the gateway log)`);
      await loading;
    }
  }

  private keyOf(spec: TokenizerSpec): string {
    if (spec === 'sim') return spec;
    let key = this.keys.get(spec);
    if (key === undefined) this.keys.set(spec, (key = `path:${spec.path}`));
    return key;
  }

  /** Per-endpoint subscriber counters (for /debug/routing). */
  subscriberStats(): Record<string, KvFeedStats | null> {
    return this.feeds.stats();
  }

  async close(): Promise<void> {
    await this.feeds.close();
  }

  private load(key: string, spec: TokenizerSpec): void {
    const log = this.opts.logger;
    const loading = (
      spec === 'sim'
        ? loadSimTokenizer().then((tok) => new PromptTokenizer(tok))
        : loadModelTokenizer(spec.path).then((m) => {
            if (m.template === undefined) log.warn({ tokenizer: key }, 'model has no chat template: its chat requests route without token ids (approximate)');
            log.info({ tokenizer: key, name: m.tokenizer.name, vocab: m.tokenizer.vocabSize, encoder: m.encoder }, 'model tokenizer loaded from local files');
            return new PromptTokenizer(m.tokenizer, { template: m.template ?? null, maxUncachedChars: m.budgetChars });
          })
    ).then(
      (pt) => {
        this.tokenizers.set(key, pt);
        log.info({ tokenizer: key }, 'prompt tokenizer loaded: exact KV-aware routing is on for its models');
      },
      (e: unknown) => {
        this.tokenizers.set(key, null);
        log.warn({ err: e instanceof SwitchyardError ? e.message : e, tokenizer: key }, 'no prompt tokenizer: routing those models without token ids (approximate)');
      },
    );
    this.tokenizers.set(key, loading);
  }
}
