import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestMatch, deepFreeze, editDistance, formatPath, formatZodIssues, parsePath, zodDuration, zodParseOptions } from './index.js';

describe('editDistance / closestMatch', () => {
  it.each([
    ['timeout', 'timeout', 0],
    ['tiemout', 'timeout', 1],
    ['wroker', 'worker', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s ↔ %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it.each([
    ['tiemout', ['port', 'timeout', 'mode'], 'timeout'],
    ['PORT', ['port', 'timeout'], 'port'],
    ['ver', ['version', 'worker'], 'version'],
    ['xyz', ['port', 'timeout'], undefined],
    ['ab', ['xy'], undefined],
  ])('closestMatch(%s)', (input, candidates, expected) => {
    expect(closestMatch(input, candidates)).toBe(expected);
  });
});

describe('paths', () => {
  it.each<[PropertyKey[], string]>([
    [['backends', 2, 'endpoints', 0, 'url'], 'backends[2].endpoints[0].url'],
    [['gateway', 'timeouts', 'firstByte'], 'gateway.timeouts.firstByte'],
    [['labels', 'a.b', 'x'], 'labels["a.b"].x'],
    [[0, 'kv-events'], '[0].kv-events'],
    [[], ''],
  ])('%j ↔ %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
    expect(parsePath(text)).toEqual(path);
  });
});

describe('formatZodIssues', () => {
  it('works on issues from any schema parsed with zodParseOptions', () => {
    const S = z.strictObject({ items: z.array(z.strictObject({ n: z.number().min(0) })), tags: z.array(z.string()).min(1) });
    const r = S.safeParse({ items: [{ n: 1 }, { n: -1, m: 2 }], tags: [] }, zodParseOptions);
    expect(r.success).toBe(false);
    expect(formatZodIssues(r.error!)).toEqual([
      { path: 'items[1].n', message: 'expected a number >= 0, got -1' },
      { path: 'items[1].m', message: "unknown field 'm'", hint: "did you mean 'n'?" },
      { path: 'tags', message: 'expected at least 1 item, got an empty list' },
    ]);
  });

  it('keeps messages a schema sets itself', () => {
    const r = z.object({ name: z.string().min(1, 'must not be empty') }).safeParse({ name: '' }, zodParseOptions);
    expect(formatZodIssues(r.error!)).toEqual([{ path: 'name', message: 'must not be empty' }]);
  });

  it('describes unions by their alternatives', () => {
    const r = z.object({ v: z.union([z.string(), z.number()]) }).safeParse({ v: [] }, zodParseOptions);
    expect(formatZodIssues(r.error!)[0]!.message).toBe('expected a string or a number, got an empty list');
  });
});

describe('zodDuration', () => {
  it.each<[unknown, number]>([
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    [250, 250],
    ['42', 42],
  ])('%j → %d ms', (input, ms) => {
    expect(zodDuration().parse(input)).toBe(ms);
  });

  it('enforces bounds', () => {
    const r = zodDuration({ min: '1s', max: '1m' }).safeParse('2m', zodParseOptions);
    expect(formatZodIssues(r.error!)[0]!.message).toBe("expected a duration between 1s and 1m, got '2m'");
  });

  it('rejects negative numbers', () => {
    expect(zodDuration().safeParse(-5).success).toBe(false);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays, tolerates cycles and typed arrays', () => {
    const v: { a: { b: number[] }; self?: unknown; bytes: Uint8Array } = { a: { b: [1] }, bytes: new Uint8Array(2) };
    v.self = v;
    deepFreeze(v);
    expect(Object.isFrozen(v.a.b)).toBe(true);
    expect(Object.isFrozen(v.bytes)).toBe(false);
  });
});
