/**
 * One proxied request past intake, and its bookkeeping beyond routing: the abort signal, the
 * total timeout, the client's 'close', the fair-queue slot, the rate-limit reservation, the
 * usage record and the duration metric — set up when the request is admitted, settled once
 * when it is over (ProxyCall.finish()), whether that is a whole response, an error, or the end
 * of a relayed stream long after proxyRequest() returned.
 */
import type { ServerResponse } from 'node:http';
import type { UsageSink } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import { rateLimitError, rateLimitHeaders, type RateLimiter, type Reservation } from '../limits/index.js';
import { promptTokenIds } from '../router/index.js';
import type { DeadlineEntry } from './deadlines.js';
import type { FairTicket } from './fair-queue.js';
import type { Inbound } from './inbound.js';
import type { ProxyRuntime } from './ports.js';
import type { RelayOwner } from './respond.js';
import { usageKeyOf } from './tenancy.js';
import { RequestSignal, type RequestAbortSignal } from './upstream.js';

const kCall = Symbol('switchyard.proxyCall');
type CallTarget = ServerResponse & { [kCall]?: ProxyCall | null };

/**
 * The gateway's 'close' listener of every response calls this: a client that went away before
 * its response finished aborts the request (and with it the upstream exchange).
 */
export function responseClosed(res: ServerResponse): void {
  const call = (res as CallTarget)[kCall];
  if (call !== undefined && call !== null && !res.writableFinished) call.clientClosed();
}

/**
 * One proxied request past intake: its abort signal, its place in the total-timeout list, its
 * fair-queue ticket, and the bookkeeping when it is over (finish(): duration, usage record, rate
 * limit settlement, fair-queue release) — one object for all of it.
 */
export class ProxyCall extends RequestSignal implements DeadlineEntry, RelayOwner {
  ticket: FairTicket | null = null;
  deadlineAt = 0;
  dlPrev: DeadlineEntry | null = null;
  dlNext: DeadlineEntry | null = null;
  private done = false;

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly inb: Inbound,
    private readonly res: ServerResponse,
    private readonly lease: Reservation | null,
  ) {
    super();
    (res as CallTarget)[kCall] = this;
    rt.deadlines.add(this);
  }

  /** The total timeout passed. */
  expired(): void {
    const ms = this.rt.deadlines.timeoutMs;
    this.abort(new SwitchyardError('timeout', `The request took longer than the gateway's total timeout of ${ms} ms.`));
  }

  clientClosed(): void {
    this.rt.metrics.clientDisconnects.inc({ model: this.inb.model });
    this.abort(new SwitchyardError('invalid_request', 'client disconnected'));
  }

  relayDone(): void {
    this.finish();
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    const { rt, inb } = this;
    rt.deadlines.remove(this);
    (this.res as CallTarget)[kCall] = null;
    this.upstream = null;
    rt.metrics.duration.observeFor(inb.model, (performance.now() - inb.t0) / 1000);
    if (rt.usage !== null) meter(rt.usage, inb, this.res);
    if (this.lease !== null) settle(rt, rt.limiter!, inb, this.lease);
    if (this.ticket !== null) rt.fair.release(this.ticket, usedTokens(inb));
  }
}

/** One usage record per request that got past intake (the sink batches; never blocks). */
export function meter(sink: UsageSink, inb: Inbound, res: ServerResponse): void {
  const u = inb.usage;
  const outcome = inb.outcome === 0 ? (res.headersSent ? res.statusCode : 'client_closed') : inb.outcome;
  sink.record({
    ts: Date.now(),
    requestId: inb.requestId,
    tenant: inb.caller.tenant,
    key: usageKeyOf(inb.caller),
    model: inb.model,
    cluster: inb.servedBy?.labels.cluster ?? '',
    inputTokens: u !== null ? u.promptTokens : inb.streamedTokens > 0 ? estimatePromptTokens(inb) : 0,
    outputTokens: u !== null ? u.completionTokens : inb.streamedTokens,
    cachedTokens: u !== null ? u.cachedTokens : 0,
    latencyMs: Math.round(performance.now() - inb.t0),
    status: outcome,
  });
}

