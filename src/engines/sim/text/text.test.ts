import { describe, expect, it } from 'vitest';
import { embeddingToBase64, embedTokens } from './embeddings.js';
import { generateSequence } from './generator.js';
import { loadSimTokenizer } from './index.js';

const simTokenizer = await loadSimTokenizer();

describe('generateSequence', () => {
  it('is deterministic per (seed, prompt), differs across seeds, and is made of real words', () => {
    const p = simTokenizer.encode('Tell me a story');
    const a = generateSequence(simTokenizer, p, 1);
    const b = generateSequence(simTokenizer, p, 1);
    const c = generateSequence(simTokenizer, p, 2);
    const ids = Array.from({ length: 50 }, (_, i) => a.tokenAt(i));
    expect(Array.from({ length: 50 }, (_, i) => b.tokenAt(i))).toEqual(ids);
    expect(Array.from({ length: 50 }, (_, i) => c.tokenAt(i))).not.toEqual(ids);
    const text = simTokenizer.decode(ids);
    expect(text).toMatch(/^[ a-z.,\n]+$/);
    expect(text.split(/\s+/).filter(Boolean).length).toBeGreaterThan(20);
    expect(a.naturalLength).toBe(b.naturalLength);
    expect(a.naturalLength).toBeGreaterThanOrEqual(8);
  });
});

describe('embeddings', () => {
  it('are deterministic unit vectors; shared tokens make vectors closer', () => {
    const e1 = embedTokens(simTokenizer.encode('the cat sat on the mat'), 64);
    const e2 = embedTokens(simTokenizer.encode('the cat sat on the mat'), 64);
    const e3 = embedTokens(simTokenizer.encode('the cat sat on a rug'), 64);
    const e4 = embedTokens(simTokenizer.encode('quantum chromodynamics lecture'), 64);
    expect(e1).toEqual(e2);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(e1, e1)).toBeCloseTo(1, 9);
    expect(dot(e1, e3)).toBeGreaterThan(dot(e1, e4));
    expect(Buffer.from(embeddingToBase64(e1), 'base64').length).toBe(64 * 4);
  });
});
