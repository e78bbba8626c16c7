/**
 * Closed-loop streaming load: N virtual users, each with exactly one streaming chat request in
 * flight; when it ends the user immediately sends the next one. Requests go through one undici
 * Pool (one connection per user, no pipelining) via the raw dispatch API, so the client spends as
 * little CPU as possible per SSE chunk.
 */
import { Pool, type Dispatcher } from 'undici';
import { SseCounter } from './sse.js';

export interface RequestRecord {
  startMs: number;
  /** performance.now() of the first content delta; 0 if none. */
  firstTokenMs: number;
  endMs: number;
  deltas: number;
  completionTokens: number | null;
  maxTokens: number;
  /** null = a complete, well-formed 200 stream. */
  error: string | null;
}

/** Latency observed within a measurement window (see ClosedLoopLoad.beginWindow). */
export interface WindowLatency {
  /** TTFT of every request whose first token arrived within the window. */
  ttftMs: number[];
  /** Per stream (finished or not), mean gap between the deltas it received within the window. */
  gapMs: number[];
}

/** Per-request window state: first in-window arrival, last arrival, deltas after the first. */
interface Gaps {
  first: number;
  last: number;
  after: number;
}

export interface LoadOptions {
  url: string;
  model: string;
  concurrency: number;
  maxTokens: number;
}

export class ClosedLoopLoad {
  /** Every finished request (success or failure), excluding those cut off by stop(). */
  readonly records: RequestRecord[] = [];
  /** Requests dispatched and not finished. */
  inFlight = 0;
  /** Requests that got 200 headers and have not finished: open SSE streams. */
  openStreams = 0;
  /** Content deltas received so far, over all requests. */
  deltasTotal = 0;
  /** Users whose first request has produced its first token; when it reaches N the ramp is over. */
  rampedUsers = 0;
  /** performance.now() when every user had its first token / when N streams were first open at once. */
  allRampedAt = 0;
  allOpenAt = 0;
  startedAt = 0;
  private stopping = false;
  private window: WindowLatency | null = null;
  private readonly active = new Set<Gaps>();
  private seq = 0;
  private readonly pool: Pool;
  private readonly loops: Promise<void>[] = [];
  private readonly salt = Math.random().toString(36).slice(2, 8);

  constructor(private readonly o: LoadOptions) {
    this.pool = new Pool(o.url, {
      connections: o.concurrency,
      pipelining: 1,
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
      keepAliveTimeout: 60_000,
      connect: { timeout: 30_000 },
    });
  }

  /**
   * Open the N keep-alive connections up front (N concurrent GET /health), so that the streams
   * start on established connections. A libuv event loop accepts one connection per iteration, so
   * connections arriving at a busy worker trickle in; a gateway holds persistent connections, and
   * this bench measures streaming, not connection setup. Resolves with the number of 200s.
   */
  async preconnect(): Promise<number> {
    const results = await Promise.allSettled(
      Array.from({ length: this.o.concurrency }, async () => {
        const res = await this.pool.request({ path: '/health', method: 'GET' });
        await res.body.dump();
        return res.statusCode;
      }),
    );
    return results.filter((r) => r.status === 'fulfilled' && r.value === 200).length;
  }

  /**
   * Start the N users. Each user's first request asks for a random 1..maxTokens tokens so that
   * the users desynchronise (otherwise all N streams start, decode and finish in lockstep and the
   * engine alternates between one big prefill and N finishes); every later request asks for
   * exactly maxTokens.
   */
  start(): void {
    this.startedAt = performance.now();
    for (let i = 0; i < this.o.concurrency; i++) this.loops.push(this.user());
  }

  /** Start collecting TTFT and inter-token gaps (unbiased by request length: in-flight streams count too). */
  beginWindow(): void {
    this.window = { ttftMs: [], gapMs: [] };
    for (const g of this.active) g.first = 0;
  }

  endWindow(): WindowLatency {
    const w = this.window ?? { ttftMs: [], gapMs: [] };
    this.window = null;
    for (const g of this.active) this.pushGap(w, g);
    return w;
  }

