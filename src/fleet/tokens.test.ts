import { describe, expect, it } from 'vitest';
import { hashFullBlocks } from '../engines/index.js';
import { blockTokens, hashIdHalves, outputToken, promptTokens, renderPromptText, SIM_VOCAB } from './tokens.js';

describe('blockTokens: hash id → 512 deterministic token ids', () => {
  it('same id → identical tokens, in every call', () => {
    expect(blockTokens('42')).toEqual(blockTokens('42'));
    expect(blockTokens('42')).toHaveLength(512);
    // Golden values: the mapping must not drift between versions (simulation results depend on it).
    expect(blockTokens('42').slice(0, 6)).toEqual([54846, 1450, 51961, 54759, 84387, 42805]);
    expect(blockTokens('18446744073709551615').slice(0, 3)).toEqual([26203, 74354, 72231]);
  });

  it('different ids differ (also ids that a 53-bit double would merge, and ids equal in their low 32 bits)', () => {
    const ids = ['0', '1', '2', '4294967296', '9007199254740992', '9007199254740993', '18446744073709551615', '13761487376996030303'];
    const blocks = ids.map((id) => blockTokens(id).join(','));
    expect(new Set(blocks).size).toBe(ids.length);
    // Position by position, two blocks agree about as often as chance allows (1/VOCAB).
    const a = blockTokens('1');
    const b = blockTokens('2');
    expect(a.filter((t, i) => t === b[i]).length).toBeLessThan(3);
  });

  it('tokens are integers in [0, VOCAB) and spread over it', () => {
    const t = blockTokens('7');
    expect(t.every((x) => Number.isInteger(x) && x >= 0 && x < SIM_VOCAB)).toBe(true);
    expect(new Set(t).size).toBeGreaterThan(500);
  });

  it('hashIdHalves splits a 64-bit id exactly', () => {
    expect(hashIdHalves('4294967297')).toEqual([1, 1]);
    expect(hashIdHalves('18446744073709551615')).toEqual([0xffffffff, 0xffffffff]);
    expect(hashIdHalves('9007199254740993')).toEqual([0x200000, 1]);
  });
});

describe('promptTokens: blocks concatenated, truncated or padded to input_length', () => {
  it('concatenates blocks and truncates the last one', () => {
    const p = promptTokens({ index: 0, inputLength: 1000, hashIds: ['5', '6'] });
    expect(p).toHaveLength(1000);
    expect(p.slice(0, 512)).toEqual(blockTokens('5'));
    expect(p.slice(512)).toEqual(blockTokens('6').slice(0, 488));
  });

  it('equal hash-id prefixes give equal engine block hashes; the rest differs', () => {
    const a = promptTokens({ index: 0, inputLength: 1536, hashIds: ['1', '2', '3'] });
    const b = promptTokens({ index: 1, inputLength: 1536, hashIds: ['1', '2', '9'] });
    const ha = hashFullBlocks(a, 512);
    const hb = hashFullBlocks(b, 512);
    expect(ha.slice(0, 2)).toEqual(hb.slice(0, 2));
    expect(ha[2]).not.toBe(hb[2]);
  });

  it('pads past the blocks with tokens unique to the request (and the seed)', () => {
    const a = promptTokens({ index: 0, inputLength: 700, hashIds: ['1'] });
    const b = promptTokens({ index: 1, inputLength: 700, hashIds: ['1'] });
    expect(a.slice(0, 512)).toEqual(b.slice(0, 512));
    expect(a.slice(512)).not.toEqual(b.slice(512));
    expect(promptTokens({ index: 0, inputLength: 700, hashIds: ['1'] }, { seed: 1 }).slice(512)).not.toEqual(a.slice(512));
    expect(promptTokens({ index: 3, inputLength: 10, hashIds: [] })).toHaveLength(10);
  });

  it('honours another trace block size', () => {
    const p = promptTokens({ index: 0, inputLength: 32, hashIds: ['1', '2'] }, { traceBlockSize: 16 });
    expect(p).toEqual([...blockTokens('1', 16), ...blockTokens('2', 16)]);
  });
});

describe('output tokens and prompt text', () => {
  it('output tokens depend on (seed, request, position)', () => {
    expect(outputToken(0, 1, 2)).toBe(outputToken(0, 1, 2));
    const set = new Set([outputToken(0, 1, 2), outputToken(0, 1, 3), outputToken(0, 2, 2), outputToken(1, 1, 2)]);
    expect(set.size).toBe(4);
  });

  it('prompt text: same tokens → same text, capped at maxChars', () => {
    const p = promptTokens({ index: 0, inputLength: 2048, hashIds: ['1', '2', '3', '4'] });
    const text = renderPromptText(p);
    expect(text).toHaveLength(2048);
    expect(renderPromptText(p)).toBe(text);
    expect(renderPromptText([1, 35, 36])).toBe('t1 tz t10 ');
    expect(renderPromptText(promptTokens({ index: 0, inputLength: 2048, hashIds: ['9'] })).slice(0, 256)).not.toBe(text.slice(0, 256));
  });
});
