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
import { newId, SwitchyardError } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest, parseJsonBody, parseRequest, readBody, ResponsesRequest, sseErrorEvent } from '../openai/index.js';
import type { EndpointView, RouteRequest } from '../router/index.js';
import type { GatewayConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';
import type { DecisionLog, HealthPort, LoadPort, RouterPort } from './ports.js';
import { SseRelay, parseUsage, type StreamUsage } from './relay.js';
import type { ModelRoute, RoutingTable } from './table.js';
import { classifyError, isAbort, type FailureKind, type Upstreams } from './upstream.js';

export type ApiKind = 'chat' | 'completions' | 'embeddings' | 'responses';

export const API_PATHS: Record<ApiKind, string> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  embeddings: '/v1/embeddings',
  responses: '/v1/responses',
};

export interface ProxyRuntime {
  config: GatewayConfig;
  table: RoutingTable;
  router: RouterPort;
  health: HealthPort;
  load: LoadPort;
  upstreams: Upstreams;
  metrics: GatewayMetrics;
  logger: Logger;
  decisions: DecisionLog;
  random: () => number;
}

const MAX_BUFFERED_RESPONSE = 64 * 1024 * 1024;

interface Inbound {
  requestId: string;
  kind: ApiKind;
  model: string;
  stream: boolean;
  stripUsage: boolean;
  body: Buffer | string;
  route: RouteRequest & { excluded: Set<string> };
  t0: number;
}

/** Handle one OpenAI API request end to end. Throws SwitchyardErrors before commit. */
export async function proxyRequest(rt: ProxyRuntime, kind: ApiKind, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const inbound = await prepare(rt, kind, req, res);
  const ac = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) {
      rt.metrics.clientDisconnects.inc({ model: inbound.model });
      ac.abort(new SwitchyardError('invalid_request', 'client disconnected'));
    }
  };
  res.on('close', onClose);
  const total = setTimeout(() => ac.abort(new SwitchyardError('timeout', `The request took longer than the gateway's total timeout of ${rt.config.timeouts.total} ms.`)), rt.config.timeouts.total);
  try {
    await attemptLoop(rt, inbound, res, ac.signal);
  } finally {
    clearTimeout(total);
    res.off('close', onClose);
    rt.metrics.duration.observe({ model: inbound.model }, (performance.now() - inbound.t0) / 1000);
  }
}

async function prepare(rt: ProxyRuntime, kind: ApiKind, req: IncomingMessage, res: ServerResponse): Promise<Inbound> {
  const t0 = performance.now();
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && given.length > 0 && given.length <= 200 && /^[\x21-\x7e]+$/.test(given) ? given : newId('req');
  res.setHeader('x-request-id', requestId);
  const raw = await readBody(req, rt.config.limits.maxBodyBytes);
  const json = parseJsonBody(raw);
  const parsed = validate(kind, json) as {
    model: string;
    stream?: boolean | null;
    stream_options?: { include_usage?: boolean | null } | null;
    user?: string | null;
    messages?: { content?: unknown }[];
    prompt?: unknown;
  };
  const model = parsed.model;
  if (!rt.table.route(model)) {
    const available = rt.table.models();
    throw new SwitchyardError('model_not_found', `The model '${model}' does not exist or you do not have access to it. Available models: ${available.length ? available.map((m) => `'${m}'`).join(', ') : '(none)'}.`, { param: 'model' });
  }
  const stream = kind !== 'embeddings' && parsed.stream === true;
  let body: Buffer | string = raw;
  let stripUsage = false;
  if (stream && (kind === 'chat' || kind === 'completions') && parsed.stream_options?.include_usage !== true) {
    // The gateway needs usage for accounting: ask for it, and strip it before the client sees it.
    const obj = json as Record<string, unknown>;
    const so = typeof obj.stream_options === 'object' && obj.stream_options !== null ? obj.stream_options : {};
    body = JSON.stringify({ ...obj, stream_options: { ...so, include_usage: true } });
    stripUsage = true;
  }
  return {
    requestId,
    kind,
    model,
    stream,
    stripUsage,
    body,
    t0,
    route: {
      requestId,
      model,
      headers: req.headers as Record<string, string | undefined>,
      user: typeof parsed.user === 'string' ? parsed.user : undefined,
      promptText: promptTextOf(parsed),
      excluded: new Set<string>(),
    },
  };
}

