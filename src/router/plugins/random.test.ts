import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeScored } from '../testing.js';
import { randomPicker } from './random.js';

const scores: [string, number][] = [['w0', 0.1], ['w1', 0.3], ['w2', 0.6]];

describe('random', () => {
  it.each<[string, boolean, [string, number][], number, string | undefined]>([
    ['uniform: r=0 → first', false, scores, 0, 'w0'],
    ['uniform: r=0.5 → middle', false, scores, 0.5, 'w1'],
    ['uniform: r→1 → last', false, scores, 0.9999, 'w2'],
    ['uniform: empty', false, [], 0.5, undefined],
    ['weighted: r·1.0 = 0.05 < 0.1 → w0', true, scores, 0.05, 'w0'],
    ['weighted: 0.35 lands in w1 (0.1..0.4)', true, scores, 0.35, 'w1'],
    ['weighted: 0.45 lands in w2 (0.4..1.0)', true, scores, 0.45, 'w2'],
    ['weighted: zero-score endpoints are never picked', true, [['w0', 0], ['w1', 1], ['w2', 0]], 0.999, 'w1'],
    ['weighted: all zero falls back to uniform', true, [['w0', 0], ['w1', 0]], 0.7, 'w1'],
  ])('%s', (_name, weighted, cands, r, expected) => {
    const p = createPlugin(randomPicker, { weighted });
    expect(p.pick(makeContext({ random: [r] }), makeScored(cands))?.endpoint.id).toBe(expected);
  });

  it('weighted shares follow the scores', () => {
    const p = createPlugin(randomPicker, { weighted: true });
    const ctx = makeContext({ random: 3 });
    const cands = makeScored(scores);
    const counts: Record<string, number> = { w0: 0, w1: 0, w2: 0 };
    for (let i = 0; i < 10_000; i++) counts[p.pick(ctx, cands)!.endpoint.id]!++;
    expect(counts.w0! / 10_000).toBeCloseTo(0.1, 1);
    expect(counts.w1! / 10_000).toBeCloseTo(0.3, 1);
    expect(counts.w2! / 10_000).toBeCloseTo(0.6, 1);
  });

  it.each([
    [false, 'random', false],
    [true, 'random (weighted)', true],
  ])('weighted=%s explains as %s', (weighted, text, usesScores) => {
    const p = createPlugin(randomPicker, { weighted });
    expect(p.explain?.(makeContext(), makeScored([['w0', 1]])[0]!)).toBe(text);
    expect(p.usesScores).toBe(usesScores);
  });

  it('rejects unknown params', () => {
    expect(randomPicker.params.safeParse({ weight: true }).success).toBe(false);
  });
});
