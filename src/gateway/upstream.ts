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

  request(url: string, path: string, opts: { method: 'POST' | 'GET'; headers: Record<string, string>; body?: string | Buffer; signal: AbortSignal }): Promise<Dispatcher.ResponseData> {
    return this.agent.request({
      origin: url,
      path,
      method: opts.method,
      headers: opts.headers,
      body: opts.body,
      signal: opts.signal,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
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
