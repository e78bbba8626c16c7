/**
 * Streaming relay: SSE bytes from the upstream go to the client untouched. The gateway looks
 * only at what it needs — the first token (TTFT), token pacing (ITL), the usage chunk, and error
 * events — and parses JSON only for those few events.
 *
 * When the gateway injected `stream_options.include_usage` (the client did not ask for usage but
 * the gateway needs it for accounting), the usage-only chunk (`"choices":[]` with `"usage":{...}`)
 * is cut out of the byte stream. Only in that mode are bytes of a not-yet-complete event held
 * back (so an event split across chunks can still be removed); otherwise every chunk is
 * forwarded as soon as it arrives.
 */
import { SseParser } from '../openai/index.js';

export interface StreamUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface RelayObserver {
  firstToken(atMs: number): void;
  token(atMs: number): void;
  usage(u: StreamUsage): void;
  upstreamError(message: string): void;
}

export class SseRelay {
  private readonly parser = new SseParser();
  private held: Buffer | null = null;
  private heldStart = 0;
  private sawFirstToken = false;
  done = false;

  constructor(private readonly stripUsage: boolean, private readonly observer: RelayObserver) {}

  /** Bytes to forward now for this upstream chunk (possibly the chunk itself, possibly empty). */
  push(chunk: Buffer): Buffer {
    const now = performance.now();
    const events = this.parser.feed(chunk);
    const chunkStart = this.parser.position - chunk.length;
    let cut: { start: number; end: number } | null = null;
    for (const ev of events) {
      const d = ev.data;
      if (d === '[DONE]') {
        this.done = true;
        continue;
      }
      if (!this.sawFirstToken) {
        if (hasToken(d)) {
          this.sawFirstToken = true;
          this.observer.firstToken(now);
        }
      } else if (d.includes('"content":"') || d.includes('"text":"')) {
        this.observer.token(now);
      }
      if (d.includes('"usage":{')) {
        const u = parseUsage(d);
        if (u) this.observer.usage(u);
        if (this.stripUsage && d.includes('"choices":[]')) cut = { start: ev.start, end: ev.end };
      } else if (d.startsWith('{"error"')) {
        this.observer.upstreamError(errorMessage(d));
      }
    }
    if (!this.stripUsage) return chunk;
    // Strip mode: forward up to the last complete event boundary, minus the cut event.
    let buf: Buffer;
    let bufStart: number;
    if (this.held) {
      buf = Buffer.concat([this.held, chunk]);
      bufStart = this.heldStart;
    } else {
      buf = chunk;
      bufStart = chunkStart;
    }
    const boundary = this.parser.position - this.parser.pendingBytes;
    const forwardEnd = boundary - bufStart;
    this.held = forwardEnd < buf.length ? buf.subarray(forwardEnd) : null;
    this.heldStart = boundary;
    if (!cut) return forwardEnd === buf.length ? buf : buf.subarray(0, forwardEnd);
    return Buffer.concat([buf.subarray(0, cut.start - bufStart), buf.subarray(cut.end - bufStart, forwardEnd)]);
  }

  /** Held bytes to flush when the upstream ends (an unterminated final event). */
  end(): Buffer | null {
    const h = this.held;
    this.held = null;
    return h;
  }
}

function hasToken(data: string): boolean {
  if (!data.startsWith('{')) return false;
  try {
    const obj = JSON.parse(data) as { choices?: { delta?: { content?: unknown; tool_calls?: unknown }; text?: unknown }[] };
    const c = obj.choices?.[0];
    if (!c) return false;
    if (typeof c.text === 'string') return c.text.length > 0;
    const content = c.delta?.content;
    return (typeof content === 'string' && content.length > 0) || Array.isArray(c.delta?.tool_calls);
  } catch {
    return false;
  }
}

export function parseUsage(data: string): StreamUsage | null {
  try {
    const obj = JSON.parse(data) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null } | null };
    const u = obj.usage;
    if (!u || typeof u.prompt_tokens !== 'number') return null;
    return {
      promptTokens: u.prompt_tokens,
      completionTokens: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0,
      cachedTokens: typeof u.prompt_tokens_details?.cached_tokens === 'number' ? u.prompt_tokens_details.cached_tokens : 0,
    };
  } catch {
    return null;
  }
}

function errorMessage(data: string): string {
  try {
    const obj = JSON.parse(data) as { error?: { message?: unknown } };
    return typeof obj.error?.message === 'string' ? obj.error.message : 'upstream error event';
  } catch {
    return 'upstream error event';
  }
}
