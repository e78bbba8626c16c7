/**
 * Upstream HTTP: one undici Agent (a keep-alive Pool per origin), timeouts per attempt, the
 * exchange with one backend as a dispatch handler (UpstreamResponse), the request's abort signal,
 * and the classification of failures into the kinds health tracking and retries care about.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import { SwitchyardError } from '../core/index.js';

export type FailureKind = 'connect' | 'reset' | 'timeout' | '5xx' | '429';

export interface UpstreamTimeouts {
  connect: number;
  firstByte: number;
  idle: number;
}

export class Upstreams {
  readonly agent: Agent;
  constructor(timeouts: UpstreamTimeouts) {
    this.agent = new Agent({
      connect: { timeout: timeouts.connect },
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
      headersTimeout: timeouts.firstByte,
      bodyTimeout: timeouts.idle,
    });
  }

  /** POST `body` to `origin + path`; `handler` receives the response (errors included: never throws). */
  post(origin: string, path: string, headers: Record<string, string>, body: Buffer | string, handler: UpstreamResponse): void {
    this.agent.dispatch({ origin, path, method: 'POST', headers, body }, handler);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Where a committed response's body goes, chunk by chunk (the stream relay). */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

const WAITING = 0;
const STARTED = 1;
const ENDED = 2;
const FAILED = 3;
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});

/**
 * One exchange with a backend, as an undici dispatch handler — no Readable, no async iterator,
 * no promise per chunk, which is most of what an open stream used to cost beyond its sockets.
 * The caller awaits the status and headers (started()), then either collects the whole body
 * (collect()) or hands it to a sink (pipe()) that gets every chunk as it arrives; chunks that
 * arrived in between are kept and handed over first. abort() cancels the exchange at any point
 * (before undici has a connection for it too: it is aborted as soon as it gets one).
 */
export class UpstreamResponse implements Dispatcher.DispatchHandler {
  statusCode = 0;
  /** The response headers (until the caller drops them with releaseHeaders()). */
  headers: IncomingHttpHeaders = NO_HEADERS;
  private state = WAITING;
  private error: Error | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private abortReason: Error | null = null;
  private chunks: Buffer[] | null = null;
  private size = 0;
  private limit = Infinity;
  private sink: BodySink | null = null;
  private resolve: ((value: Buffer | undefined) => void) | null = null;
  private reject: ((e: Error) => void) | null = null;
  /** collect() is waiting for the end (else started() for the headers). */
  private collecting = false;

