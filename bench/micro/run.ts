/**
 * Micro-benchmarks of the hot-path building blocks (no network): routing decisions, request
 * validation, SSE parsing, Prometheus scrape parsing, KV-event decoding, the engine model on
 * the virtual clock, and cluster prefix summaries (build, lookup, decode). `npm run bench:micro [-- --json] [-- --write]`.
 */
import { SimWorker, buildEngineConfig, EngineCore, EngineRunner } from '../../src/engines/index.js';
import { VirtualClock } from '../../src/core/index.js';
import { decodeKvEventBatch, encodeKvEventBatch, type KvCacheEvent } from '../../src/kvevents/index.js';
import { parsePrometheusText } from '../../src/observability/index.js';
import { ChatCompletionRequest, parseRequest, SseParser } from '../../src/openai/index.js';
import { compileProfiles, KvBlockIndex, kvPrefixHashes, PrefixSummary, Router, routerTesting } from '../../src/router/index.js';
import { machineInfo, machineLine } from '../common/machine.js';
import { BENCHMARKS_DOC, writeSection } from '../common/doc-section.js';

interface Row {
  name: string;
  unit: string;
  median: number;
  best: number;
  note: string;
}

/** Run `fn` (which does `ops` operations) in batches; report per-op µs (best and median). */
function timeIt(fn: () => void, ops: number, batches = 15): { best: number; median: number } {
  for (let i = 0; i < 3; i++) fn();
  const runs: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    fn();
    runs.push(((performance.now() - t0) * 1000) / ops);
  }
  runs.sort((a, b) => a - b);
  return { best: runs[0]!, median: runs[runs.length >> 1]! };
}

function routerRows(): Row[] {
  const { makeContext, makeEndpoint, scrapedLoad } = routerTesting;
  const router = new Router(compileProfiles({ three: { scorers: [{ type: 'queue_depth', weight: 2 }, { type: 'kv_usage' }, { type: 'least_request' }] } }));
  const rows: Row[] = [];
  for (const n of [8, 64]) {
    const eps = Array.from({ length: n }, (_, i) => makeEndpoint(`w${i}`, { load: scrapedLoad(i % 5, i % 3, (i % 10) / 10, { inFlight: i % 7 }) }));
    const ctx = makeContext({ headers: { 'x-session-id': 'abc' }, random: 7 });
    for (const p of ['three', 'default', 'least_request', 'power_of_two', 'consistent_hash']) {
      const iters = 4000;
      const t = timeIt(() => {
        for (let i = 0; i < iters; i++) {
          eps[i % n]!.load.inFlight = i % 11;
          router.route(p, ctx, eps);
        }
      }, iters);
      rows.push({ name: `route() profile '${p}', ${n} endpoints`, unit: 'µs/decision', ...t, note: p === 'three' && n === 8 ? 'target < 5 µs' : '' });
    }
  }
  return rows;
}

function validationRow(): Row {
  const body = {
    model: 'm',
    messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello there, how are you today?' }, { role: 'assistant', content: 'Fine.' }],
    max_tokens: 128,
    temperature: 0.7,
    stream: true,
    stream_options: { include_usage: true },
  };
  const t = timeIt(() => {
    for (let i = 0; i < 1000; i++) parseRequest(ChatCompletionRequest, body);
  }, 1000);
  return { name: 'parseRequest(ChatCompletionRequest), 3 messages', unit: 'µs/request', ...t, note: '' };
}

function sseRow(): Row {
  const ev = 'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}]}\n\n';
  const chunk = Buffer.from(ev.repeat(100));
  const t = timeIt(() => {
    const p = new SseParser();
    for (let i = 0; i < 20; i++) p.feed(chunk);
  }, 2000);
  return { name: 'SseParser.feed, vLLM-sized chunk events', unit: 'µs/event', ...t, note: `${ev.length} B/event` };
}

