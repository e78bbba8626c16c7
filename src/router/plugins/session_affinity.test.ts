import { describe, expect, it } from 'vitest';
import type { EndpointView } from '../types.js';
import { createPlugin, makeContext, makeEndpoints, makeScored } from '../testing.js';
import { sessionAffinityScorer } from './session_affinity.js';

const eps = makeEndpoints(3);
const at = (now: number, key = 's1') => makeContext({ now, headers: { 'x-session-id': key } });
const ep = (id: string): EndpointView => eps.find((e) => e.id === id)!;

describe('session_affinity', () => {
  // Every row starts from one pin: key s1 → w1 at t=0 with ttl 1m.
  it.each<[string, (s: ReturnType<typeof make>) => number[], number[]]>([
    ['no key → all neutral', (s) => s.score(makeContext(), eps), [0.5, 0.5, 0.5]],
    ['key but no pin → all neutral', (s) => s.score(at(0, 'other'), eps), [0.5, 0.5, 0.5]],
    ['pinned → 1 for the pin, 0 for the rest', (s) => s.score(at(1000), eps), [0, 1, 0]],
    ['just before the ttl → still pinned', (s) => s.score(at(59_999), eps), [0, 1, 0]],
    ['pin expired after ttl → neutral', (s) => s.score(at(60_000), eps), [0.5, 0.5, 0.5]],
    ['pinned endpoint missing from candidates → neutral', (s) => s.score(at(1000), [ep('w0'), ep('w2')]), [0.5, 0.5]],
  ])('%s', (_name, run, expected) => {
    const s = make();
    s.onPicked?.(at(0), ep('w1'));
    expect(run(s)).toEqual(expected);
  });

  it('refreshes the ttl on every pick', () => {
    const s = make();
    s.onPicked?.(at(0), ep('w1'));
    s.onPicked?.(at(50_000), ep('w1'));
    expect(s.score(at(100_000), eps)).toEqual([0, 1, 0]);
    expect(s.score(at(110_001), eps)).toEqual([0.5, 0.5, 0.5]);
  });

  it('releases the pin when the pinned endpoint is unhealthy, and it stays released', () => {
    const s = make();
    s.onPicked?.(at(0), ep('w1'));
    expect(s.score(at(1), [ep('w0'), ep('w2')])).toEqual([0.5, 0.5]); // w1 filtered out as unhealthy
    s.onPicked?.(at(1), ep('w2')); // the request went to w2 → re-pinned there
    expect(s.score(at(2), eps)).toEqual([0, 0, 1]); // w1 healthy again: the session stays on w2
  });

  it('onEndpointGone releases every pin to that endpoint', () => {
    const s = make();
    s.onPicked?.(at(0, 'a'), ep('w1'));
    s.onPicked?.(at(0, 'b'), ep('w1'));
    s.onPicked?.(at(0, 'c'), ep('w2'));
    s.onEndpointGone?.('w1');
    expect(s.score(at(1, 'a'), eps)).toEqual([0.5, 0.5, 0.5]);
    expect(s.score(at(1, 'b'), eps)).toEqual([0.5, 0.5, 0.5]);
    expect(s.score(at(1, 'c'), eps)).toEqual([0, 0, 1]);
  });

  it('keeps at most maxKeys pins, evicting the least recently used', () => {
    const s = make({ maxKeys: 2 });
    s.onPicked?.(at(0, 'a'), ep('w0'));
    s.onPicked?.(at(1, 'b'), ep('w1'));
    s.onPicked?.(at(2, 'a'), ep('w0')); // a used again: b is now the oldest
    s.onPicked?.(at(3, 'c'), ep('w2'));
    expect(s.score(at(4, 'a'), eps)).toEqual([1, 0, 0]);
    expect(s.score(at(4, 'b'), eps)).toEqual([0.5, 0.5, 0.5]);
    expect(s.score(at(4, 'c'), eps)).toEqual([0, 0, 1]);
  });

  it.each<[string, Record<string, unknown>, Parameters<typeof makeContext>[0]]>([
    ['user field', {}, { user: 'alice' }],
    ['configured header', { header: 'X-Conversation' }, { headers: { 'x-conversation': 'c1' } }],
  ])('keys on the %s', (_name, params, ctxOver) => {
    const s = make(params);
    s.onPicked?.(makeContext(ctxOver), ep('w2'));
    expect(s.score(makeContext(ctxOver), eps)).toEqual([0, 0, 1]);
  });

  it('explains a pin', () => {
    const s = make();
    s.onPicked?.(at(0), ep('w1'));
    s.score(at(1), eps);
    const [w1, w0] = makeScored([[ep('w1'), 1], [ep('w0'), 0]]);
    expect(s.explain?.(at(1), w1!)).toBe('pinned to w1');
    expect(s.explain?.(at(1), w0!)).toBeUndefined();
  });

  it.each<[unknown, number | undefined]>([
    ['10m', 600_000],
    ['90s', 90_000],
    [1500, 1500],
    [undefined, 600_000],
    ['10 minutes', undefined],
    [-1, undefined],
  ])('ttl %j → %s ms', (ttl, ms) => {
    const r = sessionAffinityScorer.params.safeParse(ttl === undefined ? {} : { ttl });
    expect(r.success ? r.data.ttl : undefined).toBe(ms);
  });
});

function make(params: Record<string, unknown> = { ttl: '1m' }) {
  return createPlugin(sessionAffinityScorer, { ttl: '1m', ...params });
}
