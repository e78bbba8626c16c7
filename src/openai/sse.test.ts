import { describe, expect, it } from 'vitest';
import { Rng, SwitchyardError } from '../core/index.js';
import { parseSse, readSseEvents, SSE_DONE, sseData, SseParser, type SseEvent } from './sse.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Only the semantic fields, for comparisons. */
const strip = (evs: readonly SseEvent[]): Array<Pick<SseEvent, 'data' | 'event' | 'id'>> => evs.map(({ data, event, id }) => ({ data, event, id }));

/** Feed `bytes` split at the given cut points; collect events (and check their byte ranges). */
function feedSplit(bytes: Buffer, cuts: number[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...p.feed(bytes.subarray(prev, c)));
    prev = c;
  }
  expect(p.position).toBe(bytes.length);
  return out;
}

// A stream shaped like vLLM's, with multi-byte UTF-8 (2-, 3- and 4-byte characters).
const STREAM = [
  sseData(JSON.stringify({ choices: [{ delta: { content: 'héllo' } }] })),
  ': keep-alive comment\n\n',
  sseData(JSON.stringify({ choices: [{ delta: { content: '日本語 🚀' } }] })),
  'event: custom\nid: 7\ndata: line1\ndata: line2\n\n',
  'data:no-space\n\n',
  'data\n\n',
  SSE_DONE,
].join('');
const EXPECTED = [
  { data: '{"choices":[{"delta":{"content":"héllo"}}]}', event: undefined, id: undefined },
  { data: '{"choices":[{"delta":{"content":"日本語 🚀"}}]}', event: undefined, id: undefined },
  { data: 'line1\nline2', event: 'custom', id: '7' },
  { data: 'no-space', event: undefined, id: undefined },
  { data: '', event: undefined, id: undefined },
  { data: '[DONE]', event: undefined, id: undefined },
];

describe('SseParser', () => {
  it('parses a whole stream in one chunk', () => {
    expect(strip(feedSplit(enc(STREAM), []))).toEqual(EXPECTED);
  });

  it('gives the same events when split at every byte position (incl. inside UTF-8 characters)', () => {
    const bytes = enc(STREAM);
    for (let cut = 0; cut <= bytes.length; cut++) expect(strip(feedSplit(bytes, [cut])), `cut at ${cut}`).toEqual(EXPECTED);
  });

  it('gives the same events fed one byte at a time, with CRLF and with bare CR line endings', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const bytes = enc(STREAM.replaceAll('\n', eol));
      const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
      expect(strip(feedSplit(bytes, cuts)), JSON.stringify(eol)).toEqual(EXPECTED);
      for (let cut = 0; cut <= bytes.length; cut++) expect(strip(feedSplit(bytes, [cut]))).toEqual(EXPECTED);
    }
  });

  it('gives the same events under random chunking (seeded)', () => {
    const rng = new Rng(42);
    const bytes = enc(STREAM.replaceAll('\n', '\r\n'));
    for (let trial = 0; trial < 300; trial++) {
      const cuts = new Set<number>();
      const k = 1 + rng.int(12);
      for (let j = 0; j < k; j++) cuts.add(rng.int(bytes.length + 1));
      expect(strip(feedSplit(bytes, [...cuts].sort((a, b) => a - b)))).toEqual(EXPECTED);
    }
  });

  it('reports byte ranges that tile the stream exactly (LF and CRLF)', () => {
    for (const eol of ['\n', '\r\n']) {
      const text = `data: a${eol}${eol}: c${eol}${eol}data: b${eol}${eol}`;
      const bytes = enc(text);
      const evs = feedSplit(bytes, [3, 9]);
      expect(evs.map((e) => bytes.subarray(e.start, e.end).toString())).toEqual([`data: a${eol}${eol}`, `data: b${eol}${eol}`]);
      // The comment block sits between the two events.
      expect(evs[1]!.start).toBe(evs[0]!.end + `: c${eol}${eol}`.length);
    }
  });

  it('lets a proxy cut a chunk exactly after an event', () => {
    const p = new SseParser();
    const chunk = enc('data: 1\n\ndata: [DONE]\n\ndata: junk after done\n\n');
    const evs = p.feed(chunk);
    const done = evs.find((e) => e.data === '[DONE]')!;
    const inChunk = done.end - (p.position - chunk.length);
    expect(chunk.subarray(0, inChunk).toString()).toBe('data: 1\n\ndata: [DONE]\n\n');
  });

  it('handles a leading BOM, retry, unknown fields and ids containing NUL', () => {
    const evs = parseSse('\uFEFFdata: x\nretry: 1500\nfoo: bar\nid: a\0b\n\n');
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ data: 'x', retry: 1500, id: undefined });
  });

  it('does not dispatch blocks without data, and only flush() yields an unterminated tail', () => {
    const p = new SseParser();
    expect(p.feed('event: ping\n\n: comment\n\ndata: tail')).toEqual([]);
    expect(p.pendingBytes).toBe('data: tail'.length);
    expect(strip(p.flush())).toEqual([{ data: 'tail', event: undefined, id: undefined }]);
    expect(p.flush()).toEqual([]);
  });

  it('accepts plain Uint8Array and string chunks', () => {
    const p = new SseParser();
    expect(p.feed(new Uint8Array(enc('data: a\n')))).toEqual([]);
    expect(strip(p.feed('\n'))).toEqual([{ data: 'a', event: undefined, id: undefined }]);
  });

  it('parses many events in one large chunk (speed is tracked by bench/micro)', () => {
    const n = 50_000;
    const text = sseData('{"x":1}').repeat(n);
    expect(new SseParser().feed(text)).toHaveLength(n);
  });

  it('refuses an event larger than maxEventBytes', () => {
    const p = new SseParser({ maxEventBytes: 64 });
    p.feed('data: ' + 'x'.repeat(50));
    expect(() => p.feed('y'.repeat(50))).toThrow(SwitchyardError);
  });

  it('readSseEvents reads an async byte stream', async () => {
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const bytes = enc(STREAM);
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    }
    const out: SseEvent[] = [];
    for await (const ev of readSseEvents(chunks())) out.push(ev);
    expect(strip(out)).toEqual(EXPECTED);
  });
});

