/**
 * The request path: validate → pick a backend → send → relay, with retries on another backend
 * while no byte has reached the client, and an OpenAI-style error event once one has.
 *
 * Attempt outcomes:
 * - connect refused/reset, first-byte timeout, 5xx, 429 from the backend → record the failure,
 *   back off (exponential, full jitter), retry elsewhere (the failed backend is excluded);
 * - any other status (2xx, 4xx) → commit: headers go to the client and no retry is possible;
 * - a failure after commit → streams end with an SSE error event; other responses are cut.
 * Non-streaming responses are buffered whole before commit, so a failure mid-body is retried too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchyardError } from '../core/index.js';
import type { Reservation } from '../limits/index.js';
import type { EndpointLoad, EndpointView } from '../router/index.js';
import { admit, estimate, meter, ProxyCall, queueFairly, throwAbortReason } from './call.js';
import { API_PATHS, readInbound, releaseBody, requestIdOf, type ApiKind, type Inbound } from './inbound.js';
import type { ProxyRuntime } from './ports.js';
import { accountUsage, header, StreamRelayer } from './respond.js';
import type { GatewayEndpoint, ModelRoute } from './table.js';
import { routeTwoLayer } from './two-layer.js';
import { ANONYMOUS, checkBudget, type Caller } from './tenancy.js';
import { classifyError, isAbort, UpstreamResponse, type FailureKind, type RequestAbortSignal, type RequestSignal } from './upstream.js';

export { API_PATHS, type ApiKind } from './inbound.js';
export type { ProxyRuntime } from './ports.js';
export { responseClosed } from './call.js';

/** Panic routing on: a health false positive must not become an outage (ADR 6). */
const PANIC = { panic: true } as const;

const MAX_BUFFERED_RESPONSE = 64 * 1024 * 1024;

/**
 * Handle one OpenAI API request end to end. Throws SwitchyardErrors before commit; the response
 * then carries the request id (the caller sends the error).
 *
 * The returned promise settles once the response is committed: a stream is then relayed by
 * callbacks (StreamRelayer), and its request's bookkeeping (ProxyCall.finish) runs when the relay
 * ends. So an open stream keeps no suspended async frame, promise or timer of its own.
 */
export async function proxyRequest(rt: ProxyRuntime, kind: ApiKind, req: IncomingMessage, res: ServerResponse, caller: Caller = ANONYMOUS): Promise<void> {
  const requestId = requestIdOf(req);
  let inbound: Inbound;
  let parsed: Inbound | undefined;
  let lease: Reservation | null = null;
  try {
    inbound = await readInbound(kind, req, requestId, rt.table, rt.config.limits.maxBodyBytes, caller, rt.kv);
    parsed = inbound;
    if (caller.budget !== undefined) checkBudget(caller, Date.now());
    if (rt.limiter !== null && caller.limits !== undefined) lease = await admit(rt, rt.limiter, inbound, res);
  } catch (e) {
    tagError(res, requestId);
    if (parsed !== undefined && rt.usage !== null) {
      // Refused after intake (budget, rate limit): metered with its status and no tokens.
      parsed.outcome = e instanceof SwitchyardError ? e.status : 500;
      meter(rt.usage, parsed, res);
    }
    throw e;
  }
  const call = new ProxyCall(rt, inbound, res, lease);
  try {
    if (rt.fair.enabled) call.ticket = rt.fair.tryAcquire(inbound.model, caller.tenant, caller.priority, estimate(inbound)) ?? (await queueFairly(rt, inbound, call));
    const stream = await attemptLoop(rt, inbound, res, call);
    if (stream !== null) {
      // The relay owns the request from here; it calls call.relayDone() when it is over.
      new StreamRelayer(rt, inbound, stream.ep, stream.up, res, call).start();
      return;
    }
  } catch (e) {
    inbound.outcome = call.aborted && !(e instanceof SwitchyardError && e.code === 'timeout') ? 'client_closed' : e instanceof SwitchyardError ? e.status : 500;
    tagError(res, requestId);
    call.finish();
    throw e;
  }
  call.finish();
}

