import { describe, expect, it } from 'vitest';
import { lastIndexIn, nonEmptyAfter, parseUsage, SseRelay, type StreamUsage } from './relay.js';

const role = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n';
const tok = (t: string) => `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}},"logprobs":null,"finish_reason":null}]}\n\n`;
const fin = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n';
const usage = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8}}}\n\n';
const done = 'data: [DONE]\n\n';
const stream = role + tok(' héllo') + tok(' wörld') + tok('!') + fin + usage + done;

function run(strip: boolean, chunks: Buffer[]) {
  const seen = { first: 0, tokens: 0, usage: null as StreamUsage | null, errors: [] as string[] };
  const relay = new SseRelay(strip, {
    firstToken: () => seen.first++,
    token: () => seen.tokens++,
    usage: (u) => (seen.usage = u),
    upstreamError: (m) => seen.errors.push(m),
  });
  const out: Buffer[] = [];
  for (const c of chunks) out.push(relay.push(c));
  const tail = relay.end();
  if (tail) out.push(tail);
  return { text: Buffer.concat(out).toString('utf8'), seen, done: relay.done };
}

function splits(s: string): Buffer[][] {
  const b = Buffer.from(s);
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i += 7) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push(Array.from({ length: b.length }, (_, i) => b.subarray(i, i + 1)));
  return out;
}

describe('SseRelay', () => {
  it('passes bytes through untouched when not stripping, at every split point, and observes the stream', () => {
    for (const chunks of splits(stream)) {
      const r = run(false, chunks);
      expect(r.text).toBe(stream);
      expect(r.seen.first).toBe(1);
      expect(r.seen.tokens).toBe(2);
      expect(r.seen.usage).toEqual({ promptTokens: 12, completionTokens: 3, cachedTokens: 8 });
      expect(r.done).toBe(true);
    }
  });

  it('cuts exactly the usage-only chunk when the gateway injected include_usage, at every split point', () => {
    const expected = role + tok(' héllo') + tok(' wörld') + tok('!') + fin + done;
    for (const chunks of splits(stream)) {
      const r = run(true, chunks);
      expect(r.text).toBe(expected);
      expect(r.seen.usage?.completionTokens).toBe(3);
    }
  });

  it('keeps a usage field on a chunk that still has choices (continuous usage) and reports error events', () => {
    const withChoices = 'data: {"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n';
    const err = 'data: {"error":{"message":"engine overloaded","type":"server_error","param":null,"code":null}}\n\n';
    const r = run(true, [Buffer.from(withChoices + err)]);
    expect(r.text).toBe(withChoices + err);
    expect(r.seen.errors).toEqual(['engine overloaded']);
    expect(r.seen.first).toBe(1);
  });

  it('flushes an unterminated final event in strip mode', () => {
    const partial = tok('a') + 'data: {"choices":[{"delta":{"content":"b"}}]}';
    const r = run(true, [Buffer.from(partial)]);
    expect(r.text).toBe(partial);
    expect(r.done).toBe(false);
  });
});

/** What parseUsage must return: the whole text parsed. */
function refUsage(data: string): StreamUsage | null {
  try {
    const u = (JSON.parse(data) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null } | null }).usage;
    if (!u || typeof u.prompt_tokens !== 'number') return null;
    return { promptTokens: u.prompt_tokens, completionTokens: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0, cachedTokens: typeof u.prompt_tokens_details?.cached_tokens === 'number' ? u.prompt_tokens_details.cached_tokens : 0 };
  } catch {
    return null;
  }
}

describe('parseUsage (parses only the usage object when it ends the document)', () => {
  const u = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 0 } };
  const cases = [
    JSON.stringify({ id: 'x', choices: [], usage: u }),
    JSON.stringify({ id: 'x', choices: [], usage: u }, null, 2),
    JSON.stringify({ usage: u, id: 'after' }),
    JSON.stringify({ choices: [{ message: { usage: u } }] }),
    JSON.stringify({ choices: [{ message: { usage: u } }], usage: { prompt_tokens: 1 } }),
    JSON.stringify({ usage: null }),
    JSON.stringify({ usage: { ...u, note: '}{"usage":{"prompt_tokens":99}}' } }),
    JSON.stringify({ 'x"usage': u }),
    JSON.stringify({ usage: { prompt_tokens: 1 }, nested: { usage: u } }),
    JSON.stringify([{ usage: u }]),
    JSON.stringify({ usage: u }) + '}',
    JSON.stringify({ usage: u }).slice(0, -3),
    JSON.stringify({ a: '\\', b: '\\",', usage: u }),
    '{"usage":{"prompt_tokens":5}} ',
    '{"usage":{"prompt_tokens":"5"}}',
    'not json "usage":{"prompt_tokens":5}}',
    '',
  ];
  it.each(cases)('%s', (text) => {
    expect(parseUsage(text)).toEqual(refUsage(text));
  });
});

describe('byte searches of the relay', () => {
  const b = Buffer.from('xx"content":"" "content":"a" "text":"');
  const CONTENT = Buffer.from('"content":"');
  const TEXT = Buffer.from('"text":"');
  it('lastIndexIn finds the last whole occurrence inside the range', () => {
    expect(lastIndexIn(b, CONTENT, 0, b.length)).toBe(b.indexOf('"content":"a'));
    expect(lastIndexIn(b, CONTENT, 0, b.indexOf('"content":"a') + 10)).toBe(2);
    expect(lastIndexIn(b, CONTENT, 3, b.indexOf('"content":"a') + 10)).toBe(-1);
    expect(lastIndexIn(b, TEXT, 0, b.length)).toBe(b.length - TEXT.length);
  });
  it('nonEmptyAfter needs a byte after the pattern that is not a quote, inside the range', () => {
    expect(nonEmptyAfter(b, CONTENT, 0, b.length)).toBe(true);
    expect(nonEmptyAfter(b, CONTENT, 0, b.indexOf('a"'))).toBe(false);
    expect(nonEmptyAfter(b, TEXT, 0, b.length)).toBe(false);
    expect(nonEmptyAfter(Buffer.from('"content":""'), CONTENT, 0, 12)).toBe(false);
  });
});
