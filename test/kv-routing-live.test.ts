/**
 * Exact KV-aware routing, live: 4 `worker sim` engines publishing vLLM KV events over ZMQ, a
 * gateway subscribed to all of them (tokenizing prompts with the simulator's tokenizer and chat
 * template), and a multi-turn conversation through the official openai SDK.
 *
 * - every turn after the first goes to the backend whose KV cache holds the conversation's
 *   prefix, and the x-switchyard-route header says how many prompt blocks were cached there;
 * - that backend is killed mid-conversation: the next turn is served elsewhere, and the session
 *   moves (the following turn stays on the new backend, with its prefix cached);
 * - a sequence gap injected into one engine's event stream is repaired through the replay socket,
 *   and the index then holds the blocks the gap would have lost.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimWorker } from '../src/engines/index.js';
import { Gateway, loadGatewayConfig } from '../src/gateway/index.js';
import { kvPrefixHashes } from '../src/router/index.js';
import { metricValue, waitFor } from './helpers/wait.js';
import { primeKvEvents } from './helpers/kv.js';

const MODEL = 'chat-sim';
const SYSTEM = `You are the support assistant of a railway company. ${'Answer questions about timetables, tickets, delays, refunds, seat reservations, bicycles on trains and accessibility. '.repeat(6)}`;

let workers: SimWorker[] = [];
let gateway: Gateway;
let client: OpenAI;
const closed = new Set<number>();

type Msg = { role: 'system' | 'user' | 'assistant'; content: string };

beforeAll(async () => {
  workers = await Promise.all(
    [0, 1, 2, 3].map((i) => SimWorker.start({ model: MODEL, port: 0, speedup: 20, seed: i, kvEventsEndpoint: 'tcp://127.0.0.1:*', kvEventsReplayEndpoint: 'tcp://127.0.0.1:*' })),
  );
  const config = loadGatewayConfig({
    object: {
      listen: { port: 0 },
      models: [{ name: MODEL, tokenizer: 'sim', endpoints: workers.map((w, i) => ({ id: `w${i}`, url: w.url, kvEvents: { endpoint: w.kvEventsEndpoint, replayEndpoint: w.kvEventsReplayEndpoint } })) }],
    },
  });
  gateway = await Gateway.start({ config });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  await gateway.kv.ready('sim');
  // ZMQ subscriptions join asynchronously: one request straight to each engine, until every
  // subscriber has seen that engine's events.
  await primeKvEvents(workers, MODEL, (_, i) => (gateway.kv.subscriberStats()[`w${i}`]?.received ?? 0) > 0, { timeoutMs: 10_000, what: (_, i) => `KV events from w${i}` });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.filter((_, i) => !closed.has(i)).map((w) => w.close()));
});

/** Leading blocks of `messages`' prompt that backend `id` holds, per the gateway's index. */
async function heldBlocks(id: string, messages: Msg[]): Promise<{ held: number; blocks: number }> {
  const tok = await gateway.kv.ready('sim');
  const hashes = kvPrefixHashes(tok.tokens('chat', { messages })!, gateway.kv.index.blockSize);
  return { held: gateway.kv.index.lookup(hashes).get(id) ?? 0, blocks: hashes.length / 2 };
}

async function turn(messages: Msg[], session: string): Promise<{ backend: string; route: string; reply: string; attempts: string | null }> {
  const { data, response } = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 24 }, { headers: { 'x-session-id': session } }).withResponse();
  return { backend: response.headers.get('x-switchyard-backend')!, route: response.headers.get('x-switchyard-route')!, reply: data.choices[0]!.message.content ?? '', attempts: response.headers.get('x-switchyard-attempts') };
}