/** Wait for a slot in the model's fair queue (immediate unless the model is saturated). */
export async function queueFairly(rt: ProxyRuntime, inb: Inbound, signal: RequestSignal): Promise<FairTicket> {
  try {
    return await rt.fair.acquire(inb.model, inb.caller.tenant, inb.caller.priority, estimate(inb), signal);
  } catch (e) {
    if (e instanceof SwitchyardError && e.code === 'unavailable') {
      rt.metrics.requests.inc({ model: inb.model, backend: 'none', status: '503' });
      throw e;
    }
    throwAbortReason(signal);
  }
}

/** The fair queue's estimate of a request's tokens (charged on admission, corrected at the end). */
export function estimate(inb: Inbound): { input: number; output: number } {
  return { input: estimatePromptTokens(inb), output: inb.maxTokens ?? DEFAULT_COMPLETION_ESTIMATE };
}

/** Tokens the request used, as far as the gateway knows (undefined: nothing ran). */
function usedTokens(inb: Inbound): { input: number; output: number } | undefined {
  if (inb.usage !== null) return { input: inb.usage.promptTokens, output: inb.usage.completionTokens };
  if (inb.streamedTokens > 0) return { input: estimatePromptTokens(inb), output: inb.streamedTokens };
  return { input: 0, output: 0 };
}

/** Reserve the request's estimated tokens (prompt + max_tokens); a rejection is a 429 with OpenAI's headers. */
export async function admit(rt: ProxyRuntime, limiter: RateLimiter, inb: Inbound, res: ServerResponse): Promise<Reservation> {
  const caller = inb.caller;
  const d = await limiter.reserve({ tenantId: caller.tenant, keyId: caller.keyId, estimatedTokens: estimatePromptTokens(inb) + (inb.maxTokens ?? DEFAULT_COMPLETION_ESTIMATE), limits: caller.limits! });
  for (const [k, v] of Object.entries(rateLimitHeaders(d))) res.setHeader(k, v);
  if (!d.allowed) {
    rt.metrics.requests.inc({ model: inb.model, backend: 'none', status: '429' });
    rt.logger.info({ requestId: inb.requestId, tenant: caller.tenant, key: caller.keyId, scope: d.scope, limit: d.limit }, 'rate limited');
    throw rateLimitError(d);
  }
  return d.reservation;
}

/** Completion tokens reserved when the request sets no max_tokens (settled to the real count). */
const DEFAULT_COMPLETION_ESTIMATE = 512;

/** Prompt tokens: exact when the model's prompts are tokenized here, else ~4 bytes of body per token. */
function estimatePromptTokens(inb: Inbound): number {
  if (inb.route.tokenIds !== undefined) return promptTokenIds(inb.route)?.length ?? 0;
  return Math.ceil(inb.body.length / 4);
}

/**
 * Settle to what was used: the backend's usage when it reported one; for a stream cut short, the
 * prompt plus every token already relayed (the client got them); nothing when no attempt produced
 * a response (refund).
 */
function settle(rt: ProxyRuntime, limiter: RateLimiter, inb: Inbound, lease: Reservation): void {
  const u = inb.usage;
  const done = u !== null ? limiter.settle(lease, u.promptTokens + u.completionTokens)
    : inb.streamedTokens > 0 ? limiter.settle(lease, estimatePromptTokens(inb) + inb.streamedTokens)
    : limiter.release(lease);
  done.catch((e: unknown) => rt.logger.warn({ err: e, requestId: inb.requestId }, 'rate limiter settle failed'));
}

/** The abort's reason as an error to throw (a timeout when the signal carries none). */
export function throwAbortReason(signal: RequestAbortSignal): never {
  throw signal.reason instanceof Error ? signal.reason : new SwitchyardError('timeout', 'request aborted');
}
