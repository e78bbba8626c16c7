/**
 * Committing a response to the client: relaying an SSE stream (bytes untouched, usage and
 * timings observed) and accounting usage, plus the small body helpers both paths use.
 */
import type { ServerResponse } from 'node:http';
import { finished, type Readable } from 'node:stream';
import { SwitchyardError } from '../core/index.js';
import { sseErrorEvent } from '../openai/index.js';
import type { EndpointView } from '../router/index.js';
import type { Inbound } from './inbound.js';
import type { ProxyRuntime } from './ports.js';
import { SseRelay, parseUsage, type RelayObserver, type StreamUsage } from './relay.js';
import { classifyError, type RequestAbortSignal } from './upstream.js';

/**
 * Relay an SSE response whose headers were set with writeHead() but not sent yet.
 *
 * Writes are batched while upstream bytes are at hand, and released as soon as none are: the
 * headers go out at once when no body bytes have arrived yet (the client sees the stream open
 * before the first token), else together with the first bytes; after `[DONE]` the last bytes
 * wait for the response's terminating chunk (the upstream normally ends right away) so both
 * leave in one write — released on the next event-loop turn if the upstream does not end. The
 * bytes the client receives are the same; only the number of writes (syscalls) changes.
 */
export async function relayStream(rt: ProxyRuntime, inb: Inbound, ep: EndpointView, body: Readable, res: ServerResponse, signal: RequestAbortSignal): Promise<void> {
  const model = inb.model;
  const seen = new StreamObserver(rt, model, ep.id, inb.t0);
  const relay = new SseRelay(inb.stripUsage, seen);
  let status = '200';
  // Corked by us: writes are buffered until uncork() (or end(), which uncorks fully).
  res.cork();
  res.flushHeaders();
  let corked = true;
  let releaseScheduled = false;
  try {
    if (body.readableLength === 0) {
      res.uncork();
      corked = false;
    }
    const reader = new ChunkReader(body);
    for (;;) {
      const chunk = reader.read();
      if (chunk === undefined) {
        await reader.wait();
        continue;
      }
      if (chunk === null) break;
      const out = relay.push(chunk);
      if (out.length > 0) {
        if (!corked) {
          res.cork();
          corked = true;
        }
        if (!res.write(out)) {
          res.uncork();
          corked = false;
          await drain(res, signal);
        }
      }
      if (corked && body.readableLength === 0) {
        if (!relay.done) {
          res.uncork();
          corked = false;
        } else if (!releaseScheduled) {
          releaseScheduled = true;
          setImmediate(uncorkOpen, res);
        }
      }
    }
    body.destroy(); // as `for await` does when the stream ends
    const tail = relay.end();
    if (tail && tail.length > 0) res.write(tail);
    if (!relay.done && !seen.errorMessage) {
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
    if (seen.errorMessage) status = 'upstream_error_event';
    rt.metrics.requests.inc({ model, backend: ep.id, status });
    if (status !== '200') inb.outcome = status;
    inb.streamedTokens = seen.tokens;
    if (seen.lastUsage) {
      inb.usage = seen.lastUsage;
      recordUsage(rt, model, seen.lastUsage);
    }
  }
}

/** What the relay reports for one stream: TTFT and inter-token gaps to metrics, the rest kept. */
class StreamObserver implements RelayObserver {
  lastTokenAt = 0;
  /** Token events seen. */
  tokens = 0;
  lastUsage: StreamUsage | null = null;
  errorMessage: string | null = null;

  constructor(
    private readonly rt: ProxyRuntime,
    private readonly model: string,
    private readonly backend: string,
    private readonly t0: number,
  ) {}

  firstToken(at: number): void {
    this.tokens++;
    this.lastTokenAt = at;
    this.rt.metrics.ttft.observe({ model: this.model, backend: this.backend }, (at - this.t0) / 1000);
  }

  token(at: number): void {
    this.tokens++;
    this.rt.metrics.itl.observeFor(this.model, (at - this.lastTokenAt) / 1000);
    this.lastTokenAt = at;
  }

  usage(u: StreamUsage): void {
    this.lastUsage = u;
  }

  upstreamError(message: string): void {
    this.errorMessage = message;
  }
}

/**
 * `for await (const chunk of stream)` without the async generator: the same chunks, the same end
 * and the same errors (the stream's own, or a premature close, both through stream.finished()),
 * for one promise per wait instead of the generator's machinery per chunk (and less memory held
 * by every idle stream). The caller destroys the stream when it stops reading, as `for await`
 * does.
 */
export class ChunkReader {
  /** undefined: running; null: ended; else the error to throw. */
  error: Error | null | undefined = undefined;
  waiter: (() => void) | null = null;

  constructor(private readonly stream: Readable) {
    (stream as ChunkReaderTarget)[kReader] = this;
    stream.on('readable', wakeReader);
    finished(stream, { writable: false }, onReaderFinished);
  }

  /** The next chunk; null at the end; undefined when none is at hand yet (wait() then read again). */
  read(): Buffer | null | undefined {
    const chunk = this.stream.destroyed ? null : (this.stream.read() as Buffer | null);
    if (chunk !== null) return chunk;
    if (this.error) throw this.error;
    if (this.error === null) return null;
    return undefined;
  }

  wait(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

// Shared listeners that find their reader on the stream (no closures per stream).
const kReader = Symbol('switchyard.chunkReader');
type ChunkReaderTarget = Readable & { [kReader]?: ChunkReader };

function wakeReader(this: ChunkReaderTarget): void {
  const r = this[kReader];
  const w = r?.waiter;
  if (!r || !w) return;
  r.waiter = null;
  w();
}

function onReaderFinished(this: ChunkReaderTarget, err?: Error | null): void {
  const r = this[kReader];
  if (!r) return;
  r.error = err ?? null;
  wakeReader.call(this);
}

/** The upstream did not end right after [DONE]: send what is held (end() would have). */
function uncorkOpen(res: ServerResponse): void {
  while (!res.writableEnded && res.writableCorked > 0) res.uncork();
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

export function drain(res: ServerResponse, signal: RequestAbortSignal): Promise<void> {
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
