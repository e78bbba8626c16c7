/** Graceful drain (what SIGTERM triggers): stop accepting, finish in-flight streams, then close. */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startFleet, startWorkers, type Fleet } from './helpers/fleet.js';
import { waitFor } from './helpers/wait.js';

let fleet: Fleet | null = null;
afterEach(async () => {
  await Promise.all(fleet?.workers.map((w) => w.close()) ?? []);
  fleet = null;
});

describe('gateway drain', () => {
  it('lets an in-flight stream finish, refuses new work, and resolves once idle', async () => {
    fleet = await startFleet(await startWorkers(1, { speedup: 4 }), { drainTimeout: 20_000 });
    const gw = fleet.gateway;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'drain me' }], max_tokens: 60, ignore_eos: true, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming);
    let tokens = 0;
    const consumed = (async () => {
      for await (const c of stream) if (c.choices[0]?.delta.content) tokens++;
    })();
    await waitFor(() => tokens >= 2, { what: 'the stream to start' });
    const url = gw.url;
    const drained = gw.drain();
    // New connections are refused once draining began.
    const refused = await fetch(`${url}/v1/models`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(refused === 'refused' || refused === 503).toBe(true);
    await consumed;
    expect(tokens).toBe(60);
    await drained;
  });

  it('cuts streams that outlive the drain deadline', async () => {
    fleet = await startFleet(await startWorkers(1, { speedup: 1 }), {});
    const gw = fleet.gateway;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'long' }], max_tokens: 5000, ignore_eos: true, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming);
    let tokens = 0;
    const consumed = (async () => {
      for await (const c of stream) if (c.choices[0]?.delta.content) tokens++;
    })().catch(() => 'cut');
    await waitFor(() => tokens >= 1, { what: 'the stream to start' });
    const t0 = performance.now();
    await gw.drain(300);
    expect(performance.now() - t0).toBeLessThan(5000);
    await consumed;
    expect(tokens).toBeLessThan(5000);
    await waitFor(() => fleet!.workers[0]!.core.getStats().running === 0, { what: 'the backend to drop the cut stream' });
  });
});
