import { describe, expect, it } from 'vitest';
import { SseParser } from '../openai/index.js';
import { mayHaveToken, parseUsage, SseRelay, type RelayObserver, type StreamUsage } from './relay.js';
import { eventData, singleDataValue, SseScanner, type SseSink } from './sse-scan.js';

/** Every event the scanner hands over, with its data as the openai SseParser would report it. */
function scan(chunks: Buffer[]): { start: number; end: number; data: string | undefined; single: string | null }[] {
  const out: { start: number; end: number; data: string | undefined; single: string | null }[] = [];
  const range = { start: 0, end: 0 };
  const sink: SseSink = {
    event(src, from, to, startAbs, endAbs, lineEnd) {
      if (lineEnd >= 0) {
        // The hint: exactly one line ended by LF, then the blank line, no CR.
        expect(to).toBe(lineEnd + 2);
        expect([src[lineEnd], src[lineEnd + 1]]).toEqual([0x0a, 0x0a]);
        expect(src.subarray(from, lineEnd).includes(0x0a) || src.subarray(from, to).includes(0x0d)).toBe(false);
        expect(lineEnd).toBeGreaterThan(from);
        // Without the hint, the same answer.
        const a = singleDataValue(src, from, to, lineEnd, { start: 0, end: 0 });
        const b = singleDataValue(src, from, to, -1, { start: 0, end: 0 });
        expect(a).toEqual(b);
      }
      const r = singleDataValue(src, from, to, lineEnd, range);
      out.push({ start: startAbs, end: endAbs, data: eventData(src, from, to, startAbs), single: r ? src.toString('utf8', r.start, r.end) : null });
    },
  };
  const s = new SseScanner(sink);
  for (const c of chunks) s.feed(c);
  return out;
}

/** The openai SseParser's events (the reference), as [start, end, data]. */
function reference(chunks: Buffer[]): [number, number, string][] {
  const p = new SseParser();
  return chunks.flatMap((c) => p.feed(c).map((e): [number, number, string] => [e.start, e.end, e.data]));
}

/** A small deterministic PRNG (mulberry32): integers in [0, n). */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0;
  };
}

function splitsOf(b: Buffer): Buffer[][] {
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push(Array.from({ length: b.length }, (_, i) => b.subarray(i, i + 1)));
  return out;
}

const SHAPES = [
  'data: {"a":1}\n\n',
  'data:{"a":1}\n\n',
  'data: {"a":1}\r\n\r\n',
  'data: {"a":1}\r\rdata: [DONE]\r\r',
  'data: {"a":1}\n\r\n',
  'data: line1\ndata: line2\n\n',
  'event: message\ndata: {"x":"é"}\nid: 7\n\n',
  ': keepalive\n\n',
  ': comment\ndata: x\n\n',
  '\ufeffdata: bom\n\n',
  'data\n\n',
  'data:\n\n',
  'retry: 10\n\n',
  '\n\n\ndata: after blank lines\n\n',
  'data:  two spaces\n\n',
  'data: 日本語 ünïcödé 🙂\n\n',
];

