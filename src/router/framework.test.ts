import { describe, expect, it } from 'vitest';
import { isSwitchyardError } from '../core/index.js';
import { CompiledProfile, Router } from './framework.js';
import { maxScorePicker } from './plugins/max_score.js';
import { queueDepthScorer } from './plugins/queue_depth.js';
import { sessionAffinityScorer } from './plugins/session_affinity.js';
import { createPlugin, makeContext, makeEndpoint, makeEndpoints } from './testing.js';
import type { EndpointView, Filter, Picker, PluginHooks, Scorer } from './types.js';

type Log = string[];

function filter(name: string, log: Log, keep: (e: EndpointView) => boolean = () => true): Filter & PluginHooks {
  return {
    name,
    type: 'test_filter',
    kind: 'filter',
    filter: (_ctx, eps) => {
      log.push(`${name}(${eps.map((e) => e.id).join(',')})`);
      return eps.filter(keep);
    },
    onPicked: (_ctx, e) => void log.push(`${name}.onPicked(${e.id})`),
  };
}

function scorer(name: string, log: Log, fn: (e: EndpointView, i: number) => number): Scorer & PluginHooks {
  return {
    name,
    type: 'test_scorer',
    kind: 'scorer',
    score: (_ctx, eps) => {
      log.push(`${name}(${eps.map((e) => e.id).join(',')})`);
      return eps.map(fn);
    },
    onEndpointGone: (id) => void log.push(`${name}.gone(${id})`),
  };
}

function picker(log: Log, inner: Picker = createPlugin(maxScorePicker)): Picker & PluginHooks {
  return {
    ...inner,
    pick: (ctx, c) => {
      log.push(`pick(${c.map((s) => `${s.endpoint.id}=${s.score.toFixed(2)}`).join(',')})`);
      return inner.pick(ctx, c);
    },
    onPicked: (_ctx, e) => void log.push(`picker.onPicked(${e.id})`),
  };
}