const HEADER_ASCII: Readonly<Record<string, string>> = { '→': '->', '≤': '<=', '≥': '>=', 'τ': 'tau', '·': '*', '×': 'x', '…': '...' };

/**
 * A routing reason as a header value: HTTP header values must be visible ASCII (Node throws on
 * anything else, which would turn a good response into a 500), so a few symbols plugins use in
 * their reasons are spelled out and anything else non-ASCII becomes '?'. Capped at 512 characters.
 */
export function headerSafe(text: string): string {
  const out = /^[\x20-\x7e]*$/.test(text) ? text : text.replace(/[^\x20-\x7e]/g, (c) => HEADER_ASCII[c] ?? '?');
  return out.length > 512 ? `${out.slice(0, 509)}...` : out;
}

/** The error response the caller is about to send carries the request id. */
function tagError(res: ServerResponse, requestId: string): void {
  if (!res.headersSent) res.setHeader('x-request-id', requestId);
}

function views(rt: ProxyRuntime, route: ModelRoute, caller: Caller): EndpointView[] {
  const clusters = caller.allowedClusters;
  const out: EndpointView[] = [];
  for (const e of route.endpoints) {
    // Data residency: a tenant limited to some clusters never sees the others, retries included.
    if (clusters !== undefined && !clusters.has(e.labels.cluster ?? '')) continue;
    const h = rt.health.status(e.id);
    out.push(new View(e, h.healthy, h.weightFactor, rt.load.get(e.id)));
  }
  if (out.length === 0 && clusters !== undefined) {
    throw new SwitchyardError('unavailable', `No backend for model '${route.model}' runs in a cluster tenant '${caller.tenant}' may use (${[...clusters].join(', ') || 'none'}); the request was not sent elsewhere.`, { detail: { model: route.model, allowedClusters: [...clusters] } });
  }
  return out;
}

/**
 * An endpoint as routing sees it on this attempt: the table's endpoint (every field of
 * GatewayEndpoint, copied by name: one object shape, unlike a spread), its health and its load.
 */
class View implements EndpointView {
  readonly id: string;
  readonly url: string;
  readonly model: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly weight: number;
  readonly kvEvents: GatewayEndpoint['kvEvents'];

  constructor(
    e: GatewayEndpoint,
    readonly healthy: boolean,
    readonly weightFactor: number,
    readonly load: EndpointLoad,
  ) {
    this.id = e.id;
    this.url = e.url;
    this.model = e.model;
    this.labels = e.labels;
    this.weight = e.weight;
    this.kvEvents = e.kvEvents;
  }
}

/** A committed SSE response (headers set, not sent) to relay; owns the endpoint's in-flight slot. */
class CommittedStream {
  constructor(
    readonly ep: EndpointView,
    readonly up: UpstreamResponse,
  ) {}
}

interface AttemptFailure {
  kind: FailureKind;
  message: string;
  status?: number;
  body?: Buffer;
  contentType?: string;
}