describe('SseScanner', () => {
  it('finds the same events, byte ranges and data as the openai SseParser, at every split point', () => {
    for (const shape of SHAPES) {
      const text = shape + 'data: {"choices":[{"delta":{"content":"ö"}}]}\n\n' + shape;
      for (const chunks of splitsOf(Buffer.from(text))) {
        const got = scan(chunks)
          .filter((e) => e.data !== undefined)
          .map((e) => [e.start, e.end, e.data]);
        expect(got, `${JSON.stringify(text)} in ${chunks.length} chunks`).toEqual(reference(chunks));
      }
    }
  });

  it('reports the value of a single data line without decoding, and null for every other shape', () => {
    const single = (s: string) => scan([Buffer.from(s)])[0]!.single;
    expect(single('data: {"a":1}\n\n')).toBe('{"a":1}');
    expect(single('data:{"a":1}\n\n')).toBe('{"a":1}');
    expect(single('data: {"a":1}\r\n\r\n')).toBe('{"a":1}');
    expect(single('data: x\r\r')).toBe('x');
    expect(single('data: x\n\r\n')).toBe('x');
    expect(single('data:\n\n')).toBe('');
    expect(single('data: a\ndata: b\n\n')).toBeNull();
    expect(single('event: e\ndata: a\n\n')).toBeNull();
    expect(single('data: a\nid: 1\n\n')).toBeNull();
    expect(single(': c\n\n')).toBeNull();
    expect(single('\ufeffdata: a\n\n')).toBeNull();
    expect(single('data\n\n')).toBeNull();
    expect(single('dat: a\n\n')).toBeNull();
  });

  it('keeps a multi-byte UTF-8 character split across chunks intact', () => {
    const b = Buffer.from('data: {"t":"🙂é"}\n\n');
    const at = b.indexOf(0xf0) + 2; // inside the 4-byte emoji
    const evs = scan([b.subarray(0, at), b.subarray(at)]);
    expect(evs.map((e) => e.data)).toEqual(['{"t":"🙂é"}']);
    expect(evs[0]!.single).toBe('{"t":"🙂é"}');
  });

  it('handles a CRLF pair split across chunks, in and between events', () => {
    const text = 'data: a\r\n\r\ndata: b\r\n\r\n';
    for (let i = 1; i < text.length; i++) {
      const b = Buffer.from(text);
      const evs = scan([b.subarray(0, i), b.subarray(i)]).filter((e) => e.data !== undefined);
      expect(evs.map((e) => [e.start, e.end, e.data])).toEqual(reference([b.subarray(0, i), b.subarray(i)]));
    }
  });

  it('throws upstream_error for an event larger than the limit, as the SseParser does', () => {
    const s = new SseScanner({ event: () => undefined }, 16);
    s.feed(Buffer.from('data: 0123456'));
    expect(() => s.feed(Buffer.from('789abcdefghij'))).toThrow(/SSE event larger than 16 bytes/);
  });
});

// ---------------------------------------------------------------------------------------------
// SseRelay against a reference: the previous implementation (openai SseParser + string checks).

class ReferenceRelay {
  private readonly parser = new SseParser();
  private held: Buffer | null = null;
  private heldStart = 0;
  private sawFirstToken = false;
  done = false;
  constructor(private readonly stripUsage: boolean, private readonly observer: RelayObserver) {}
  push(chunk: Buffer): Buffer {
    const events = this.parser.feed(chunk);
    const chunkStart = this.parser.position - chunk.length;
    const cuts: { start: number; end: number }[] = [];
    for (const ev of events) {
      const d = ev.data;
      if (d === '[DONE]') {
        this.done = true;
        continue;
      }
      if (!this.sawFirstToken) {
        if (refHasToken(d)) {
          this.sawFirstToken = true;
          this.observer.firstToken(0);
        }
      } else if (d.includes('"content":"') || d.includes('"text":"')) this.observer.token(0);
      if (d.includes('"usage":{')) {
        const u = parseUsage(d);
        if (u) this.observer.usage(u);
        if (this.stripUsage && d.includes('"choices":[]')) cuts.push({ start: ev.start, end: ev.end });
      } else if (d.startsWith('{"error"')) {
        let m = 'upstream error event';
        try {
          const o = JSON.parse(d) as { error?: { message?: unknown } };
          if (typeof o.error?.message === 'string') m = o.error.message;
        } catch {
          // keep the default
        }
        this.observer.upstreamError(m);
      }
    }
    if (!this.stripUsage) return chunk;
    const buf = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    const bufStart = this.held ? this.heldStart : chunkStart;
    const boundary = this.parser.position - this.parser.pendingBytes;
    const forwardEnd = boundary - bufStart;
    this.held = forwardEnd < buf.length ? buf.subarray(forwardEnd) : null;
    this.heldStart = boundary;
    const parts: Buffer[] = [];
    let p = 0;
    for (const c of cuts) {
      parts.push(buf.subarray(p, c.start - bufStart));
      p = c.end - bufStart;
    }
    parts.push(buf.subarray(p, forwardEnd));
    return Buffer.concat(parts);
  }
  end(): Buffer | null {
    const h = this.held;
    this.held = null;
    return h;
  }
}