describe('CompiledProfile.route', () => {
  it('runs pre-filter → filters → scorers → picker → onPicked, each stage seeing the previous output', () => {
    const log: Log = [];
    const p = new CompiledProfile({
      name: 't',
      filters: [filter('f1', log, (e) => e.id !== 'w1'), filter('f2', log, (e) => e.id !== 'w2')],
      scorers: [{ plugin: scorer('s1', log, (e) => (e.id === 'w3' ? 1 : 0)), weight: 1 }, { plugin: scorer('s2', log, () => 0.5), weight: 1 }],
      picker: picker(log),
    });
    const eps = [...makeEndpoints(5), makeEndpoint('sick', { healthy: false })];
    const d = p.route(makeContext({ excluded: ['w4'] }), eps);
    expect(log).toEqual([
      'f1(w0,w1,w2,w3)',
      'f2(w0,w2,w3)',
      's1(w0,w3)',
      's2(w0,w3)',
      'pick(w0=0.25,w3=0.75)',
      'f1.onPicked(w3)',
      'f2.onPicked(w3)',
      'picker.onPicked(w3)',
    ]);
    expect(d.endpoint?.id).toBe('w3');
    expect(d.candidates).toBe(2);
    expect(d.profile).toBe('t');
    expect(d.timings.map((t) => t.plugin)).toEqual(['f1', 'f2', 's1', 's2', 'max_score', 'f1:onPicked', 'f2:onPicked', 'max_score:onPicked']);
    for (const t of d.timings) expect(t.us).toBeGreaterThanOrEqual(0);
  });

  it('does not check the model (the caller does)', () => {
    const p = new CompiledProfile({ name: 't', picker: createPlugin(maxScorePicker) });
    expect(p.route(makeContext({ model: 'a' }), [makeEndpoint('x', { model: 'b' })]).endpoint?.id).toBe('x');
  });

  it.each<[string, EndpointView[], string[], string]>([
    ['no endpoints at all', [], [], 'no endpoints'],
    ['all unhealthy', [makeEndpoint('a', { healthy: false }), makeEndpoint('b', { healthy: false })], [], 'no healthy endpoint'],
    ['all tried', makeEndpoints(2), ['w0', 'w1'], 'all endpoints already tried'],
    ['a mix', [makeEndpoint('a', { healthy: false }), makeEndpoint('b')], ['b'], 'no healthy untried endpoint (1 unhealthy, 1 already tried)'],
  ])('no candidate: %s', (_name, eps, excluded, reason) => {
    const log: Log = [];
    const p = new CompiledProfile({ name: 't', filters: [filter('f', log)], picker: picker(log) });
    const d = p.route(makeContext({ excluded }), eps);
    expect(d).toMatchObject({ endpoint: null, reason, candidates: 0, scores: [] });
    expect(log).toEqual([]);
    expect(p.stats()).toMatchObject({ routed: 0, unrouted: 1 });
  });

  it('panic option: with no healthy untried endpoint, routes among unhealthy untried ones and says so', () => {
    const log: Log = [];
    const p = new CompiledProfile({ name: 't', picker: picker(log) });
    const eps = [makeEndpoint('a', { healthy: false }), makeEndpoint('b', { healthy: false }), makeEndpoint('c')];
    const d = p.route(makeContext({ excluded: ['c', 'a'] }), eps, { panic: true });
    expect(d.endpoint?.id).toBe('b');
    expect(d.panic).toBe(true);
    expect(d.reason).toMatch(/^panic \(no healthy untried endpoint \(2 unhealthy, 1 already tried\)\): /);
    // Off by default, and never used while a healthy candidate exists.
    expect(p.route(makeContext({ excluded: ['c'] }), eps)).toMatchObject({ endpoint: null, panic: false });
    expect(p.route(makeContext(), eps, { panic: true })).toMatchObject({ endpoint: { id: 'c' }, panic: false });
    // Nothing untried at all: still no endpoint.
    expect(p.route(makeContext({ excluded: ['a', 'b', 'c'] }), eps, { panic: true }).endpoint).toBeNull();
  });

  it('names the filter that removed the last candidates and stops there', () => {
    const log: Log = [];
    const p = new CompiledProfile({
      name: 't',
      filters: [filter('region', log, (e) => e.id !== 'w0'), filter('gpu', log, () => false), filter('never', log)],
      scorers: [{ plugin: scorer('s', log, () => 1), weight: 1 }],
      picker: picker(log),
    });
    const d = p.route(makeContext(), makeEndpoints(3));
    expect(d.endpoint).toBeNull();
    expect(d.reason).toBe('gpu removed all 2 candidates');
    expect(log).toEqual(['region(w0,w1,w2)', 'gpu(w1,w2)']);
    expect(d.timings.map((t) => t.plugin)).toEqual(['region', 'gpu']);
  });

  it('clamps NaN / out-of-range / missing scorer outputs to [0,1] and counts them', () => {
    const bad = [NaN, -0.5, 1.5, 0.25]; // 5th endpoint: missing (short array)
    const p = new CompiledProfile({
      name: 't',
      scorers: [{ plugin: scorer('bad', [], (_e, i) => bad[i]!), weight: 1 }, { plugin: scorer('good', [], () => 1), weight: 1 }],
      picker: createPlugin(maxScorePicker),
    });
    const d = p.route(makeContext(), makeEndpoints(5), { debug: true });
    expect(d.scores.map((s) => s.parts.bad)).toEqual([0, 0, 1, 0.25, 0]);
    expect(d.scores.map((s) => s.total)).toEqual([0.5, 0.5, 1, 0.625, 0.5]);
    expect(d.endpoint?.id).toBe('w2');
    expect(p.stats().clampedScores).toEqual({ bad: 4, good: 0 });
  });

  it.each<[string, { w: number; s: number }[], number]>([
    ['weighted sum normalised by Σw', [{ w: 3, s: 1 }, { w: 1, s: 0 }], 0.75],
    ['equal weights → mean', [{ w: 2, s: 0.2 }, { w: 2, s: 0.6 }], 0.4],
    ['weight 0 scorer runs but does not count', [{ w: 0, s: 0 }, { w: 5, s: 0.8 }], 0.8],
    ['Σw = 0 → every score is 1', [{ w: 0, s: 0.3 }], 1],
    ['no scorers → every score is 1', [], 1],
  ])('score: %s', (_name, parts, total) => {
    const p = new CompiledProfile({
      name: 't',
      scorers: parts.map(({ w, s }, j) => ({ plugin: scorer(`s${j}`, [], () => s), weight: w })),
      picker: createPlugin(maxScorePicker),
    });
    const d = p.route(makeContext(), makeEndpoints(1), { debug: true });
    expect(d.scores[0]!.total).toBeCloseTo(total, 12);
    expect(Object.keys(d.scores[0]!.parts)).toEqual(parts.map((_, j) => `s${j}`));
  });

  it('multiplies the score by weightFactor (slow start)', () => {
    const p = new CompiledProfile({ name: 't', scorers: [{ plugin: scorer('s', [], () => 0.8), weight: 1 }], picker: createPlugin(maxScorePicker) });
    const eps = [makeEndpoint('fresh', { weightFactor: 0.25 }), makeEndpoint('old'), makeEndpoint('odd', { weightFactor: NaN })];
    const d = p.route(makeContext(), eps, { debug: true });
    expect(d.scores.map((s) => s.total)).toEqual([0.2, 0.8, 0.8]);
    expect(d.scores[0]!.parts).toEqual({ s: 0.8, '@weightFactor': 0.25 });
    expect(d.scores[1]!.parts).toEqual({ s: 0.8 });
    // With no scorers the score is the weightFactor itself.
    const plain = new CompiledProfile({ name: 'p', picker: createPlugin(maxScorePicker) });
    expect(plain.route(makeContext(), eps).scores.map((s) => s.total)).toEqual([0.25, 1, 1]);
  });

  it('leaves parts empty unless debug is set', () => {
    const p = new CompiledProfile({ name: 't', scorers: [{ plugin: scorer('s', [], () => 0.5), weight: 1 }], picker: createPlugin(maxScorePicker) });
    const d = p.route(makeContext(), makeEndpoints(2));
    expect(d.scores).toEqual([
      { endpointId: 'w0', total: 0.5, parts: {} },
      { endpointId: 'w1', total: 0.5, parts: {} },
    ]);
    const json = JSON.parse(JSON.stringify(d));
    expect(json).toMatchObject({ candidates: 2, profile: 't', reason: 'max_score 0.50 (tie)' });
    expect(json.scores).toHaveLength(2);
  });

  it('reports a picker that picks nothing', () => {
    const none: Picker = { name: 'none', type: 'none', kind: 'picker', pick: () => undefined };
    const d = new CompiledProfile({ name: 't', picker: none }).route(makeContext(), makeEndpoints(2));
    expect(d).toMatchObject({ endpoint: null, reason: 'none picked nothing', candidates: 2 });
    expect(d.scores).toHaveLength(2);
  });

  describe('reason', () => {
    const q = (k = 8) => createPlugin(queueDepthScorer, { k }, 'queue_depth');
    it.each<[string, () => CompiledProfile, EndpointView[], Parameters<typeof makeContext>[0], string]>([
      ['deciding scorer', () => new CompiledProfile({ name: 't', scorers: [{ plugin: q(), weight: 1 }, { plugin: scorer('flat', [], () => 0.5), weight: 1 }], picker: createPlugin(maxScorePicker) }), makeEndpoints(3, [2, 0, 1]), {}, 'max_score 0.75 (queue_depth)'],
      ['only candidate', () => new CompiledProfile({ name: 't', scorers: [{ plugin: q(), weight: 1 }], picker: createPlugin(maxScorePicker) }), makeEndpoints(1), {}, 'max_score 1.00 (only candidate)'],
      ['tie', () => new CompiledProfile({ name: 't', scorers: [{ plugin: q(), weight: 1 }], picker: createPlugin(maxScorePicker) }), makeEndpoints(2), {}, 'max_score 1.00 (tie)'],
      ['slow start decides', () => new CompiledProfile({ name: 't', scorers: [{ plugin: q(), weight: 1 }], picker: createPlugin(maxScorePicker) }), [makeEndpoint('a', { weightFactor: 0.5 }), makeEndpoint('b')], {}, 'max_score 1.00 (slow start)'],
      ['no scorers', () => new CompiledProfile({ name: 't', picker: createPlugin(maxScorePicker) }), makeEndpoints(2), {}, 'max_score 1.00'],
    ])('%s', (_name, make, eps, ctx, reason) => {
      expect(make().route(makeContext(ctx), eps).reason).toBe(reason);
    });

    it('lets the deciding scorer word it (session_affinity: pinned to …)', () => {
      const p = new CompiledProfile({
        name: 't',
        scorers: [{ plugin: createPlugin(sessionAffinityScorer), weight: 10 }, { plugin: q(), weight: 2 }],
        picker: createPlugin(maxScorePicker),
      });
      const eps = makeEndpoints(3, [3, 1, 2]);
      const ctx = makeContext({ headers: { 'x-session-id': 's' } });
      expect(p.route(ctx, eps).reason).toBe('max_score 0.56 (queue_depth)'); // (10·0.5 + 2·8/9) / 12
      (eps[1]!.load as { inFlight: number }).inFlight = 9; // pinned w1 is now the busiest
      const d = p.route(ctx, eps);
      expect(d.endpoint?.id).toBe('w1');
      expect(d.reason).toBe('session_affinity: pinned to w1');
    });
  });
});

