/**
 * The narrow interfaces the proxy needs from routing, health and load tracking. The gateway
 * composition (gateway.ts) adapts the real router, HealthPool and LoadView to these, which keeps
 * the proxy's attempt loop independent of their internals and easy to test.
 */
import type { Decision, EndpointLoad, EndpointView, RoutingContext } from '../router/index.js';
import type { FailureKind } from './upstream.js';

export interface RouterPort {
  route(profile: string, ctx: RoutingContext, endpoints: readonly EndpointView[], debug: boolean): Decision;
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
}

/** Ring buffer of recent routing decisions for GET /debug/routing. */
export class DecisionLog {
  private readonly items: unknown[] = [];
  constructor(private readonly capacity: number) {}
  add(entry: unknown): void {
    if (this.capacity === 0) return;
    if (this.items.length >= this.capacity) this.items.shift();
    this.items.push(entry);
  }
  recent(): readonly unknown[] {
    return this.items;
  }
}
