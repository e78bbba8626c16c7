/**
 * Committing a response to the client: relaying an SSE stream (bytes untouched, usage and
 * timings observed) and accounting usage, plus the small helpers both paths use.
 */
import type { ServerResponse } from 'node:http';
import { SwitchyardError } from '../core/index.js';
import { sseErrorEvent } from '../openai/index.js';
import type { EndpointView } from '../router/index.js';
import type { Inbound } from './inbound.js';
import type { ProxyRuntime } from './ports.js';
import { SseRelay, parseUsage, type RelayObserver, type StreamUsage } from './relay.js';
import { classifyError, type BodySink, type UpstreamResponse } from './upstream.js';

/** The request a relay belongs to: whether it was aborted, and what to call when the relay is over. */
export interface RelayOwner {
  readonly aborted: boolean;
  relayDone(): void;
}

/**
 * Relays one committed SSE response (headers set with writeHead(), not sent yet) from the
 * upstream exchange to the client, as the exchange's body sink: callbacks only — no async frame,
 * promise or closure per stream — so an open stream holds just this object, its SseRelay and
 * the exchange.
 *
 * Writes are batched while upstream bytes are at hand: the response is corked at the first chunk
 * of an event-loop turn and uncorked on the next tick (all chunks of one socket read arrive
 * before it). The headers go out at once when no body bytes have arrived yet (the client sees the
 * stream open before the first token), else together with the first bytes; after `[DONE]` the
 * last bytes wait for the response's terminating chunk (the upstream normally ends right away)
 * so both leave in one write — released on the next event-loop turn if the upstream does not
 * end. The bytes the client receives are the same; only the number of writes (syscalls) changes.
 * When the client reads slower than the upstream writes, the exchange is paused until the
 * response drains.
 */
