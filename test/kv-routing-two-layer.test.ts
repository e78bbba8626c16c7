/**
 * Two-layer routing through the live gateway: 4 `worker sim` engines in 2 clusters (eu, us),
 * KV events on, `clusterProfile: cluster_score` then the `default` profile inside the cluster.
 * A conversation's later turns go to the cluster and the engine holding its prefix (the route
 * header names the cluster and the cached blocks); when that cluster's engines all fail, the turn
 * is served by the other cluster.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimWorker } from '../src/engines/index.js';
import { Gateway, loadGatewayConfig } from '../src/gateway/index.js';
import { kvPrefixHashes } from '../src/router/index.js';
import { waitFor } from './helpers/wait.js';
import { primeKvEvents } from './helpers/kv.js';

const MODEL = 'chat-2l';
const CLUSTERS = ['eu', 'eu', 'us', 'us'];
let workers: SimWorker[] = [];
let gateway: Gateway;
let client: OpenAI;

beforeAll(async () => {
  workers = await Promise.all(CLUSTERS.map((_, i) => SimWorker.start({ model: MODEL, port: 0, speedup: 20, seed: i, kvEventsEndpoint: 'tcp://127.0.0.1:*', kvEventsReplayEndpoint: 'tcp://127.0.0.1:*' })));
  const config = loadGatewayConfig({
    object: {
      listen: { port: 0 },
      models: [{ name: MODEL, tokenizer: 'sim', clusterProfile: 'cluster_score', endpoints: workers.map((w, i) => ({ id: `${CLUSTERS[i]}-${i}`, url: w.url, labels: { cluster: CLUSTERS[i]! }, kvEvents: { endpoint: w.kvEventsEndpoint, replayEndpoint: w.kvEventsReplayEndpoint } })) }],
    },
  });
  gateway = await Gateway.start({ config });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  await gateway.kv.ready('sim');
  await primeKvEvents(workers, MODEL, (_, i) => (gateway.kv.subscriberStats()[`${CLUSTERS[i]}-${i}`]?.received ?? 0) > 0, { what: (_, i) => `KV events from worker ${i}` });
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all(workers.map((w) => w.close()));
});

describe('two-layer routing (cluster, then engine) through the live gateway', () => {
  it('later turns stay on the cluster and engine holding the prefix; a failed cluster hands over to the other', async () => {
    type Msg = { role: 'system' | 'user' | 'assistant'; content: string };
    const messages: Msg[] = [{ role: 'system', content: `You plan multi-city trips across Europe. ${'Prefer trains, list connections and prices. '.repeat(12)}` }, { role: 'user', content: 'Paris to Vienna in two days?' }];
    const turn = async () => {
      const { data, response } = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16 }, { headers: { 'x-session-id': 'trip-1' } }).withResponse();
      messages.push({ role: 'assistant', content: data.choices[0]!.message.content ?? '' });
      return { backend: response.headers.get('x-switchyard-backend')!, cluster: response.headers.get('x-switchyard-cluster')!, route: response.headers.get('x-switchyard-route')! };
    };
    const first = await turn();
    expect(first.route).toMatch(/^cluster_score->default; cluster (eu|us) \(/);
    for (const q of ['And then Budapest?', 'What about night trains?']) {
      messages.push({ role: 'user', content: q });
      // Wait until the engine's KV events for the previous prompt are indexed.
      const tok = await gateway.kv.ready('sim');
      const hashes = kvPrefixHashes(tok.tokens('chat', { messages: messages.slice(0, 2) })!, gateway.kv.index.blockSize);
      await waitFor(() => (gateway.kv.index.lookup(hashes).get(first.backend) ?? 0) >= hashes.length / 2, { what: 'the first prompt to be indexed' });
      const t = await turn();
      expect(t.cluster, t.route).toBe(first.cluster);
      expect(t.backend, t.route).toBe(first.backend);
      expect(t.route).toMatch(new RegExp(`cluster ${first.cluster} \\(`));
      expect(Number(/\((\d+)\/\d+ cached/.exec(t.route)?.[1] ?? 0), t.route).toBeGreaterThan(0);
    }
    // The whole cluster fails (both engines answer 503): the next turn is served by the other.
    const home = CLUSTERS.map((c, i) => (c === first.cluster ? i : -1)).filter((i) => i >= 0);
    for (const i of home) await fetch(`${workers[i]!.url}/sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 1, errorStatus: 503 }) });
    messages.push({ role: 'user', content: 'Any strikes planned?' });
    const moved = await turn();
    expect(moved.cluster).not.toBe(first.cluster);
    for (const i of home) await fetch(`${workers[i]!.url}/sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 0 }) });
  }, 60_000);
});
