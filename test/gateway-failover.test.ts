/**
 * Gateway failure acceptance tests, against simulated workers with fault knobs:
 * a backend killed under load, a stalled backend, client disconnects, a 500-ing backend ejected
 * and readmitted, and least_request load following backend speed.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimWorker } from '../src/engines/index.js';
import { startFleet, startWorkers, type Fleet } from './helpers/fleet.js';
import { metricValue, waitFor } from './helpers/wait.js';

let fleet: Fleet | null = null;
afterEach(async () => {
  await fleet?.close().catch(() => undefined);
  fleet = null;
});

const sdk = (f: Fleet) => new OpenAI({ baseURL: `${f.gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });

const FAST_HEALTH = {
  circuit: { consecutiveFailures: 3, openDuration: 300, maxOpenDuration: 1000 },
  outlier: { consecutive5xx: 3, baseEjectionTime: 400, maxEjectionTime: 1000, maxEjectionPercent: 50 },
  active: { interval: 100, timeout: 200, unhealthyThreshold: 1, healthyThreshold: 1 },
  slowStart: { duration: 200 },
};

interface Outcome {
  ok: boolean;
  started: boolean;
  backend: string | null;
  error?: string;
}

async function streamOnce(client: OpenAI, i: number): Promise<Outcome> {
  let started = false;
  let backend: string | null = null;
  try {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'm1', messages: [{ role: 'user', content: `load ${i}` }], max_tokens: 40, ignore_eos: true, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)
      .withResponse();
    started = true;
    backend = response.headers.get('x-switchyard-backend');
    let n = 0;
    for await (const c of stream) if (c.choices[0]?.delta.content) n++;
    return { ok: n === 40, started, backend, error: n === 40 ? undefined : `only ${n} tokens` };
  } catch (e) {
    return { ok: false, started, backend, error: String(e) };
  }
}

describe('gateway failover', () => {
  it('a backend killed under steady load: every request that had not started streaming still succeeds', async () => {
    // Lenient active checks: everything here shares one event loop, so a busy loop must not read as a dead backend.
    fleet = await startFleet(await startWorkers(3), { health: { ...FAST_HEALTH, active: { interval: 200, timeout: 2000, unhealthyThreshold: 2 } } });
    const client = sdk(fleet);
    const outcomes: Outcome[] = [];
    let killed = false;
    let stop = false;
    const loop = async (k: number) => {
      for (let i = 0; !stop; i++) outcomes.push(await streamOnce(client, k * 1000 + i));
    };
    const loops = Array.from({ length: 8 }, (_, k) => loop(k));
    await waitFor(() => outcomes.length >= 20, { what: 'warm-up requests', timeoutMs: 20_000 });
    const victim = fleet.workers[1]!;
    await victim.close();
    killed = true;
    const atKill = outcomes.length;
    await waitFor(() => outcomes.length >= atKill + 40, { what: 'requests after the kill', timeoutMs: 20_000 });
    stop = true;
    await Promise.all(loops);
    expect(killed).toBe(true);
    const failedBeforeStreaming = outcomes.filter((o) => !o.ok && !o.started);
    expect(failedBeforeStreaming, JSON.stringify(failedBeforeStreaming.slice(0, 3))).toEqual([]);
    // Failures, if any, are streams that were already running on the killed backend.
    for (const o of outcomes.filter((x) => !x.ok)) expect(o.backend).toBe('w1');
    const after = outcomes.slice(atKill + 8);
    expect(after.every((o) => o.ok)).toBe(true);
    expect(after.some((o) => o.backend === 'w1')).toBe(false);
  });

  it('a backend that stalls before the first token is abandoned and the request retried elsewhere', async () => {
    const workers = await startWorkers(2);
    workers[0]!.setFaults({ stallBeforeFirstTokenMs: 30_000 });
    fleet = await startFleet(workers, { timeouts: { firstByte: 300 }, models: [{ name: 'm1', profile: 'round_robin', endpoints: workers.map((w, i) => ({ id: `w${i}`, url: w.url })) }] });
    const client = sdk(fleet);
    const results = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const t0 = performance.now();
        const { data, response } = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: `stall ${i}` }], max_tokens: 3 }).withResponse();
        return { ms: performance.now() - t0, backend: response.headers.get('x-switchyard-backend'), attempts: response.headers.get('x-switchyard-attempts'), content: data.choices[0]!.message.content };
      }),
    );
    for (const r of results) {
      expect(r.backend).toBe('w1');
      expect(r.content).toBeTruthy();
      expect(r.ms).toBeLessThan(10_000);
    }
    expect(results.some((r) => r.attempts === '2')).toBe(true);
    const text = await (await fetch(`${fleet.gateway.url}/metrics`)).text();
    expect(metricValue(text, 'switchyard_retries_total', { reason: 'timeout' })).toBeGreaterThanOrEqual(1);
  });

  it('a client disconnect aborts the upstream request: the backend stops generating', async () => {
    fleet = await startFleet(await startWorkers(1, { speedup: 5 }));
    const worker = fleet.workers[0]!;
    const ac = new AbortController();
    const stream = await sdk(fleet).chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'long' }], max_tokens: 10_000, ignore_eos: true, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming, { signal: ac.signal });
    let n = 0;
    for await (const c of stream) {
      if (c.choices[0]?.delta.content && ++n === 3) break;
    }
    expect(worker.core.getStats().running).toBe(1);
    ac.abort();
    await waitFor(() => worker.core.getStats().running === 0, { what: 'the backend to drop the request', timeoutMs: 5000 });
    const generated = worker.core.getStats().generationTokens;
    expect(generated).toBeLessThan(10_000);
  });

  it('a backend returning 500s is ejected, then brought back after it recovers', async () => {
    const workers = await startWorkers(2);
    const bad = workers[0]!;
    bad.setFaults({ errorRate: 1 });
    fleet = await startFleet(workers, { health: FAST_HEALTH, models: [{ name: 'm1', profile: 'round_robin', endpoints: workers.map((w, i) => ({ id: `w${i}`, url: w.url })) }] });
    const client = sdk(fleet);
    const served: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { response } = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: `x${i}` }], max_tokens: 2 }).withResponse();
      served.push(response.headers.get('x-switchyard-backend')!);
    }
    expect(served.every((b) => b === 'w1')).toBe(true);
    const state = async () => ((await (await fetch(`${fleet!.gateway.url}/debug/routing`)).json()) as { models: { m1: { endpoints: { id: string; healthy: boolean }[] } } }).models.m1.endpoints;
    expect((await state()).find((e) => e.id === 'w0')!.healthy).toBe(false);
    const metrics = await (await fetch(`${fleet.gateway.url}/metrics`)).text();
    expect(metricValue(metrics, 'switchyard_upstream_circuit_state', { backend: 'w0' })).toBeGreaterThanOrEqual(1);
    // Recovery: the backend heals; after its ejection / open period it is readmitted and serves again.
    bad.setFaults({ errorRate: 0 });
    await waitFor(async () => {
      const { response } = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'probe' }], max_tokens: 2 }).withResponse();
      return response.headers.get('x-switchyard-backend') === 'w0';
    }, { what: 'w0 back in rotation', timeoutMs: 10_000, intervalMs: 50 });
    expect((await state()).find((e) => e.id === 'w0')!.healthy).toBe(true);
  });

  it('least_request across 4 workers of different speeds: the load follows speed', async () => {
    // Engine time must dominate the in-process HTTP overhead for speed to be what differs.
    const speeds = [1, 2, 4, 8];
    const workers = await startWorkers(4, (i) => ({ speedup: speeds[i] }));
    fleet = await startFleet(workers, { models: [{ name: 'm1', profile: 'least_request', endpoints: workers.map((w: SimWorker, i) => ({ id: `w${i}`, url: w.url })) }] });
    const client = sdk(fleet);
    const counts = new Map<string, number>();
    let next = 0;
    const total = 160;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < total) {
          next++;
          const { response } = await client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: `q${next}` }], max_tokens: 32, ignore_eos: true } as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse();
          const b = response.headers.get('x-switchyard-backend')!;
          counts.set(b, (counts.get(b) ?? 0) + 1);
        }
      }),
    );
    const c = ['w0', 'w1', 'w2', 'w3'].map((id) => counts.get(id) ?? 0);
    expect(c.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(total);
    // Faster workers finish sooner, so least_request sends them more: the fastest gets clearly
    // more than the slowest, and the order is monotone across the 2× speed steps.
    expect(c[3]!).toBeGreaterThan(c[0]! * 2);
    expect(c[2]!).toBeGreaterThan(c[0]!);
    expect(c[3]!).toBeGreaterThan(c[1]!);
  });
});
