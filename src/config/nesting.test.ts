import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import { excessiveNesting, MAX_CONFIG_NESTING, nestsDeeperThan } from './nesting.js';
import { z } from 'zod';

describe('excessiveNesting', () => {
  it('passes ordinary YAML and JSON, and finds hostile nesting with its line', () => {
    expect(excessiveNesting('a:\n  b:\n    - c: [1, {d: 2}]\n    - "[[[[" # [[[[[\n')).toBeUndefined();
    expect(excessiveNesting(JSON.stringify({ a: [[{ b: [1] }]] }, null, 2))).toBeUndefined();
    expect(excessiveNesting(`x: 1\n${'['.repeat(1000)}${']'.repeat(1000)}`)?.line).toBe(2);
    expect(excessiveNesting(`${'- '.repeat(1000)}x`)).toBeDefined();
    expect(excessiveNesting(`${' '.repeat(MAX_CONFIG_NESTING + 1)}a: 1`)).toBeDefined();
    // Brackets inside quotes and comments do not count.
    expect(excessiveNesting(`a: '${'['.repeat(500)}'\nb: "${'{'.repeat(500)}" # ${'['.repeat(500)}`)).toBeUndefined();
  });
  it('nestsDeeperThan walks parsed values without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestsDeeperThan(deep, 128)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: [1] }] }, 3)).toBe(true);
  });
});

describe('hostile config text is a ConfigError, not a crash', () => {
  const schema = z.unknown();
  it('deep YAML and JSON', () => {
    const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
    expect(() => loadConfig(schema, { text: deep })).toThrow(/nested too deeply/);
    expect(() => loadConfig(schema, { text: deep, format: 'json' })).toThrow(/nested too deeply/);
    expect(() => loadConfig(schema, { text: `${'['.repeat(1000)}`, format: 'json' })).toThrow(ConfigError);
  });
  it('alias bombs ("billion laughs")', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(() => loadConfig(schema, { text: lines.join('\n') })).toThrow(/cannot build the document/);
  });
  it('lists at most 20 issues, clipped, and counts the rest', () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}${'z'.repeat(1000)}`, 1]));
    try {
      loadConfig(z.strictObject({}), { object: many });
      expect.unreachable();
    } catch (e) {
      const err = e as ConfigError;
      expect(err.message.split('\n')).toHaveLength(21);
      expect(err.message).toMatch(/… and 4980 more problems$/);
      expect(err.message.length).toBeLessThan(21 * 700);
    }
  });
});
