/**
 * A minimal, cheap reader for one OpenAI chat-completions SSE stream: counts content deltas
 * (one per generated token), and reads finish_reason, the final usage chunk and `[DONE]`.
 * It scans latin1 text with indexOf instead of JSON-parsing every chunk, so the load generator
 * spends its CPU on I/O, not on parsing; only the usage event is JSON-parsed.
 */
const DELTA = '"delta":{"content":';
const FINISH = '"finish_reason":"';
const USAGE = '"usage":{';
const DONE = 'data: [DONE]';

export class SseCounter {
  private carry = '';
  /** Content-delta events seen. */
  deltas = 0;
  completionTokens: number | null = null;
  finishReason: string | null = null;
  done = false;
  /** Malformed usage event etc. */
  protocolError: string | null = null;

  /** Feed raw body bytes; returns the number of content deltas completed by this chunk. */
  push(chunk: Buffer): number {
    const s = this.carry + chunk.toString('latin1');
    const last = s.lastIndexOf('\n\n');
    if (last < 0) {
      this.carry = s;
      return 0;
    }
    const complete = s.slice(0, last + 2);
    this.carry = s.slice(last + 2);
    let n = 0;
    for (let i = complete.indexOf(DELTA); i >= 0; i = complete.indexOf(DELTA, i + DELTA.length)) n++;
    this.deltas += n;
    if (this.finishReason === null) {
      const f = complete.indexOf(FINISH);
      if (f >= 0) this.finishReason = complete.slice(f + FINISH.length, complete.indexOf('"', f + FINISH.length));
    }
    if (this.completionTokens === null) {
      const u = complete.indexOf(USAGE);
      if (u >= 0) this.readUsage(complete, u);
    }
    if (!this.done && complete.includes(DONE)) this.done = true;
    return n;
  }

  /** True when the stream ended properly: finish_reason, usage and [DONE] all seen, nothing left over. */
  get complete(): boolean {
    return this.done && this.finishReason !== null && this.completionTokens !== null && this.carry.trim() === '';
  }

  private readUsage(text: string, at: number): void {
    const start = text.lastIndexOf('data: ', at);
    const end = text.indexOf('\n\n', at);
    try {
      const event = JSON.parse(text.slice(start + 6, end)) as { usage?: { completion_tokens?: unknown } };
      const ct = event.usage?.completion_tokens;
      if (typeof ct === 'number') this.completionTokens = ct;
      else this.protocolError = 'usage chunk without completion_tokens';
    } catch {
      this.protocolError = 'unparseable usage chunk';
    }
  }
}
