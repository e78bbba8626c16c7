import { describe, expect, it } from 'vitest';
import { SwitchyardError, VirtualClock } from '../../../core/index.js';
import type { KvCacheEvent } from '../../../kvevents/index.js';
import { buildEngineConfig, type EngineOptions } from './build.js';
import { EngineCore } from './engine-core.js';
import { EngineRunner } from './runner.js';
import type { EngineRequest, FinishedRequest } from './types.js';

function setup(opts: Partial<EngineOptions> = {}) {
  const clock = new VirtualClock();
  const { config, perf } = buildEngineConfig({ model: 'llama-3.1-8b', gpu: 'A100', ...opts });
  const core = new EngineCore(config, perf);
  const events: KvCacheEvent[] = [];
  const runner = new EngineRunner(core, clock, { onKvEvents: (e) => events.push(...e) });
  const done = new Map<string, FinishedRequest>();
  const tokens = new Map<string, number[]>();
  const submit = (id: string, prompt: number[], extra: Partial<EngineRequest> = {}) =>
    runner.submit({
      id,
      promptTokenIds: prompt,
      maxTokens: 8,
      ignoreEos: true,
      nextToken: (i) => 1000 + i,
      onToken: (t) => void (tokens.get(id) ?? tokens.set(id, []).get(id)!).push(t),
      onFinish: (r) => void done.set(id, r),
      ...extra,
    });
  return { clock, core, runner, events, done, tokens, submit, config, perf };
}

const prompt = (n: number, base = 0) => Array.from({ length: n }, (_, i) => base + (i % 5000) + 1);
const ttft = (r: FinishedRequest) => r.firstTokenMs! - r.arrivalMs;

