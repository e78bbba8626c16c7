import { describe, expect, it } from 'vitest';
import type { EndpointView, ScoredEndpoint } from '../types.js';
import { createPlugin, makeContext, makeEndpoint, makeEndpoints, makeScored } from '../testing.js';
import { consistentHashPicker } from './consistent_hash.js';

const scoredOf = (eps: readonly EndpointView[]): ScoredEndpoint[] => makeScored(eps.map((e) => [e, 1]));
const keyCtx = (key: string) => makeContext({ headers: { 'x-session-id': key }, random: 1 });

describe('consistent_hash', () => {
  it.each<[string, Parameters<typeof makeContext>[0]]>([
    ['x-session-id header', { headers: { 'x-session-id': 'abc' } }],
    ['user field', { user: 'alice' }],
    ['configured header', { headers: { 'x-tenant': 't1' } }],
    ['prompt prefix', { promptText: 'You are a helpful assistant. '.repeat(20) }],
  ])('same key → same endpoint (%s)', (_name, ctxOver) => {
    const p = createPlugin(consistentHashPicker, { header: 'X-Tenant' });
    const c = scoredOf(makeEndpoints(8));
    const first = p.pick(makeContext(ctxOver), c)!.endpoint.id;
    for (let i = 0; i < 20; i++) expect(p.pick(makeContext({ ...ctxOver, random: i }), c)!.endpoint.id).toBe(first);
    expect(p.explain?.(makeContext(), c[0]!)).toBe('consistent_hash');
  });

  it('keys on the first promptChars characters only', () => {
    const p = createPlugin(consistentHashPicker, { promptChars: 10 });
    const c = scoredOf(makeEndpoints(16));
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++) ids.add(p.pick(makeContext({ promptText: `0123456789 then ${i}` }), c)!.endpoint.id);
    expect(ids.size).toBe(1);
  });

  it('spreads keys over endpoints and removing one moves only its keys (~1/n)', () => {
    const p = createPlugin(consistentHashPicker);
    const eps = makeEndpoints(10);
    const before = new Map<string, string>();
    for (let k = 0; k < 5000; k++) before.set(`k${k}`, p.pick(keyCtx(`k${k}`), scoredOf(eps))!.endpoint.id);
    const share = new Map<string, number>();
    for (const id of before.values()) share.set(id, (share.get(id) ?? 0) + 1);
    for (const n of share.values()) expect(n).toBeGreaterThan(300); // 500 each ideally; 100 vnodes ≈ ±20%
    const gone = 'w3';
    p.onEndpointGone?.(gone);
    const after = scoredOf(eps.filter((e) => e.id !== gone));
    let moved = 0;
    for (const [key, was] of before) {
      const now = p.pick(keyCtx(key), after)!.endpoint.id;
      if (now !== was) {
        moved++;
        expect(was).toBe(gone);
      }
    }
    expect(moved).toBe(share.get(gone));
    expect(moved / before.size).toBeGreaterThan(0.05);
    expect(moved / before.size).toBeLessThan(0.15);
  });

  it('a temporarily absent candidate (retry, unhealthy) does not reshuffle other keys', () => {
    const p = createPlugin(consistentHashPicker);
    const eps = makeEndpoints(5);
    const full = scoredOf(eps);
    const partial = scoredOf(eps.slice(1));
    for (let k = 0; k < 500; k++) {
      const was = p.pick(keyCtx(`k${k}`), full)!.endpoint.id;
      const now = p.pick(keyCtx(`k${k}`), partial)!.endpoint.id;
      if (was !== 'w0') expect(now).toBe(was);
      expect(p.pick(keyCtx(`k${k}`), full)!.endpoint.id).toBe(was);
    }
  });

  it.each([1.25, 1.5, 2])('bounded loads hold under skewed keys (c = %s)', (c) => {
    const p = createPlugin(consistentHashPicker, { c });
    const eps = makeEndpoints(6);
    let maxHops = 0;
    for (let i = 0; i < 600; i++) {
      // 80% of requests share one hot key; the rest are spread.
      const key = i % 5 === 0 ? `cold-${i}` : 'hot';
      const total = eps.reduce((s, e) => s + e.load.inFlight, 0);
      const capacity = Math.ceil((c * (total + 1)) / eps.length);
      const picked = p.pick(keyCtx(key), scoredOf(eps))!;
      expect(picked.endpoint.load.inFlight).toBeLessThan(capacity);
      picked.endpoint.load.inFlight++;
      const m = /(\d+) hop/.exec(p.explain?.(makeContext(), picked) ?? '');
      maxHops = Math.max(maxHops, Number(m?.[1] ?? 0));
      if (i % 3 === 0) {
        const busiest = eps.reduce((a, b) => (b.load.inFlight > a.load.inFlight ? b : a));
        busiest.load.inFlight--; // some completions
      }
    }
    const loads = eps.map((e) => e.load.inFlight);
    const total = loads.reduce((a, b) => a + b, 0);
    expect(Math.max(...loads)).toBeLessThanOrEqual(Math.ceil((c * total) / eps.length) + 1);
    expect(maxHops).toBeGreaterThan(0);
  });

  it('reports hops when the owner is full', () => {
    const p = createPlugin(consistentHashPicker, { c: 1 });
    const eps = makeEndpoints(4);
    const owner = p.pick(keyCtx('k'), scoredOf(eps))!.endpoint;
    (owner.load as { inFlight: number }).inFlight = 10; // capacity = ceil((10+1)/4) = 3
    const picked = p.pick(keyCtx('k'), scoredOf(eps))!;
    expect(picked.endpoint.id).not.toBe(owner.id);
    expect(p.explain?.(makeContext(), picked)).toBe('consistent_hash (bounded load, 1 hop)');
  });

  it('no key → fewest in flight', () => {
    const p = createPlugin(consistentHashPicker);
    const eps = makeEndpoints(3, [4, 1, 2]);
    expect(p.pick(makeContext(), scoredOf(eps))!.endpoint.id).toBe('w1');
    expect(p.explain?.(makeContext(), scoredOf(eps)[0]!)).toBe('consistent_hash (no key, least in flight)');
  });

  it('slow start: a recovering owner keeps about weightFactor of its keys', () => {
    const p = createPlugin(consistentHashPicker);
    const eps = makeEndpoints(4);
    const owner = p.pick(keyCtx('k'), scoredOf(eps))!.endpoint.id;
    const slowed = eps.map((e) => (e.id === owner ? makeEndpoint(e.id, { weightFactor: 0.25 }) : e));
    let kept = 0;
    for (let i = 0; i < 2000; i++) if (p.pick(makeContext({ headers: { 'x-session-id': 'k' }, random: i }), scoredOf(slowed))!.endpoint.id === owner) kept++;
    expect(kept / 2000).toBeGreaterThan(0.18);
    expect(kept / 2000).toBeLessThan(0.32);
  });

  it.each([{ replicas: 0 }, { c: 0.9 }, { promptChars: 0 }, { nope: 1 }])('rejects params %j', (params) => {
    expect(consistentHashPicker.params.safeParse(params).success).toBe(false);
  });
});
