/**
 * The narrow interfaces the proxy needs from routing, health and load tracking. The gateway
 * composition (gateway.ts) adapts the real router, HealthPool and LoadView to these, which keeps
 * the proxy's attempt loop independent of their internals and easy to test.
 */
import type { UsageSink } from '../api/index.js';
import type { RateLimiter } from '../limits/index.js';
import type { Logger } from '../observability/index.js';
import type { Decision, EndpointLoad, EndpointView, RoutingContext } from '../router/index.js';
import type { GatewayConfig } from './config.js';
import type { FairQueue } from './fair-queue.js';
import type { KvRouting } from './kv.js';
import type { GatewayMetrics } from './metrics.js';
import type { RoutingTable } from './table.js';
import type { Deadlines } from './deadlines.js';
import type { FailureKind, Upstreams } from './upstream.js';

/** Everything the request path uses, assembled once by the Gateway. */
export interface ProxyRuntime {
  config: GatewayConfig;
  table: RoutingTable;
  router: RouterPort;
  health: HealthPort;
  load: LoadPort;
  /** The exact KV index and prompt tokenizers. */
  kv: KvRouting;
  /** Per-key and per-tenant rate limits (null: none). */
  limiter: RateLimiter | null;
  /** Per-tenant fair queueing when a model is saturated. */
  fair: FairQueue;
  /** Where finished requests' usage records go (null: not metered). */
  usage: UsageSink | null;
  upstreams: Upstreams;
  /** The total request timeout of every request in flight (one shared timer). */
  deadlines: Deadlines;
  metrics: GatewayMetrics;
  logger: Logger;
  decisions: DecisionLog;
  random: () => number;
}

export interface RouterPort {
  route(profile: string, ctx: RoutingContext, endpoints: readonly EndpointView[], options: { debug?: boolean; panic?: boolean }): Decision;
  /** Known profile names (built-in and configured). */
  hasProfile(name: string): boolean;
}

export interface HealthPort {
  /** Side-effect-free view for routing. */
  status(endpointId: string): { healthy: boolean; weightFactor: number };
  /** Reserve the right to send (false when open/ejected; takes a half-open trial slot). */
  allowRequest(endpointId: string): boolean;
  recordSuccess(endpointId: string): void;
  recordFailure(endpointId: string, kind: FailureKind): void;
}

export interface LoadPort {
  begin(endpointId: string): void;
  end(endpointId: string): void;
  get(endpointId: string): EndpointLoad;
  /** The endpoint's scrape showed Switchyard's simulator. */
  isSimulated(endpointId: string): boolean;
}

/** Ring buffer of recent routing decisions for GET /debug/routing (O(1) per add). */
export class DecisionLog {
  private readonly items: unknown[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}
  add(entry: unknown): void {
    if (this.capacity === 0) return;
    this.items[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }
  /** Oldest first. */
  recent(): readonly unknown[] {
    return this.items.length < this.capacity ? this.items.slice() : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}