function validate(kind: ApiKind, json: unknown): unknown {
  switch (kind) {
    case 'chat':
      return parseRequest(ChatCompletionRequest, json);
    case 'completions':
      return parseRequest(CompletionRequest, json);
    case 'embeddings':
      return parseRequest(EmbeddingRequest, json);
    case 'responses':
      return parseRequest(ResponsesRequest, json);
  }
}

function promptTextOf(p: { messages?: { content?: unknown }[]; prompt?: unknown }): string | undefined {
  if (typeof p.prompt === 'string') return p.prompt.slice(0, 2048);
  if (!p.messages) return undefined;
  let s = '';
  for (const m of p.messages) {
    if (typeof m.content === 'string') s += m.content + '\n';
    if (s.length >= 2048) break;
  }
  return s.slice(0, 2048);
}

function views(rt: ProxyRuntime, route: ModelRoute): EndpointView[] {
  return route.endpoints.map((e) => {
    const h = rt.health.status(e.id);
    return { ...e, healthy: h.healthy, weightFactor: h.weightFactor, load: rt.load.get(e.id) };
  });
}

interface AttemptFailure {
  kind: FailureKind;
  message: string;
  status?: number;
  body?: Buffer;
  contentType?: string;
}

async function attemptLoop(rt: ProxyRuntime, inb: Inbound, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const maxAttempts = rt.config.retries.attempts;
  let last: AttemptFailure | null = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await backoff(rt, attempt, signal);
    if (signal.aborted) return finishAborted(rt, inb, res, signal);
    const route = rt.table.route(inb.model);
    if (!route) throw new SwitchyardError('model_not_found', `The model '${inb.model}' was removed from the routing table.`, { param: 'model' });
    const ctx = { now: performance.now(), random: rt.random, request: inb.route };
    const all = views(rt, route);
    let decision = rt.router.route(route.profile, ctx, all, false);
    if (!decision.endpoint && all.some((e) => !e.healthy && !inb.route.excluded.has(e.id))) {
      // Panic routing (as Envoy does): when health tracking rules out every remaining endpoint,
      // a false positive must not become a total outage — try them anyway, and say so.
      const panic = rt.router.route(route.profile, ctx, all.map((e) => (e.healthy ? e : { ...e, healthy: true })), false);
      if (panic.endpoint) decision = { ...panic, reason: `panic (no healthy endpoint): ${panic.reason}` };
    }
    rt.metrics.decisions.inc({ model: inb.model, profile: decision.profile, outcome: decision.endpoint ? 'picked' : 'none' });
    for (const t of decision.timings) rt.metrics.pluginDuration.observe({ plugin: t.plugin }, t.us / 1e6);
    rt.decisions.add({ at: new Date().toISOString(), requestId: inb.requestId, model: inb.model, attempt, profile: decision.profile, endpoint: decision.endpoint?.id ?? null, reason: decision.reason, candidates: decision.candidates, timings: decision.timings });
    const ep = decision.endpoint;
    if (!ep) break;
    inb.route.excluded.add(ep.id);
    if (!rt.health.allowRequest(ep.id) && !decision.reason.startsWith('panic')) continue;
    const outcome = await attempt1(rt, inb, ep, `${decision.profile}; ${decision.reason}`, attempt, res, signal);
    if (outcome === null) return;
    last = outcome;
    rt.metrics.upstreamErrors.inc({ backend: ep.id, kind: outcome.kind });
    if (attempt < maxAttempts) rt.metrics.retries.inc({ model: inb.model, reason: outcome.kind });
    rt.logger.warn({ requestId: inb.requestId, model: inb.model, backend: ep.id, attempt, kind: outcome.kind, status: outcome.status }, `upstream attempt failed: ${outcome.message}`);
  }
  if (signal.aborted) return finishAborted(rt, inb, res, signal);
  fail(rt, inb, res, last);
}

