/**
 * Read a Server-Sent Events body from a fetch Response, independently of src/openai/sse.ts:
 * each event's `data:` payload (multi-line data joined with '\n') with the real time
 * (performance.now()) at which the network read that completed it arrived. LF line endings
 * only (what every server under test sends).
 */
export interface SseEvent {
  data: string;
  /** performance.now() when the chunk that completed this event was read. */
  at: number;
}

export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  if (!res.body) throw new Error('response has no body');
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    const at = performance.now();
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''));
      if (data.length > 0) yield { data: data.join('\n'), at };
    }
  }
  buf += decoder.decode();
  if (buf.trim() !== '') throw new Error(`stream ended inside an event: ${JSON.stringify(buf.slice(0, 200))}`);
}

/** All events of a stream, in order. */
export async function collectSse(res: Response): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of sseEvents(res)) out.push(e);
  return out;
}