describe('EngineCore + EngineRunner on the virtual clock', () => {
  it('serves one request: TTFT is the prefill step, then one token per decode step', () => {
    const { clock, submit, done, tokens, perf } = setup();
    submit('a', prompt(1000), { maxTokens: 5 });
    clock.runUntilIdle();
    const r = done.get('a')!;
    expect(r.finishReason).toBe('length');
    expect(r.outputTokens).toBe(5);
    expect(tokens.get('a')).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(ttft(r)).toBeCloseTo(perf.prefillMs(1000), 6);
    // Prefill of 1000 tokens of an 8B model on an A100: ~100–250 ms by the roofline.
    expect(ttft(r)).toBeGreaterThan(50);
    expect(ttft(r)).toBeLessThan(300);
    const decode = (r.finishedMs - r.firstTokenMs!) / 4;
    expect(decode).toBeGreaterThan(8);
    expect(decode).toBeLessThan(16);
  });

  it('prefix caching: the same prompt again hits the cache, all but the last partial block, with lower TTFT', () => {
    const { clock, submit, done, core } = setup();
    submit('first', prompt(2000));
    clock.runUntilIdle();
    submit('second', prompt(2000));
    clock.runUntilIdle();
    const a = done.get('first')!;
    const b = done.get('second')!;
    expect(a.cachedTokens).toBe(0);
    expect(b.cachedTokens).toBe(Math.floor(1999 / 16) * 16);
    expect(ttft(b)).toBeLessThan(ttft(a) / 5);
    const s = core.getStats();
    expect(s.prefixQueriedTokens).toBe(4000);
    expect(s.prefixHitTokens).toBe(b.cachedTokens);
  });

  it('emits BlockStored events whose token_ids are the prompt blocks, chained by parent hash', () => {
    const { clock, submit, events } = setup();
    const p = prompt(100);
    submit('a', p, { maxTokens: 1 });
    clock.runUntilIdle();
    const stored = events.filter((e) => e.type === 'BlockStored');
    const hashes = stored.flatMap((e) => e.blockHashes);
    const toks = stored.flatMap((e) => e.tokenIds);
    expect(hashes).toHaveLength(6); // 100 tokens → 6 full blocks of 16
    expect(toks).toEqual(p.slice(0, 96));
    expect(stored[0]!.parentBlockHash).toBeNull();
    for (let i = 1; i < stored.length; i++) expect(stored[i]!.parentBlockHash).toBe(stored[i - 1]!.blockHashes.at(-1));
  });

  it('queues beyond max_num_seqs: waiting rises and later requests see higher TTFT', () => {
    const { clock, submit, done, core } = setup({ maxNumSeqs: 4 });
    for (let i = 0; i < 12; i++) submit(`r${i}`, prompt(200, i * 10_000), { maxTokens: 20 });
    // The first submit starts a step with one request; the rest join at the next step boundary.
    clock.step();
    expect(core.getStats().running).toBe(4);
    expect(core.getStats().waiting).toBe(8);
    clock.runUntilIdle();
    expect(done.size).toBe(12);
    const t = Array.from({ length: 12 }, (_, i) => ttft(done.get(`r${i}`)!));
    expect(t[11]).toBeGreaterThan(t[0]! * 3);
    expect(Math.max(...[...done.values()].map((r) => r.scheduledMs! - r.arrivalMs))).toBeGreaterThan(0);
  });

  it('chunked prefill: a prompt longer than max_num_batched_tokens takes several steps', () => {
    const { clock, submit, done, perf } = setup({ maxNumBatchedTokens: 512 });
    submit('long', prompt(2000), { maxTokens: 1 });
    clock.runUntilIdle();
    expect(ttft(done.get('long')!)).toBeGreaterThan(perf.prefillMs(2000)); // 4 chunks pay 4 overheads
  });

  it('a KV cache that is too small evicts (BlockRemoved) and preempts under pressure, yet finishes everything', () => {
    const { clock, submit, done, core, events } = setup({ numGpuBlocks: 40, maxNumSeqs: 16 });
    for (let i = 0; i < 8; i++) submit(`r${i}`, prompt(150, i * 10_000), { maxTokens: 100 });
    clock.runUntilIdle();
    expect(done.size).toBe(8);
    for (const r of done.values()) expect(r.outputTokens).toBe(100);
    const s = core.getStats();
    expect(s.preemptions).toBeGreaterThan(0);
    expect(s.evictions).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'BlockRemoved')).toBe(true);
    expect(s.kvUsage).toBe(0);
    expect(s.running + s.waiting).toBe(0);
  });

  it('aborting a running request frees its blocks and stops its tokens', () => {
    const { clock, submit, done, core, runner, tokens } = setup();
    submit('a', prompt(300), { maxTokens: 1000 });
    clock.advance(500);
    const before = tokens.get('a')!.length;
    expect(before).toBeGreaterThan(0);
    expect(core.getStats().kvUsage).toBeGreaterThan(0);
    expect(runner.abort('a')).toBe(true);
    clock.runUntilIdle();
    expect(done.get('a')!.finishReason).toBe('abort');
    expect(tokens.get('a')!.length).toBe(before);
    expect(core.getStats().kvUsage).toBe(0);
  });

  it('stops at the natural EOS unless ignore_eos, honours min_tokens, and a stop sequence', () => {
    const { clock, submit, done } = setup();
    submit('eos', prompt(50), { maxTokens: 100, ignoreEos: false, eosAt: 7 });
    submit('ignore', prompt(50, 7000), { maxTokens: 10, ignoreEos: true, eosAt: 3 });
    submit('min', prompt(50, 9000), { maxTokens: 100, ignoreEos: false, eosAt: 2, minTokens: 5 });
    submit('stopseq', prompt(50, 11000), { maxTokens: 100, onToken: (_t, i) => i === 3 });
    clock.runUntilIdle();
    expect(done.get('eos')).toMatchObject({ finishReason: 'stop', outputTokens: 7 });
    expect(done.get('ignore')).toMatchObject({ finishReason: 'length', outputTokens: 10 });
    expect(done.get('min')).toMatchObject({ finishReason: 'stop', outputTokens: 5 });
    expect(done.get('stopseq')).toMatchObject({ finishReason: 'stop', outputTokens: 4 });
  });

  it('rejects requests that exceed the context or can never fit the cache', () => {
    const { submit } = setup({ maxModelLen: 1000, numGpuBlocks: 20 });
    expect(() => submit('a', prompt(900), { maxTokens: 200 })).toThrow(/maximum context length is 1000 tokens/);
    expect(() => submit('b', prompt(300), { maxTokens: 50 })).toThrow(SwitchyardError);
    expect(() => submit('c', [], {})).toThrow(/empty/);
  });

  it('is deterministic: the same workload gives identical timings', () => {
    const run = () => {
      const { clock, submit, done } = setup({ maxNumSeqs: 8, numGpuBlocks: 200 });
      for (let i = 0; i < 30; i++) submit(`r${i}`, prompt(100 + i * 7, (i % 3) * 100_000), { maxTokens: 10 + i });
      clock.runUntilIdle();
      return [...done.values()].map((r) => [r.id, r.firstTokenMs, r.finishedMs, r.cachedTokens]);
    };
    expect(run()).toEqual(run());
  });

  it('models hardware: H100 is faster than A100, which is faster than L4; TP speeds up a 70B model', () => {
    const pf = (o: Partial<EngineOptions>) => buildEngineConfig({ model: 'llama-3.1-8b', ...o }).perf;
    expect(pf({ gpu: 'H100' }).prefillMs(2000)).toBeLessThan(pf({ gpu: 'A100' }).prefillMs(2000));
    expect(pf({ gpu: 'A100' }).decodeMs(8, 1000)).toBeLessThan(pf({ gpu: 'L4' }).decodeMs(8, 1000));
    const tp4 = buildEngineConfig({ model: 'llama-3.1-70b', gpu: 'H100', tensorParallelSize: 4 });
    const tp8 = buildEngineConfig({ model: 'llama-3.1-70b', gpu: 'H100', tensorParallelSize: 8 });
    expect(tp8.perf.decodeMs(1, 100)).toBeLessThan(tp4.perf.decodeMs(1, 100));
    expect(tp8.config.numGpuBlocks).toBeGreaterThan(tp4.config.numGpuBlocks);
    expect(() => buildEngineConfig({ model: 'llama-3.1-70b', gpu: 'H100', tensorParallelSize: 2 })).toThrow(/does not fit on 2× H100/);
    expect(() => buildEngineConfig({ model: 'llama-3.1-70b', gpu: 'L4' })).toThrow(/does not fit/);
  });
});