function refHasToken(data: string): boolean {
  if (!data.startsWith('{')) return false;
  try {
    const c = (JSON.parse(data) as { choices?: { delta?: { content?: unknown; tool_calls?: unknown }; text?: unknown }[] }).choices?.[0];
    if (!c) return false;
    if (typeof c.text === 'string') return c.text.length > 0;
    return (typeof c.delta?.content === 'string' && c.delta.content.length > 0) || Array.isArray(c.delta?.tool_calls);
  } catch {
    return false;
  }
}

interface Trace {
  out: string;
  log: string[];
  done: boolean;
}

function drive(relay: { push(c: Buffer): Buffer; end(): Buffer | null; done: boolean }, chunks: Buffer[], log: string[]): Trace {
  const out: Buffer[] = [];
  for (const c of chunks) {
    out.push(relay.push(c));
    log.push('|');
  }
  const tail = relay.end();
  if (tail) out.push(tail);
  return { out: Buffer.concat(out).toString('latin1'), log, done: relay.done };
}

function observer(log: string[]): RelayObserver {
  return {
    firstToken: () => log.push('first'),
    token: () => log.push('tok'),
    usage: (u: StreamUsage) => log.push(`usage ${JSON.stringify(u)}`),
    upstreamError: (m) => log.push(`error ${m}`),
  };
}

function compare(text: string, chunks: Buffer[]): void {
  for (const strip of [false, true]) {
    const a: string[] = [];
    const b: string[] = [];
    const got = drive(new SseRelay(strip, observer(a)), chunks, a);
    const want = drive(new ReferenceRelay(strip, observer(b)), chunks, b);
    expect(got, `strip=${strip} ${JSON.stringify(text)} in ${chunks.length} chunks`).toEqual(want);
  }
}