/** Attempts until one commits. Returns the stream to relay when an SSE response was committed. */
async function attemptLoop(rt: ProxyRuntime, inb: Inbound, res: ServerResponse, signal: RequestSignal): Promise<CommittedStream | null> {
  const maxAttempts = rt.config.retries.attempts;
  let last: AttemptFailure | null = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await backoff(rt, attempt, signal);
    if (signal.aborted) {
      finishAborted(rt, inb, res, signal);
      return null;
    }
    const route = rt.table.route(inb.model);
    if (!route) throw new SwitchyardError('model_not_found', `The model '${inb.model}' was removed from the routing table.`, { param: 'model' });
    const ctx = { now: performance.now(), random: rt.random, request: inb.route, kvIndex: rt.kv.index };
    const decision = route.clusterProfile === undefined ? rt.router.route(route.profile, ctx, views(rt, route, inb.caller), PANIC) : routeTwoLayer(rt.router, route.clusterProfile, route.profile, ctx, views(rt, route, inb.caller), { mode: route.clusterKv, summaries: rt.table.prefixSummaries });
    rt.metrics.decisions.inc({ model: inb.model, profile: decision.profile, outcome: decision.endpoint ? 'picked' : 'none' });
    for (const t of decision.timings) rt.metrics.pluginDuration.observeFor(t.plugin, t.us / 1e6);
    rt.decisions.add({ atMs: Date.now(), requestId: inb.requestId, model: inb.model, attempt, profile: decision.profile, endpoint: decision.endpoint?.id ?? null, reason: decision.reason, candidates: decision.candidates, timings: decision.timings });
    const ep = decision.endpoint;
    if (!ep) break;
    inb.route.excluded.add(ep.id);
    if (!rt.health.allowRequest(ep.id) && !decision.panic) continue;
    const outcome = await attempt1(rt, inb, ep, headerSafe(`${decision.profile}; ${decision.reason}`), attempt, res, signal);
    if (outcome === null) return null;
    if (outcome instanceof CommittedStream) {
      releaseBody(inb); // no attempt follows a commit
      return outcome;
    }
    last = outcome;
    rt.metrics.upstreamErrors.inc({ backend: ep.id, kind: outcome.kind });
    if (attempt < maxAttempts) rt.metrics.retries.inc({ model: inb.model, reason: outcome.kind });
    rt.logger.warn({ requestId: inb.requestId, model: inb.model, backend: ep.id, attempt, kind: outcome.kind, status: outcome.status }, `upstream attempt failed: ${outcome.message}`);
  }
  if (signal.aborted) {
    finishAborted(rt, inb, res, signal);
    return null;
  }
  fail(rt, inb, res, last);
  return null;
}

/**
 * One attempt against one endpoint. Returns null when a whole response was sent, the stream to
 * relay when an SSE response was committed (its in-flight slot then passes to proxyRequest).
 */
async function attempt1(rt: ProxyRuntime, inb: Inbound, ep: EndpointView, routeHeader: string, attempt: number, res: ServerResponse, signal: RequestSignal): Promise<AttemptFailure | CommittedStream | null> {
  rt.load.begin(ep.id);
  let committed = false;
  let handedOver = false;
  const up = new UpstreamResponse();
  signal.upstream = up;
  try {
    rt.upstreams.post(ep.url, API_PATHS[inb.kind], { 'content-type': 'application/json', accept: inb.stream ? 'text/event-stream' : 'application/json', 'x-request-id': inb.requestId }, inb.body, up);
    await up.started();
    const status = up.statusCode;
    if (inb.kind === 'responses' && (status === 404 || status === 405 || status === 501)) {
      // The backend is fine; it just has no Responses API.
      await up.collect(64 * 1024).catch(() => undefined);
      rt.health.recordSuccess(ep.id);
      notSupported(rt, inb, ep);
    }
    if (status >= 500 || status === 429) {
      const body = await up.collect(64 * 1024).catch(() => Buffer.alloc(0));
      const kind: FailureKind = status === 429 ? '429' : '5xx';
      rt.health.recordFailure(ep.id, kind);
      return { kind, status, message: `backend answered ${status}`, body, contentType: header(up.headers['content-type']) };
    }
    const headers: Record<string, string> = {
      'x-request-id': inb.requestId,
      'content-type': header(up.headers['content-type']) ?? 'application/json',
      'x-switchyard-backend': ep.id,
      'x-switchyard-route': routeHeader,
    };
    const cluster = ep.labels.cluster;
    if (cluster !== undefined) headers['x-switchyard-cluster'] = cluster;
    if (attempt > 1) headers['x-switchyard-attempts'] = String(attempt);
    const isSse = (headers['content-type'] ?? '').startsWith('text/event-stream');
    if (!isSse) {
      // Buffer the whole body first: a failure here is still retryable (nothing was sent).
      let body: Buffer;
      try {
        body = await up.collect(MAX_BUFFERED_RESPONSE);
      } catch (e) {
        if (isAbort(e) || signal.aborted) throw e;
        const c = classifyError(e);
        rt.health.recordFailure(ep.id, c.kind);
        return c;
      }
      rt.health.recordSuccess(ep.id);
      if (status < 300) accountUsage(rt, inb, body);
      headers['content-length'] = String(body.length);
      committed = true;
      inb.servedBy = ep;
      inb.outcome = status;
      res.writeHead(status, headers);
      res.end(body);
      rt.metrics.requests.inc({ model: inb.model, backend: ep.id, status: String(status) });
      return null;
    }
    // Streaming: commit now; proxyRequest relays (relayStream sends the headers).
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
    committed = true;
    inb.servedBy = ep;
    inb.outcome = status;
    res.writeHead(status, headers);
    up.releaseHeaders();
    handedOver = true;
    return new CommittedStream(ep, up);
  } catch (e) {
    if (e instanceof SwitchyardError) throw e; // the gateway's own verdicts are final
    if (isAbort(e) || signal.aborted) {
      if (!committed) throwAbortReason(signal);
      throw e;
    }
    const c = classifyError(e);
    rt.health.recordFailure(ep.id, c.kind);
    if (committed) throw e;
    return c;
  } finally {
    if (!handedOver) {
      rt.load.end(ep.id);
      if (signal.upstream === up) signal.upstream = null;
    }
  }
}