/** "prefill_cost 12.0 blocks (9/14 cached)" → 9 */
const cachedIn = (route: string): number => Number(/\((\d+)\/\d+ cached/.exec(route)?.[1] ?? NaN);

describe('exact KV-aware routing through the gateway (live engines, ZMQ KV events)', () => {
  it('routes every later turn to the backend holding the prefix, follows a kill, and repairs a gap by replay', async () => {
    const messages: Msg[] = [{ role: 'system', content: SYSTEM }];
    const say = (text: string) => messages.push({ role: 'user', content: text });

    // Turn 1: nobody holds the prefix.
    say('My train to Lyon was cancelled. What now?');
    let sent = [...messages]; // the prompt the engine prefilled last (the reply re-tokenizes differently)
    const first = await turn(messages, 'conv-1');
    expect(cachedIn(first.route)).toBe(0);
    let home = first.backend;
    messages.push({ role: 'assistant', content: first.reply });

    // Turns 2–4: the KV index (fed by the engine's events) holds the conversation so far.
    for (const q of ['Can I get a refund?', 'And for the return trip?', 'How long does it take?']) {
      say(q);
      const prev = sent;
      const want = await waitFor(async () => {
        const h = await heldBlocks(home, prev);
        return h.held === h.blocks ? h : undefined;
      }, { what: `${home} to hold the previous prompt` });
      sent = [...messages];
      const r = await turn(messages, 'conv-1');
      expect(r.backend, r.route).toBe(home);
      expect(r.route).toMatch(/^default; /);
      expect(cachedIn(r.route), r.route).toBeGreaterThanOrEqual(want.blocks - 1);
      messages.push({ role: 'assistant', content: r.reply });
    }

    // Kill the backend that holds the conversation.
    const dead = Number(home.slice(1));
    await workers[dead]!.close();
    closed.add(dead);
    say('Is there a bus replacement?');
    sent = [...messages];
    const moved = await turn(messages, 'conv-1');
    expect(moved.backend).not.toBe(home);
    messages.push({ role: 'assistant', content: moved.reply });
    const from = home;
    home = moved.backend;

    // The pin went with it: the next turn stays on the new backend, its prefix cached there.
    say('Thanks. One more question about bicycles.');
    const prev = sent;
    await waitFor(async () => {
      const h = await heldBlocks(home, prev);
      return h.held === h.blocks;
    }, { what: `${home} to hold the previous prompt` });
    const after = await turn(messages, 'conv-1');
    expect(after.backend, after.route).toBe(home);
    expect(after.backend).not.toBe(from);
    expect(cachedIn(after.route)).toBeGreaterThan(0);
    messages.push({ role: 'assistant', content: after.reply });

    // Inject a sequence gap on the current backend: its next 2 event batches skip the PUB socket
    // (they stay in its replay buffer). The gateway notices the gap at the next batch and replays.
    const w = workers[Number(home.slice(1))]!;
    const gapsBefore = gateway.kv.subscriberStats()[home]!.gapsRepaired;
    const put = await fetch(`${w.url}/sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dropKvEventBatches: 2 }) });
    expect(put.status).toBe(200);
    say('Can I bring a folding bike on the TGV?');
    sent = [...messages];
    const gapTurn = await turn(messages, 'conv-1');
    expect(gapTurn.backend).toBe(home);
    messages.push({ role: 'assistant', content: gapTurn.reply });
    // A later batch (any request to that engine) reveals the gap; replay fills it.
    let tick = 0;
    await waitFor(
      async () => {
        // A fresh prompt of several full blocks: its BlockStored events make a new batch.
        await fetch(`${w.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: `tick ${tick++} `.repeat(20), max_tokens: 1 }) });
        return gateway.kv.subscriberStats()[home]!.gapsRepaired > gapsBefore;
      },
      { what: 'the gap to be repaired by replay' },
    );
    expect(gateway.kv.subscriberStats()[home]!.gapsUnrepaired).toBe(0);
    const whole = await heldBlocks(home, sent);
    expect(whole.held).toBe(whole.blocks); // the prompt's new blocks were in the skipped batches: they came back by replay
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metricValue(text, 'switchyard_kv_event_gaps_total', { backend: home, repaired: 'true' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'switchyard_kvindex_blocks', { backend: home })).toBeGreaterThan(0);
    expect(metricValue(text, 'switchyard_kvindex_bytes_per_block')).toBeGreaterThan(0);
  }, 60_000);
});