/** One attempt against one endpoint. Returns null when the response was committed (done). */
async function attempt1(rt: ProxyRuntime, inb: Inbound, ep: EndpointView, routeHeader: string, attempt: number, res: ServerResponse, signal: AbortSignal): Promise<AttemptFailure | null> {
  rt.load.begin(ep.id);
  rt.metrics.inflight.inc({ backend: ep.id });
  let committed = false;
  try {
    const up = await rt.upstreams.request(ep.url, API_PATHS[inb.kind], {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: inb.stream ? 'text/event-stream' : 'application/json', 'x-request-id': inb.requestId },
      body: inb.body,
      signal,
    });
    const status = up.statusCode;
    if (inb.kind === 'responses' && (status === 404 || status === 405 || status === 501)) {
      // The backend is fine; it just has no Responses API.
      await readAll(up.body, 64 * 1024).catch(() => undefined);
      rt.health.recordSuccess(ep.id);
      notSupported(rt, inb, ep);
    }
    if (status >= 500 || status === 429) {
      const body = await readAll(up.body, 64 * 1024).catch(() => Buffer.alloc(0));
      const kind: FailureKind = status === 429 ? '429' : '5xx';
      rt.health.recordFailure(ep.id, kind);
      return { kind, status, message: `backend answered ${status}`, body, contentType: header(up.headers['content-type']) };
    }
    const headers: Record<string, string> = {
      'content-type': header(up.headers['content-type']) ?? 'application/json',
      'x-request-id': inb.requestId,
      'x-switchyard-backend': ep.id,
      'x-switchyard-route': routeHeader,
    };
    if (attempt > 1) headers['x-switchyard-attempts'] = String(attempt);
    const isSse = (headers['content-type'] ?? '').startsWith('text/event-stream');
    if (!isSse) {
      // Buffer the whole body first: a failure here is still retryable (nothing was sent).
      let body: Buffer;
      try {
        body = await readAll(up.body, MAX_BUFFERED_RESPONSE);
      } catch (e) {
        if (isAbort(e) || signal.aborted) throw e;
        const c = classifyError(e);
        rt.health.recordFailure(ep.id, c.kind);
        return c;
      }
      rt.health.recordSuccess(ep.id);
      if (status < 300) accountUsage(rt, inb.model, body);
      headers['content-length'] = String(body.length);
      committed = true;
      res.writeHead(status, headers);
      res.end(body);
      rt.metrics.requests.inc({ model: inb.model, backend: ep.id, status: String(status) });
      return null;
    }
    // Streaming: commit now and relay.
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
    committed = true;
    res.writeHead(status, headers);
    res.flushHeaders();
    await relayStream(rt, inb, ep, up.body, res, signal);
    return null;
  } catch (e) {
    if (e instanceof SwitchyardError) throw e; // the gateway's own verdicts are final
    if (isAbort(e) || signal.aborted) {
      if (!committed) return finishAbortedFailure(signal);
      throw e;
    }
    const c = classifyError(e);
    rt.health.recordFailure(ep.id, c.kind);
    if (committed) throw e;
    return c;
  } finally {
    rt.load.end(ep.id);
    rt.metrics.inflight.dec({ backend: ep.id });
  }
}