function notSupported(rt: ProxyRuntime, inb: Inbound, ep: EndpointView): never {
  rt.metrics.requests.inc({ model: inb.model, backend: ep.id, status: '501' });
  throw new SwitchyardError('not_implemented', `The backend serving '${inb.model}' (${ep.id}) does not support /v1/responses; use /v1/chat/completions.`);
}

function fail(rt: ProxyRuntime, inb: Inbound, res: ServerResponse, last: AttemptFailure | null): void {
  const tried = inb.route.excluded.size;
  rt.metrics.requests.inc({ model: inb.model, backend: 'none', status: last?.status ? String(last.status) : last ? '502' : '503' });
  if (!last) {
    throw new SwitchyardError('unavailable', `No healthy backend is available for model '${inb.model}'${tried ? ` (${tried} tried)` : ''}. Try again shortly.`, { detail: { model: inb.model } });
  }
  if (last.status !== undefined && last.body && last.body.length > 0 && (last.contentType ?? '').includes('json')) {
    // Forward the last backend's own OpenAI-shaped error (e.g. its 429 or 503).
    inb.outcome = last.status;
    res.writeHead(last.status, { 'x-request-id': inb.requestId, 'content-type': 'application/json', 'x-switchyard-attempts': String(tried), 'content-length': String(last.body.length) });
    res.end(last.body);
    return;
  }
  const code = last.kind === 'timeout' ? 'timeout' : last.kind === '429' ? 'rate_limit_exceeded' : 'upstream_error';
  throw new SwitchyardError(code, `All ${tried} attempt(s) for model '${inb.model}' failed; last error: ${last.message}.`);
}

function finishAborted(_rt: ProxyRuntime, _inb: Inbound, res: ServerResponse, signal: RequestAbortSignal): void {
  const reason: unknown = signal.reason;
  if (reason instanceof SwitchyardError && reason.code === 'timeout') throw reason;
  res.destroy();
}

async function backoff(rt: ProxyRuntime, attempt: number, signal: RequestAbortSignal): Promise<void> {
  const base = rt.config.retries.backoff;
  const cap = rt.config.retries.maxBackoff;
  const ms = Math.min(cap, base * 2 ** (attempt - 2)) * rt.random();
  if (ms < 1) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

