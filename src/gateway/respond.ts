/**
 * Committing a response to the client: relaying an SSE stream (bytes untouched, usage and
 * timings observed) and accounting usage, plus the small body helpers both paths use.
 */
import type { ServerResponse } from 'node:http';
import { SwitchyardError } from '../core/index.js';
import { sseErrorEvent } from '../openai/index.js';
import type { EndpointView } from '../router/index.js';
import type { Inbound } from './inbound.js';
import type { ProxyRuntime } from './ports.js';
import { SseRelay, parseUsage, type StreamUsage } from './relay.js';
import { classifyError } from './upstream.js';

export async function relayStream(rt: ProxyRuntime, inb: Inbound, ep: EndpointView, body: AsyncIterable<Buffer> & { destroy(): void }, res: ServerResponse, signal: AbortSignal): Promise<void> {
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

export function accountUsage(rt: ProxyRuntime, model: string, body: Buffer): void {
  if (body.length > 4 * 1024 * 1024) return;
  const u = parseUsage(body.toString('utf8'));
  if (u) recordUsage(rt, model, u);
}

function recordUsage(rt: ProxyRuntime, model: string, u: StreamUsage): void {
  rt.metrics.inputTokens.inc({ model }, u.promptTokens);
  if (u.completionTokens > 0) rt.metrics.outputTokens.inc({ model }, u.completionTokens);
  if (u.cachedTokens > 0) rt.metrics.cachedTokens.inc({ model }, u.cachedTokens);
}

export function drain(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
    if (signal.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  });
}

export async function readAll(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > limit) throw new SwitchyardError('upstream_error', `upstream response larger than ${limit} bytes`);
    chunks.push(c);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

export function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