async function relayStream(rt: ProxyRuntime, inb: Inbound, ep: EndpointView, body: AsyncIterable<Buffer> & { destroy(): void }, res: ServerResponse, signal: AbortSignal): Promise<void> {
  let lastTokenAt = 0;
  let usage: StreamUsage | null = null;
  let upstreamError: string | null = null;
  const relay = new SseRelay(inb.stripUsage, {
    firstToken: (at) => {
      lastTokenAt = at;
      rt.metrics.ttft.observe({ model: inb.model, backend: ep.id }, (at - inb.t0) / 1000);
    },
    token: (at) => {
      rt.metrics.itl.observe({ model: inb.model }, (at - lastTokenAt) / 1000);
      lastTokenAt = at;
    },
    usage: (u) => (usage = u),
    upstreamError: (m) => (upstreamError = m),
  });
  let status = '200';
  try {
    for await (const chunk of body) {
      const out = relay.push(chunk);
      if (out.length > 0 && !res.write(out)) await drain(res, signal);
    }
    const tail = relay.end();
    if (tail && tail.length > 0) res.write(tail);
    if (!relay.done && !upstreamError) {
      // The upstream closed without [DONE]: tell the client the stream is incomplete.
      res.write(sseErrorEvent(new SwitchyardError('upstream_error', 'The backend ended the stream early.')));
      status = 'truncated';
      rt.health.recordFailure(ep.id, 'reset');
    } else {
      rt.health.recordSuccess(ep.id);
    }
    res.end();
  } catch (e) {
    body.destroy();
    if (signal.aborted) {
      status = 'client_closed';
      res.destroy();
    } else {
      const c = classifyError(e);
      rt.health.recordFailure(ep.id, c.kind);
      rt.metrics.upstreamErrors.inc({ backend: ep.id, kind: c.kind });
      status = 'stream_error';
      if (!res.writableEnded) res.end(sseErrorEvent(new SwitchyardError('upstream_error', `The backend failed mid-stream (${c.message}); the response is incomplete.`)));
    }
  } finally {
    if (upstreamError) status = 'upstream_error_event';
    rt.metrics.requests.inc({ model: inb.model, backend: ep.id, status });
    if (usage) recordUsage(rt, inb.model, usage);
  }
}

function accountUsage(rt: ProxyRuntime, model: string, body: Buffer): void {
  if (body.length > 4 * 1024 * 1024) return;
  const u = parseUsage(body.toString('utf8'));
  if (u) recordUsage(rt, model, u);
}

function recordUsage(rt: ProxyRuntime, model: string, u: StreamUsage): void {
  rt.metrics.inputTokens.inc({ model }, u.promptTokens);
  if (u.completionTokens > 0) rt.metrics.outputTokens.inc({ model }, u.completionTokens);
  if (u.cachedTokens > 0) rt.metrics.cachedTokens.inc({ model }, u.cachedTokens);
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
    res.writeHead(last.status, { 'content-type': 'application/json', 'x-switchyard-attempts': String(tried), 'content-length': String(last.body.length) });
    res.end(last.body);
    return;
  }
  const code = last.kind === 'timeout' ? 'timeout' : last.kind === '429' ? 'rate_limit_exceeded' : 'upstream_error';
  throw new SwitchyardError(code, `All ${tried} attempt(s) for model '${inb.model}' failed; last error: ${last.message}.`);
}

function finishAbortedFailure(signal: AbortSignal): AttemptFailure {
  throw signal.reason instanceof Error ? signal.reason : new SwitchyardError('timeout', 'request aborted');
}

function finishAborted(_rt: ProxyRuntime, _inb: Inbound, res: ServerResponse, signal: AbortSignal): void {
  const reason: unknown = signal.reason;
  if (reason instanceof SwitchyardError && reason.code === 'timeout') throw reason;
  res.destroy();
}

async function backoff(rt: ProxyRuntime, attempt: number, signal: AbortSignal): Promise<void> {
  const base = rt.config.retries.backoff;
  const cap = rt.config.retries.maxBackoff;
  const ms = Math.min(cap, base * 2 ** (attempt - 2)) * rt.random();
  if (ms < 1) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

function drain(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
    if (signal.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  });
}

async function readAll(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > limit) throw new SwitchyardError('upstream_error', `upstream response larger than ${limit} bytes`);
    chunks.push(c);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
