import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeScored } from '../testing.js';
import { maxScorePicker } from './max_score.js';

describe('max_score', () => {
  it.each<[string, [string, number][], number[], string | undefined]>([
    ['clear winner', [['w0', 0.2], ['w1', 0.9], ['w2', 0.5]], [0.99], 'w1'],
    ['single candidate', [['w0', 0.1]], [0.5], 'w0'],
    ['no candidates', [], [0.5], undefined],
    ['zero scores tie → random keeps first (r·2 ≥ 1)', [['w0', 0], ['w1', 0]], [0.6], 'w0'],
    ['zero scores tie → random takes second (r·2 < 1)', [['w0', 0], ['w1', 0]], [0.4], 'w1'],
    ['three-way tie, third taken when r·3 < 1', [['w0', 0.5], ['w1', 0.5], ['w2', 0.5]], [0.9, 0.2], 'w2'],
    ['tie within 1e-9 counts as a tie', [['w0', 0.7], ['w1', 0.7 + 1e-12]], [0.1], 'w1'],
    ['winner after a tie resets the tie', [['w0', 0.5], ['w1', 0.5], ['w2', 0.8]], [0.1], 'w2'],
  ])('%s', (_name, scores, random, expected) => {
    const p = createPlugin(maxScorePicker);
    expect(p.pick(makeContext({ random }), makeScored(scores))?.endpoint.id).toBe(expected);
  });

  it('spreads ties uniformly', () => {
    const p = createPlugin(maxScorePicker);
    const ctx = makeContext({ random: 42 });
    const counts: Record<string, number> = {};
    const cands = makeScored([['a', 1], ['b', 1], ['c', 1], ['d', 0.5]]);
    for (let i = 0; i < 3000; i++) {
      const id = p.pick(ctx, cands)!.endpoint.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect(counts.d).toBeUndefined();
    for (const id of ['a', 'b', 'c']) expect(counts[id]).toBeGreaterThan(850);
  });

  it('explains with the score and says it uses scores', () => {
    const p = createPlugin(maxScorePicker);
    const [c] = makeScored([['w0', 0.912]]);
    expect(p.explain?.(makeContext(), c!)).toBe('max_score 0.91');
    expect(p.usesScores).toBe(true);
  });
});
