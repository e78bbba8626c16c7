/**
 * Upstream HTTP: one undici Agent (a keep-alive Pool per origin), timeouts per attempt, and the
 * classification of failures into the kinds health tracking and retries care about.
 */
import { Agent, type Dispatcher } from 'undici';

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

  request(url: string, path: string, opts: { method: 'POST' | 'GET'; headers: Record<string, string>; body?: string | Buffer; signal: RequestAbortSignal }): Promise<Dispatcher.ResponseData> {
    return this.agent.request({
      origin: url,
      path,
      method: opts.method,
      headers: opts.headers,
      body: opts.body,
      // undici takes any EventTarget-like signal (it reads aborted/reason and adds one listener).
      signal: opts.signal,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
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
 * path uses (undici, the retry back-off, the relay), without EventTarget's per-listener
 * bookkeeping — created once per request, it was a visible share of the request's CPU. Aborts
 * once; listeners run in the order added, each at most once; a listener added after the abort
 * never runs (as with AbortSignal); a listener that throws is reported as an uncaught exception
 * without stopping the others (as EventTarget does).
 */
export class RequestSignal implements RequestAbortSignal {
  aborted = false;
  reason: unknown = undefined;
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