/** A direct transcription of the WHATWG event-stream rules over a whole decoded string. */
function reference(text: string): Array<Pick<SseEvent, 'data' | 'event' | 'id'>> {
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r\n|\r|\n/);
  lines.pop(); // the unterminated tail
  const out: Array<Pick<SseEvent, 'data' | 'event' | 'id'>> = [];
  let data: string[] | undefined;
  let event: string | undefined;
  let id: string | undefined;
  for (const line of lines) {
    if (line === '') {
      if (data) out.push({ data: data.join('\n'), event, id });
      data = event = id = undefined;
      continue;
    }
    if (line.startsWith(':')) continue;
    const c = line.indexOf(':');
    const name = c === -1 ? line : line.slice(0, c);
    let v = c === -1 ? '' : line.slice(c + 1);
    if (v.startsWith(' ')) v = v.slice(1);
    if (name === 'data') (data ??= []).push(v);
    else if (name === 'event') event = v;
    else if (name === 'id' && !v.includes('\0')) id = v;
  }
  return out;
}

describe('SseParser vs a reference implementation (seeded random streams and chunkings)', () => {
  const ALPHABET = ['a', 'b', ' ', ':', 'é', '日', '🚀', '{', '"', '0'];
  const EOLS = ['\n', '\r\n', '\r'];
  it('agrees on 2,000 random streams', () => {
    const rng = new Rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
    const word = (): string => Array.from({ length: rng.int(8) }, () => pick(ALPHABET)).join('');
    for (let trial = 0; trial < 2_000; trial++) {
      let text = rng.int(20) === 0 ? '\uFEFF' : '';
      const nLines = rng.int(30);
      for (let i = 0; i < nLines; i++) {
        const kind = rng.int(10);
        const line = kind < 4 ? `data:${word()}` : kind === 4 ? 'data' : kind === 5 ? `event: ${word()}` : kind === 6 ? `id:${word()}` : kind === 7 ? `:${word()}` : kind === 8 ? `${word()}: ${word()}` : '';
        text += line + pick(EOLS);
      }
      const bytes = enc(text);
      const cuts = Array.from({ length: rng.int(6) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
      expect(strip(feedSplit(bytes, cuts)), JSON.stringify({ text, cuts })).toEqual(reference(text));
    }
  });
});

describe('sseData / SSE_DONE', () => {
  it('frames one data line per event', () => {
    expect(sseData('{"a":1}')).toBe('data: {"a":1}\n\n');
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
  });
});