  private pushGap(w: WindowLatency, g: Gaps): void {
    if (g.first > 0 && g.after > 0) w.gapMs.push((g.last - g.first) / g.after);
  }

  /** Stop sending, cut off the requests in flight (not counted as errors), close the pool. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.pool.destroy();
    await Promise.all(this.loops);
  }

  private async user(): Promise<void> {
    let maxTokens = 1 + Math.floor(Math.random() * this.o.maxTokens);
    let failures = 0;
    let first = true;
    while (!this.stopping) {
      const rec = await this.one(maxTokens, first);
      maxTokens = this.o.maxTokens;
      first = false;
      if (this.stopping) return;
      this.records.push(rec);
      failures = rec.error === null ? 0 : failures + 1;
      // Back off a little on repeated failures so a dead worker does not turn into a busy loop.
      if (failures > 2) await new Promise((r) => setTimeout(r, Math.min(1000, 10 * failures)));
    }
  }

  private body(maxTokens: number): string {
    const n = this.seq++;
    // A distinct opening per request so the prefix cache cannot serve the prompt.
    const content = `Request ${this.salt}-${n}: write a few sentences about item ${(n * 7919) % 100_003} in a list of things to remember.`;
    return JSON.stringify({
      model: this.o.model,
      messages: [{ role: 'user', content }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: maxTokens,
      ignore_eos: true,
    });
  }

  private rampedOne(): void {
    if (++this.rampedUsers === this.o.concurrency) this.allRampedAt = performance.now();
  }

  private one(maxTokens: number, first: boolean): Promise<RequestRecord> {
    const rec: RequestRecord = { startMs: performance.now(), firstTokenMs: 0, endMs: 0, deltas: 0, completionTokens: null, maxTokens, error: null };
    const sse = new SseCounter();
    let status = 0;
    let errorBody = '';
    const gaps: Gaps = { first: 0, last: 0, after: 0 };
    this.active.add(gaps);
    this.inFlight++;
    return new Promise<RequestRecord>((resolve) => {
      const finish = (err: Error | null): void => {
        this.inFlight--;
        if (status === 200) this.openStreams--;
        this.active.delete(gaps);
        if (this.window) this.pushGap(this.window, gaps);
        rec.endMs = performance.now();
        rec.deltas = sse.deltas;
        rec.completionTokens = sse.completionTokens;
        if (err) rec.error = this.stopping ? 'aborted' : `network: ${(err as NodeJS.ErrnoException).code ?? err.name}`;
        else if (status !== 200) rec.error = `http ${status}: ${errorBody.slice(0, 120)}`;
        else if (sse.protocolError) rec.error = `protocol: ${sse.protocolError}`;
        else if (!sse.complete) rec.error = 'truncated stream';
        resolve(rec);
      };
      const handler: Dispatcher.DispatchHandler = {
        // undici only treats a handler as the new-style API when onRequestStart is present.
        onRequestStart: () => undefined,
        onResponseStart: (_c, statusCode) => {
          status = statusCode;
          if (status === 200 && ++this.openStreams === this.o.concurrency && this.allOpenAt === 0) this.allOpenAt = performance.now();
        },
        onResponseData: (_c, chunk) => {
          if (status !== 200) {
            if (errorBody.length < 1000) errorBody += chunk.toString('utf8');
            return;
          }
          const n = sse.push(chunk);
          if (n > 0) {
            const t = performance.now();
            if (rec.firstTokenMs === 0) {
              rec.firstTokenMs = t;
              if (first) this.rampedOne();
              this.window?.ttftMs.push(t - rec.startMs);
            }
            this.deltasTotal += n;
            if (this.window) {
              if (gaps.first === 0) {
                gaps.first = t;
                gaps.after = 0;
              } else {
                gaps.after += n;
              }
              gaps.last = t;
            }
          }
        },
        onResponseEnd: () => finish(null),
        onResponseError: (_c, err) => finish(err),
      };
      try {
        this.pool.dispatch({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: this.body(maxTokens) }, handler);
      } catch (e) {
        finish(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }
}
