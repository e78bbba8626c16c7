import { describe, expect, it } from 'vitest';
import { kvPrefixHashes } from './kvindex/index.js';
import { promptPrefixHashes, promptTokenIds } from './prompt.js';
import { makeRequest } from './testing.js';
import type { RouteRequest } from './types.js';

const tokens = Array.from({ length: 40 }, (_, i) => i + 1);

function counted(ids: ArrayLike<number>, extra: Partial<RouteRequest> = {}): { request: RouteRequest; calls: () => number } {
  let n = 0;
  const request: RouteRequest = { ...makeRequest(), ...extra, tokenIds: () => (n++, ids) };
  return { request, calls: () => n };
}

describe('prompt (lazy, memoised per request)', () => {
  it('calls tokenIds() at most once per request, and only when asked', () => {
    const { request, calls } = counted(tokens);
    expect(calls()).toBe(0);
    expect(promptTokenIds(request)).toBe(tokens);
    promptPrefixHashes(request, 16);
    promptPrefixHashes(request, 8);
    expect(promptTokenIds(request)).toBe(tokens);
    expect(calls()).toBe(1);
  });

  it('hashes once per block size and returns the same array', () => {
    const { request } = counted(tokens);
    const a = promptPrefixHashes(request, 16);
    expect(promptPrefixHashes(request, 16)).toBe(a);
    expect([...a]).toEqual([...kvPrefixHashes(tokens, 16)]);
    expect(promptPrefixHashes(request, 8).length).toBe(2 * 5);
  });

  it.each<[string, RouteRequest, number]>([
    ['no token ids → empty', makeRequest({ promptText: 'hello' }), 0],
    ['shorter than one block → empty', makeRequest({ tokenIds: [1, 2, 3] }), 0],
    ['40 tokens, 16 per block → 2 full blocks', makeRequest({ tokenIds: tokens }), 2],
  ])('%s', (_name, request, blocks) => {
    expect(promptPrefixHashes(request, 16).length / 2).toBe(blocks);
  });

  it('roots the chain at the LoRA id', () => {
    const base = promptPrefixHashes(makeRequest({ tokenIds: tokens }), 16);
    const lora = promptPrefixHashes(makeRequest({ tokenIds: tokens, loraId: 3 }), 16);
    expect([...lora]).toEqual([...kvPrefixHashes(tokens, 16, { loraId: 3 })]);
    expect(lora[0]).not.toBe(base[0]);
  });

  it('keeps requests apart (memo keyed by the request object)', () => {
    const a = promptPrefixHashes(makeRequest({ tokenIds: tokens }), 16);
    const b = promptPrefixHashes(makeRequest({ tokenIds: tokens.map((t) => t + 1) }), 16);
    expect(a[0]).not.toBe(b[0]);
  });
});
