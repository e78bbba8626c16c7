import { describe, expect, it } from 'vitest';
import { createPlugin, makeContext, makeScored } from '../testing.js';
import { roundRobinPicker } from './round_robin.js';

function run(sets: string[][]): string[] {
  const p = createPlugin(roundRobinPicker);
  const ctx = makeContext();
  return sets.map((ids) => p.pick(ctx, makeScored(ids.map((id) => [id, 0.5])))?.endpoint.id ?? '-');
}

describe('round_robin', () => {
  it.each<[string, string[][], string[]]>([
    ['rotates in id order regardless of list order', [['c', 'a', 'b'], ['b', 'c', 'a'], ['a', 'b', 'c'], ['c', 'b', 'a']], ['a', 'b', 'c', 'a']],
    ['single candidate', [['x'], ['x']], ['x', 'x']],
    ['empty', [[]], ['-']],
    ['a removed candidate is skipped, not the next one', [['a', 'b', 'c', 'd'], ['a', 'c', 'd'], ['a', 'b', 'c', 'd']], ['a', 'c', 'd']],
    ['a new candidate joins in id order', [['a', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']], ['a', 'b', 'c']],
    ['the last one leaving wraps around', [['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b']], ['a', 'b', 'a']],
  ])('%s', (_name, sets, expected) => {
    expect(run(sets)).toEqual(expected);
  });

  it('ignores scores and is fair over many picks', () => {
    const p = createPlugin(roundRobinPicker);
    const cands = makeScored([['w0', 0], ['w1', 1], ['w2', 0.5]]);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const id = p.pick(makeContext(), cands)!.endpoint.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    expect(counts).toEqual({ w0: 100, w1: 100, w2: 100 });
    expect(p.explain?.(makeContext(), cands[0]!)).toBe('round_robin');
  });

  it('keeps a cursor per instance', () => {
    const a = createPlugin(roundRobinPicker);
    const b = createPlugin(roundRobinPicker);
    const cands = makeScored([['w0', 1], ['w1', 1]]);
    expect(a.pick(makeContext(), cands)?.endpoint.id).toBe('w0');
    expect(a.pick(makeContext(), cands)?.endpoint.id).toBe('w1');
    expect(b.pick(makeContext(), cands)?.endpoint.id).toBe('w0');
  });
});