  /** Resolves once the status and headers arrived; rejects with the exchange's error. */
  started(): Promise<unknown> {
    if (this.state === FAILED) return Promise.reject(this.error!);
    if (this.state !== WAITING) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The whole body (after started()); rejects with `upstream_error` past `limit` bytes, or with the exchange's error. */
  collect(limit: number): Promise<Buffer> {
    this.limit = limit;
    if (this.state === FAILED) return Promise.reject(this.error!);
    if (this.size > limit) {
      this.abort(tooLarge(limit));
      return Promise.reject(this.error!);
    }
    if (this.state === ENDED) return Promise.resolve(this.body());
    this.collecting = true;
    return new Promise((resolve, reject) => {
      this.resolve = resolve as (value: Buffer | undefined) => void;
      this.reject = reject;
    });
  }

  /** Send the body to `sink` from now on (after started()): what arrived so far first, then the end or the error. */
  pipe(sink: BodySink): void {
    this.sink = sink;
    if (this.state === FAILED) {
      sink.error(this.error!);
      return;
    }
    const chunks = this.chunks;
    this.chunks = null;
    if (chunks !== null) {
      for (const c of chunks) {
        sink.data(c);
        if (this.state === FAILED) return; // the sink heard of it from fail()
      }
    }
    if (this.state === ENDED) sink.end();
  }

  /** Bytes of body received and not yet collected or piped. */
  get buffered(): number {
    return this.chunks === null ? 0 : this.size;
  }

  releaseHeaders(): void {
    this.headers = NO_HEADERS;
  }

  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  abort(reason: Error): void {
    if (this.state === ENDED || this.state === FAILED) return;
    if (this.controller !== null) {
      this.controller.abort(reason); // undici calls onResponseError at once
      if (this.state !== FAILED) this.fail(reason);
    } else {
      this.abortReason = reason;
      this.fail(reason);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== null) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.state !== WAITING) return; // 1xx: informational
    controller.rawHeaders = null; // parsed into `headers`; do not hold both for a stream's lifetime
    this.statusCode = statusCode;
    this.headers = headers;
    this.state = STARTED;
    if (!this.collecting) this.settle(undefined);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.state !== STARTED) return;
    if (this.sink !== null) {
      this.sink.data(chunk);
      return;
    }
    (this.chunks ??= []).push(chunk);
    this.size += chunk.length;
    if (this.size > this.limit) this.abort(tooLarge(this.limit));
  }

  onResponseEnd(): void {
    if (this.state !== STARTED) return;
    this.state = ENDED;
    if (this.sink !== null) this.sink.end();
    else if (this.collecting) this.settle(this.body());
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.state === ENDED || this.state === FAILED) return;
    this.fail(err);
  }

  private fail(err: Error): void {
    this.state = FAILED;
    this.error = err;
    this.chunks = null;
    const sink = this.sink;
    const reject = this.reject;
    this.resolve = this.reject = null;
    if (sink !== null) sink.error(err);
    else reject?.(err);
  }

  private settle(value: Buffer | undefined): void {
    const resolve = this.resolve;
    this.resolve = this.reject = null;
    this.collecting = false;
    resolve?.(value);
  }

  private body(): Buffer {
    const chunks = this.chunks;
    this.chunks = null;
    if (chunks === null) return EMPTY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size);
  }
}

const EMPTY = Buffer.alloc(0);

function tooLarge(limit: number): SwitchyardError {
  return new SwitchyardError('upstream_error', `upstream response larger than ${limit} bytes`);
}

/** What the request path reads from its abort signal (an AbortSignal has all of it). */
export interface RequestAbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The abort signal of one proxied request: the part of AbortController + AbortSignal the request
 * path uses (the retry back-off, the fair queue), without EventTarget's per-listener bookkeeping.
 * The upstream exchange in progress is aborted through `upstream` (no listener per attempt).
 * Aborts once; listeners run in the order added, each at most once; a listener added after the
 * abort never runs (as with AbortSignal); a listener that throws is reported as an uncaught
 * exception without stopping the others (as EventTarget does).
 */
export class RequestSignal implements RequestAbortSignal {
  aborted = false;
  reason: unknown = undefined;
  /** The exchange with a backend in progress, if any: aborted with the signal. */
  upstream: UpstreamResponse | null = null;
  private listeners: (() => void)[] | null = null;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const l = this.listeners;
    if (l === null) return;
    const i = l.indexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.upstream?.abort(reason instanceof Error ? reason : new Error(String(reason)));
    const l = this.listeners;
    this.listeners = null;
    if (l === null) return;
    for (const fn of l) {
      try {
        fn();
      } catch (e) {
        process.nextTick(() => {
          throw e;
        });
      }
    }
  }
}

/** Map an undici / socket error to a failure kind. Aborts by our own signal are not failures. */
export function classifyError(e: unknown): { kind: FailureKind; message: string } {
  const err = e as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.message ?? String(e);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return { kind: 'connect', message: `connection refused (${code})` };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { kind: 'connect', message: 'connect timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { kind: 'timeout', message: 'no response before the first-byte timeout' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { kind: 'timeout', message: 'upstream went silent (idle timeout between chunks)' };
    default:
      return { kind: 'reset', message: code ? `${code}: ${message}` : message };
  }
}

export function isAbort(e: unknown): boolean {
  const err = e as { name?: string; code?: string };
  return err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED' || err.code === 'ABORT_ERR';
}
