import { describe, expect, it } from 'vitest';
import { isDnsLabel, newId, openAIId, randomId } from './ids.js';
import { hashString32, Rng } from './rng.js';

describe('ids', () => {
  it('randomId has the requested entropy in base62 characters and does not repeat', () => {
    const id = randomId(256);
    expect(id).toMatch(/^[0-9a-zA-Z]{43}$/);
    const seen = new Set(Array.from({ length: 1000 }, () => randomId(64)));
    expect(seen.size).toBe(1000);
  });
  it('prefixes ids by kind', () => {
    expect(newId('req')).toMatch(/^req-[0-9a-zA-Z]+$/);
    expect(openAIId('chatcmpl')).toMatch(/^chatcmpl-[0-9a-zA-Z]{22}$/);
  });
  it.each([
    ['llama-3', true],
    ['a', true],
    ['Llama', false],
    ['-x', false],
    ['x-', false],
    ['a'.repeat(64), false],
  ])('isDnsLabel(%j) = %s', (s, ok) => expect(isDnsLabel(s)).toBe(ok));
});

describe('Rng', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(new Rng(43).next()).not.toBe(new Rng(42).next());
  });
  it('hashString32 is stable', () => {
    expect(hashString32('hello')).toBe(hashString32('hello'));
    expect(hashString32('hello')).not.toBe(hashString32('hellp'));
  });
});