async function prometheusRow(): Promise<Row> {
  const w = await SimWorker.start({ model: 'bench', port: 0, speedup: 100 });
  for (let i = 0; i < 3; i++) await fetch(`${w.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bench', prompt: `hi ${i}`, max_tokens: 4 }) });
  const page = await (await fetch(`${w.url}/metrics`)).text();
  await w.close();
  const samples = [...parsePrometheusText(page).values()].reduce((s, v) => s + v.length, 0);
  const t = timeIt(() => {
    for (let i = 0; i < 50; i++) parsePrometheusText(page);
  }, 50);
  const wanted = new Set(['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc']);
  const tf = timeIt(() => {
    for (let i = 0; i < 50; i++) parsePrometheusText(page, { include: (n) => wanted.has(n) });
  }, 50);
  return { name: `parsePrometheusText, a worker sim /metrics page (${samples} samples, ${page.length} B)`, unit: 'µs/page', ...t, note: `filtered to the 3 load metrics: median ${tf.median.toFixed(1)} µs` };
}

function kvDecodeRows(): Row[] {
  const events: KvCacheEvent[] = Array.from({ length: 1000 }, (_, i) => ({ type: 'BlockStored', blockHashes: [BigInt(i) * 0x9e3779b97f4a7c15n % (1n << 64n)], parentBlockHash: i === 0 ? null : BigInt(i - 1), tokenIds: Array.from({ length: 16 }, (_, k) => i * 16 + k), blockSize: 16, loraId: null, medium: 'GPU', loraName: null }));
  return (['map', 'array'] as const).map((enc) => {
    const bytes = encodeKvEventBatch({ ts: 1.5, events }, enc);
    const t = timeIt(() => {
      for (let i = 0; i < 5; i++) decodeKvEventBatch(bytes);
    }, 5000);
    return { name: `decodeKvEventBatch, ${enc} encoding (BlockStored, 1 hash + 16 tokens)`, unit: 'µs/event', ...t, note: `${(1 / t.median).toFixed(2)} M events/s` };
  });
}

function engineRow(): Row {
  let tokens = 0;
  const run = (): void => {
    const clock = new VirtualClock();
    const { config, perf } = buildEngineConfig({ model: 'llama-3.1-8b', gpu: 'H100', emitKvEvents: false });
    const runner = new EngineRunner(new EngineCore(config, perf), clock);
    for (let r = 0; r < 200; r++) {
      const prompt = Array.from({ length: 512 }, (_, k) => 1 + ((r % 20) * 512 + k));
      runner.submit({ id: `r${r}`, promptTokenIds: prompt, maxTokens: 128, ignoreEos: true, nextToken: (i) => 100 + i, onFinish: (f) => void (tokens += f.outputTokens) });
    }
    clock.runUntilIdle();
  };
  const t = timeIt(run, 200 * 128, 5);
  return { name: 'engine model on the virtual clock (200 requests × 512 prompt / 128 output, H100)', unit: 'µs/output token', ...t, note: `${(1 / t.median).toFixed(2)} M simulated tokens/s of CPU (${tokens} tokens over all runs)` };
}

/**
 * A cluster agent's summary work: build a PrefixSummary (64 KiB cap) from its KvBlockIndex, and
 * the gateway's side: decode it once per change, then one heldBlocks per two-layer decision.
 * The index holds documents of 500 blocks (16 tokens) sharing a 20-block system prompt.
 */
function prefixSummaryRows(): Row[] {
  const rows: Row[] = [];
  const BS = 16;
  const docTokens = (d: number): number[] => Array.from({ length: 500 * BS }, (_, i) => (i < 20 * BS ? 1 + i : 100_000 + d * 10_000 + i));
  for (const blocks of [50_000, 400_000]) {
    const index = new KvBlockIndex({ blockSize: BS, expectedBlocks: blocks + 1000 });
    const docs = Math.ceil(blocks / 480);
    for (let d = 0; d < docs; d++) {
      const tokens = docTokens(d);
      index.blockStored(`w${d % 8}`, { blockHashes: Array.from({ length: 500 }, (_, i) => BigInt(d * 1000 + i + 1)), parentBlockHash: null, tokenIds: tokens, blockSize: BS, loraId: null });
    }
    let summary = PrefixSummary.build(index);
    const tb = timeIt(() => void (summary = PrefixSummary.build(index)), 1, 7);
    const held = index.stats().blocks;
    rows.push({ name: `PrefixSummary.build from a KvBlockIndex of ${held} distinct blocks (8 workers)`, unit: 'ms/build', median: tb.median / 1000, best: tb.best / 1000, note: `${summary.byteLength} B, level ${summary.sampleShift} (1 in ${2 ** summary.sampleShift} blocks), ${summary.entries} checkpoints, expected FP ${(summary.falsePositiveRate * 100).toFixed(2)}%` });
    const prompt = kvPrefixHashes([...docTokens(3), ...Array.from({ length: 12 * BS }, (_, i) => 7 + i)], BS);
    let sink = 0;
    const iters = 2000;
    const tl = timeIt(() => {
      for (let i = 0; i < iters; i++) sink += summary.heldBlocks(prompt);
    }, iters);
    if (sink < 0) throw new Error('unreachable'); // keeps the loop from being optimised away
    rows.push({ name: `PrefixSummary.heldBlocks, 512-block prompt (500 held), summary of ${held} blocks`, unit: 'µs/lookup', ...tl, note: `answers ${summary.heldBlocks(prompt)} blocks (exact: 500)` });
    const bytes = summary.encode();
    const td = timeIt(() => {
      for (let i = 0; i < 20; i++) PrefixSummary.decode(bytes);
    }, 20);
    rows.push({ name: `PrefixSummary.decode, ${bytes.length} B`, unit: 'µs/decode', ...td, note: 'once per changed summary, at the gateway' });
  }
  return rows;
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const rows: Row[] = [...routerRows(), validationRow(), sseRow(), await prometheusRow(), ...kvDecodeRows(), engineRow(), ...prefixSummaryRows()];
  const m = machineInfo();
  if (args.has('--json')) {
    process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), machine: m, rows })}\n`);
  } else {
    for (const r of rows) console.log(`${r.name.padEnd(90)} median ${r.median.toFixed(3).padStart(9)} ${r.unit}  best ${r.best.toFixed(3)}  ${r.note}`);
  }
  if (args.has('--write')) {
    const table = ['| what | median | best | unit | note |', '|---|---|---|---|---|', ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(3)} | ${r.best.toFixed(3)} | ${r.unit} | ${r.note} |`)].join('\n');
    writeSection(BENCHMARKS_DOC, `## Micro-benchmarks (bench/micro)\n\nDate: ${new Date().toISOString().slice(0, 10)}. Machine: ${machineLine(m)}. Command: \`npm run bench:micro -- --write\`.\n\nEach row is timed in 15 batches (5 for the engine); best and median of the per-operation time. These numbers replace timing assertions in tests: tests check behaviour, this file tracks speed.\n\n${table}`);
  }
}

await main();