describe('Router', () => {
  const make = () => {
    const log: Log = [];
    const a = new CompiledProfile({ name: 'a', scorers: [{ plugin: scorer('sa', log, () => 1), weight: 1 }], picker: createPlugin(maxScorePicker) });
    const b = new CompiledProfile({ name: 'b', filters: [filter('fb', log)], picker: createPlugin(maxScorePicker) });
    return { log, router: new Router([a, b]) };
  };

  it('routes by profile name; boolean debug works like { debug }', () => {
    const { router } = make();
    expect(router.names()).toEqual(['a', 'b']);
    expect(router.hasProfile('a')).toBe(true);
    expect(router.hasProfile('zzz')).toBe(false);
    expect(router.route('a', makeContext(), makeEndpoints(1), true).scores[0]!.parts).toEqual({ sa: 1 });
    expect(router.route('a', makeContext(), makeEndpoints(1), false).scores[0]!.parts).toEqual({});
    expect(router.profile('b')?.name).toBe('b');
  });

  it('throws invalid_argument for an unknown profile, naming the known ones', () => {
    const { router } = make();
    try {
      router.route('nope', makeContext(), makeEndpoints(1));
      expect.unreachable();
    } catch (e) {
      expect(isSwitchyardError(e) && e.code).toBe('invalid_argument');
      expect((e as Error).message).toBe("unknown routing profile 'nope'; known: a, b");
    }
  });

  it('broadcasts endpointGone to every plugin of every profile', () => {
    const { router, log } = make();
    router.endpointGone('w7');
    expect(log).toEqual(['sa.gone(w7)']);
  });
});