export class StreamRelayer implements BodySink, RelayObserver {
  private readonly relay: SseRelay;
  private corked = false;
  private deferred = false;
  private paused = false;
  private over = false;
  private lastTokenAt = 0;
  /** Token events seen. */
  private tokens = 0;
  /** Inter-token gaps of 0 not yet observed (tokens that arrived in one chunk). */
  private zeroGaps = 0;
  private lastUsage: StreamUsage | null = null;
  private errorMessage: string | null = null;

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly inb: Inbound,
    private readonly ep: EndpointView,
    private readonly upstream: UpstreamResponse,
    private readonly res: ServerResponse,
    private readonly owner: RelayOwner,
  ) {
    this.relay = new SseRelay(inb.stripUsage, this);
  }

  start(): void {
    try {
      if (this.upstream.buffered > 0) this.cork();
      this.res.flushHeaders();
      this.upstream.pipe(this);
    } catch (e) {
      // Nothing should throw here; if something does, the stream still ends and is accounted.
      const err = e instanceof Error ? e : new Error(String(e));
      this.upstream.abort(err);
      this.error(err);
    }
  }

  data(chunk: Buffer): void {
    if (this.over) return;
    let out: Buffer;
    try {
      out = this.relay.push(chunk);
      this.flushZeroGaps();
    } catch (e) {
      // An event over the scanner's limit: the stream cannot be relayed further.
      const err = e instanceof Error ? e : new Error(String(e));
      this.upstream.abort(err);
      this.error(err);
      return;
    }
    if (out.length === 0) return;
    if (!this.corked) this.cork();
    if (!this.res.write(out) && !this.paused) {
      this.paused = true;
      this.upstream.pause();
      (this.res as RelayTarget)[kRelayer] = this;
      this.res.on('drain', onResponseDrain);
    }
  }

  end(): void {
    if (this.over) return;
    const res = this.res;
    const tail = this.relay.end();
    if (tail !== null && tail.length > 0) res.write(tail);
    let status = '200';
    if (!this.relay.done && this.errorMessage === null) {
      // The upstream closed without [DONE]: tell the client the stream is incomplete.
      res.write(sseErrorEvent(new SwitchyardError('upstream_error', 'The backend ended the stream early.')));
      status = 'truncated';
      this.rt.health.recordFailure(this.ep.id, 'reset');
    } else {
      this.rt.health.recordSuccess(this.ep.id);
    }
    res.end();
    this.finish(status);
  }

  error(err: Error): void {
    if (this.over) return;
    const res = this.res;
    let status: string;
    if (this.owner.aborted) {
      status = 'client_closed';
      res.destroy();
    } else {
      const c = classifyError(err);
      this.rt.health.recordFailure(this.ep.id, c.kind);
      this.rt.metrics.upstreamErrors.inc({ backend: this.ep.id, kind: c.kind });
      status = 'stream_error';
      if (!res.writableEnded) res.end(sseErrorEvent(new SwitchyardError('upstream_error', `The backend failed mid-stream (${c.message}); the response is incomplete.`)));
    }
    this.finish(status);
  }

  /** Uncork what this turn wrote (the nextTick after cork()). */
  release(): void {
    if (!this.corked || this.over) return;
    if (this.relay.done && !this.deferred) {
      // After [DONE]: give the upstream's end one event-loop turn to join this write.
      this.deferred = true;
      setImmediate(releaseRelayer, this);
      return;
    }
    this.corked = false;
    const res = this.res;
    if (!res.writableEnded) while (res.writableCorked > 0) res.uncork();
  }

  drained(): void {
    this.res.off('drain', onResponseDrain);
    this.paused = false;
    this.upstream.resume();
  }

  private cork(): void {
    this.corked = true;
    this.res.cork();
    process.nextTick(releaseRelayer, this);
  }

  private finish(status: string): void {
    this.over = true;
    const { rt, inb } = this;
    this.flushZeroGaps();
    if (this.paused) this.res.off('drain', onResponseDrain);
    if (this.errorMessage !== null) status = 'upstream_error_event';
    rt.metrics.requests.inc({ model: inb.model, backend: this.ep.id, status });
    if (status !== '200') inb.outcome = status;
    inb.streamedTokens = this.tokens;
    if (this.lastUsage !== null) {
      inb.usage = this.lastUsage;
      recordUsage(rt, inb.model, this.lastUsage);
    }
    rt.load.end(this.ep.id);
    this.owner.relayDone();
  }

  // RelayObserver: TTFT and inter-token gaps to metrics, the rest kept.

  firstToken(at: number): void {
    this.tokens++;
    this.lastTokenAt = at;
    this.rt.metrics.ttft.observe({ model: this.inb.model, backend: this.ep.id }, (at - this.inb.t0) / 1000);
  }

  token(at: number): void {
    this.tokens++;
    if (at === this.lastTokenAt) {
      // Another token of the same upstream chunk (one clock reading per chunk): a gap of 0,
      // observed with the others of the chunk in one call (flushZeroGaps).
      this.zeroGaps++;
      return;
    }
    this.rt.metrics.itl.observeFor(this.inb.model, (at - this.lastTokenAt) / 1000);
    this.lastTokenAt = at;
  }

  private flushZeroGaps(): void {
    if (this.zeroGaps === 0) return;
    this.rt.metrics.itl.observeFor(this.inb.model, 0, this.zeroGaps);
    this.zeroGaps = 0;
  }

  usage(u: StreamUsage): void {
    this.lastUsage = u;
  }

  upstreamError(message: string): void {
    this.errorMessage = message;
  }
}

// Shared callbacks that find their relayer on the response (no closures per stream).
const kRelayer = Symbol('switchyard.relayer');
type RelayTarget = ServerResponse & { [kRelayer]?: StreamRelayer };

function onResponseDrain(this: RelayTarget): void {
  this[kRelayer]?.drained();
}

function releaseRelayer(r: StreamRelayer): void {
  r.release();
}

export function accountUsage(rt: ProxyRuntime, inb: Inbound, body: Buffer): void {
  if (body.length > 4 * 1024 * 1024) return;
  const u = parseUsage(body.toString('utf8'));
  if (u) {
    inb.usage = u;
    recordUsage(rt, inb.model, u);
  }
}

function recordUsage(rt: ProxyRuntime, model: string, u: StreamUsage): void {
  rt.metrics.inputTokens.inc({ model }, u.promptTokens);
  if (u.completionTokens > 0) rt.metrics.outputTokens.inc({ model }, u.completionTokens);
  if (u.cachedTokens > 0) rt.metrics.cachedTokens.inc({ model }, u.cachedTokens);
}

export function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