const chunk = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const ROLE = chunk({ id: 'c', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
const TOK = (t: string) => chunk({ id: 'c', choices: [{ index: 0, delta: { content: t }, finish_reason: null }] });
const TEXT_TOK = (t: string) => chunk({ id: 'c', choices: [{ index: 0, text: t, finish_reason: null }] });
const TOOL = chunk({ id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"content":"x"}' } }] } }] });
const FIN = chunk({ id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
const USAGE_ONLY = chunk({ id: 'c', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } } });
const CONT_USAGE = chunk({ id: 'c', choices: [{ index: 0, delta: { content: 'u' } }], usage: { prompt_tokens: 5, completion_tokens: 1 } });
const NULL_USAGE = chunk({ id: 'c', choices: [{ index: 0, delta: { content: 'n' } }], usage: null });
const ERR = chunk({ error: { message: 'engine overloaded', type: 'server_error' } });
const ERR_NO_MSG = 'data: {"error": "plain"}\n\n';
const DONE_EV = 'data: [DONE]\n\n';

const STREAMS: string[] = [
  ROLE + TOK('Hello') + TOK(' wörld 🙂') + FIN + USAGE_ONLY + DONE_EV,
  ROLE + TOK('a') + CONT_USAGE + NULL_USAGE + FIN + DONE_EV,
  TEXT_TOK('') + TEXT_TOK('once') + TEXT_TOK(' upon') + USAGE_ONLY + DONE_EV,
  ROLE + TOOL + TOK('after tool') + ERR + DONE_EV,
  ROLE + ERR_NO_MSG + TOK('x') + 'data: {"error":broken json\n\n' + DONE_EV,
  ROLE + TOK('crlf').replace(/\n/g, '\r\n') + USAGE_ONLY.replace(/\n/g, '\r\n') + 'data: [DONE]\r\n\r\n',
  ROLE + ': keepalive\n\n' + 'event: delta\n' + TOK('named event') + 'data: {"choices":[{"delta":\ndata: {"content":"multi-line"}}]}\n\n' + DONE_EV,
  '\ufeff' + TOK('bom first') + TOK('second') + DONE_EV,
  TOK('x') + 'data:{"choices":[],"usage":{"prompt_tokens":3}}\n\n' + USAGE_ONLY + DONE_EV, // two usage-only events
  ROLE + TOK('no done at the end') + 'data: {"choices":[{"delta":{"content":"tail"}}]}',
  ROLE + TOK('"content":"quoted" inside') + chunk({ choices: [{ delta: { content: 'has "usage":{ in text' } }] }) + DONE_EV,
  'data: [DONE]\n\n' + TOK('after done'),
  '\n\n' + ROLE + '\n\n\n' + TOK('gaps') + DONE_EV,
];

describe('SseRelay (byte classification) against the previous implementation', () => {
  it('forwards the same bytes and reports the same observations, for every stream shape at every split point', () => {
    for (const s of STREAMS) {
      for (const chunks of splitsOf(Buffer.from(s))) compare(s, chunks);
    }
  });

  it('matches on random chunkings of the streams concatenated', () => {
    const rnd = rng(42);
    const all = Buffer.from(STREAMS.slice(0, 4).join(''));
    for (let round = 0; round < 300; round++) {
      const chunks: Buffer[] = [];
      for (let p = 0; p < all.length; ) {
        const n = 1 + rnd(round % 2 === 0 ? 40 : 600);
        chunks.push(all.subarray(p, p + n));
        p += n;
      }
      compare('random', chunks);
    }
  });

  it('cuts every usage-only event in strip mode and forwards continuous-usage chunks', () => {
    const log: string[] = [];
    const t = drive(new SseRelay(true, observer(log)), [Buffer.from(ROLE + TOK('a') + CONT_USAGE + FIN + USAGE_ONLY + DONE_EV)], log);
    expect(t.out).toBe(Buffer.from(ROLE + TOK('a') + CONT_USAGE + FIN + DONE_EV).toString('latin1'));
    expect(log.filter((l) => l.startsWith('usage'))).toHaveLength(2);
    expect(t.done).toBe(true);
  });

  it('reports an error event whose message is missing with the default text', () => {
    const log: string[] = [];
    drive(new SseRelay(false, observer(log)), [Buffer.from(ROLE + TOK('x') + ERR_NO_MSG + ERR)], log);
    expect(log.filter((l) => l.startsWith('error'))).toEqual(['error upstream error event', 'error engine overloaded']);
  });
});

describe('mayHaveToken (skips parsing chunks that cannot carry the first token)', () => {
  it('is false for the role chunk and true for token, text and tool-call chunks', () => {
    expect(mayHaveToken('{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}')).toBe(false);
    expect(mayHaveToken('{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}')).toBe(false);
    expect(mayHaveToken('{"choices":[{"delta":{"content":"Hi"}}]}')).toBe(true);
    expect(mayHaveToken('{"choices":[{"text":"Hi"}]}')).toBe(true);
    expect(mayHaveToken('{"choices":[{"delta":{"tool_calls":[]}}]}')).toBe(true);
    expect(mayHaveToken('{"choices":[{"delta":{"\\u0063ontent":"Hi"}}]}')).toBe(true);
  });

  it('is never false when the reference hasToken is true (generated chunks)', () => {
    const r = rng(3);
    const values: unknown[] = ['', 'x', '"', 'say "content": "x"', '\\', null, 0, [], {}, ['a'], { content: 'nested' }];
    const keys = ['content', 'text', 'tool_calls', 'role', 'refusal', 'reasoning_content'];
    let positives = 0;
    for (let i = 0; i < 20000; i++) {
      const delta: Record<string, unknown> = {};
      for (let k = r(4); k > 0; k--) delta[keys[r(keys.length)]!] = values[r(values.length)];
      const choice: Record<string, unknown> = r(3) === 0 ? { index: 0, text: values[r(values.length)] } : { index: 0, delta };
      const obj = { id: 'c', choices: r(8) === 0 ? [] : [choice, ...(r(4) === 0 ? [{ delta: { content: 'second' } }] : [])] };
      let text = r(3) === 0 ? JSON.stringify(obj, null, r(2) === 0 ? 2 : '\t') : JSON.stringify(obj);
      if (r(10) === 0) text = text.replace(/"content"/g, '"\\u0063ontent"');
      if (r(20) === 0) text = text.slice(0, r(text.length));
      if (refHasToken(text)) {
        positives++;
        expect(mayHaveToken(text), text).toBe(true);
      }
    }
    expect(positives).toBeGreaterThan(1000);
  });
});
