/**
 * Two-layer routing on agents' prefix summaries, live and in-process: a control plane, a gateway
 * following it (as `switchyard up` wires them), two clusters (eu, us) of two `worker sim` engines
 * each publishing KV events, and one ClusterAgent per cluster subscribed to its own engines'
 * events and reporting a prefix summary through the admin API. The Function says
 * `routing.clusterKv: summary`, so the cluster layer reads only the agents' summaries (the route
 * header says `kv summary H/N`); the worker layer inside the cluster uses the gateway's exact index.
 *
 * - a prompt cached on one engine behind the gateway's back (sent to it directly, so no session
 *   pin or learned prefix knows it) is routed to that engine's cluster, on its summary alone;
 * - a conversation's later turns go to the cluster (and engine) holding its prefix;
 * - the control plane reports the size of each cluster's summary (switchyard_prefix_summary_bytes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterAgent } from '../src/agent/index.js';
import { API_VERSION, SwitchyardClient } from '../src/api/index.js';
import { ControlPlane, handleAdminRequest } from '../src/control/index.js';
import { createNullLogger, createMetricsRegistry } from '../src/observability/index.js';
import { RealClock } from '../src/core/index.js';
import { SimWorker } from '../src/engines/index.js';
import { ControlPlaneTable, Gateway, loadGatewayConfig } from '../src/gateway/index.js';
import { StaticProvider, type ReplicaStatus } from '../src/providers/index.js';
import { kvPrefixHashes } from '../src/router/index.js';
import { metricValue, waitFor } from './helpers/wait.js';
import { primeKvEvents } from './helpers/kv.js';

const MODEL = 'chat-summaries';
const CLUSTERS = ['eu', 'eu', 'us', 'us'] as const;

/** The static provider, with each endpoint's KV-event sockets in its replica status (as local sim replicas have). */
class KvStaticProvider extends StaticProvider {
  constructor(private readonly kv: ReadonlyMap<string, { endpoint: string; replayEndpoint: string }>) {
    super({ probeInterval: { starting: 50, ready: 1000 } });
  }
  override status(deployment: string): ReplicaStatus[] {
    return super.status(deployment).map((r) => ({ ...r, ...(r.endpoint && this.kv.has(r.endpoint) ? { kvEvents: this.kv.get(r.endpoint)! } : {}) }));
  }
}

let dir: string;
let workers: SimWorker[] = [];
let cp: ControlPlane;
let table: ControlPlaneTable;
let gateway: Gateway;
const agents: ClusterAgent[] = [];
const clients: SwitchyardClient[] = [];
let openai: OpenAI;

type Msg = { role: 'system' | 'user' | 'assistant'; content: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-summaries-'));
  workers = await Promise.all(CLUSTERS.map((_, i) => SimWorker.start({ model: MODEL, port: 0, speedup: 20, seed: i, kvEventsEndpoint: 'tcp://127.0.0.1:*', kvEventsReplayEndpoint: 'tcp://127.0.0.1:*' })));
  const kv = new Map(workers.map((w) => [w.url, { endpoint: w.kvEventsEndpoint!, replayEndpoint: w.kvEventsReplayEndpoint! }]));
  const metrics = createMetricsRegistry();
  cp = await ControlPlane.open({ dataDir: dir, providers: [new KvStaticProvider(kv)], metrics, resyncMs: 500 });
  table = new ControlPlaneTable({ token: cp.tokens.internalToken('gateway'), prefixSummaryIntervalMs: 100 });
  gateway = await Gateway.start({ config: loadGatewayConfig({ object: { listen: { port: 0 } } }), table, metricsRegistry: metrics, extraRoutes: (req, res) => handleAdminRequest(cp, req, res) });
  table.start(gateway.url);
  cp.start();
  const admin = new SwitchyardClient({ server: gateway.url, token: cp.tokens.internalToken('test') });
  clients.push(admin);
  const endpointsOf = (c: string) => workers.filter((_, i) => CLUSTERS[i] === c).map((w) => ({ url: w.url, model: MODEL }));
  await admin.apply([
    ...['eu', 'us'].map((c) => ({ apiVersion: API_VERSION, kind: 'Cluster', metadata: { name: c }, spec: { provider: 'static', static: { endpoints: endpointsOf(c) }, maxMissedHeartbeats: 20 } })),
    { apiVersion: API_VERSION, kind: 'Function', metadata: { name: 'chat' }, spec: { model: 'org/chat', runtime: 'sim', servedName: MODEL, targetClusters: ['eu', 'us'], routing: { profile: 'default', clusterProfile: 'cluster_score', clusterKv: 'summary' } } },
  ]);
  for (const c of ['eu', 'us']) {
    const client = new SwitchyardClient({ server: gateway.url, token: await cp.tokens.issueClusterToken(c), timeoutMs: 5000 });
    clients.push(client);
    const agent = new ClusterAgent({ cluster: c, client, clock: new RealClock(), heartbeatIntervalMs: 500, gpus: { gpus: [], source: 'declared', simulated: true }, logger: createNullLogger(`agent-${c}`), prefixSummaries: { intervalMs: 100 } });
    agents.push(agent);
    void agent.start();
  }
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  await waitFor(() => table.route(MODEL)?.endpoints.length === 4, { timeoutMs: 20_000, what: 'the 4 replicas in the gateway table' });
  await gateway.kv.ready('sim');
  // ZMQ subscriptions join asynchronously: poke each engine until its events reach the gateway and its cluster's agent.
  const ids = table.route(MODEL)!.endpoints.map((e) => ({ id: e.id, url: e.url, cluster: e.labels.cluster! }));
  await primeKvEvents(ids, MODEL, (e) => (gateway.kv.subscriberStats()[e.id]?.received ?? 0) > 0 && (agents[e.cluster === 'eu' ? 0 : 1]!.prefixes!.subscriberStats()[e.id]?.received ?? 0) > 0, {
    timeoutMs: 20_000,
    what: (e) => `KV events from ${e.id} at the gateway and the ${e.cluster} agent`,
  });
  await waitFor(() => table.prefixSummaryFeed?.summary('eu') && table.prefixSummaryFeed.summary('us'), { timeoutMs: 10_000, what: "both clusters' summaries at the gateway" });
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  await table?.stop();
  await gateway?.close();
  await cp?.close({ stopReplicas: true });
  for (const c of clients) await c.close();
  await Promise.all(workers.map((w) => w.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Prompt block hashes of a chat as the gateway tokenizes it. */
async function hashesOf(messages: Msg[]): Promise<Uint32Array> {
  const tok = await gateway.kv.ready('sim');
  return kvPrefixHashes(tok.tokens('chat', { messages })!, gateway.kv.index.blockSize);
}

/**
 * Wait until the gateway's copy of `cluster`'s summary holds a quarter of the chat's blocks, and
 * its own exact index has `backend` holding them (the worker layer's signal).
 */
async function summarised(cluster: string, backend: string, messages: Msg[]): Promise<void> {
  const hashes = await hashesOf(messages);
  await waitFor(() => (table.prefixSummaryFeed?.summary(cluster)?.heldBlocks(hashes) ?? 0) >= hashes.length / 4, { timeoutMs: 15_000, what: `${cluster}'s summary to hold the prompt` });
  await waitFor(() => (gateway.kv.index.lookup(hashes).get(backend) ?? 0) >= hashes.length / 4, { timeoutMs: 15_000, what: `the gateway's index to have ${backend} hold the prompt` });
}

async function turn(messages: Msg[]): Promise<{ backend: string; cluster: string; route: string }> {
  const { data, response } = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: 12 }).withResponse();
  messages.push({ role: 'assistant', content: data.choices[0]!.message.content ?? '' });
  return { backend: response.headers.get('x-switchyard-backend')!, cluster: response.headers.get('x-switchyard-cluster')!, route: response.headers.get('x-switchyard-route')! };
}

const heldIn = (route: string): number => Number(/kv summary (\d+)\/\d+/.exec(route)?.[1] ?? NaN);

describe('two-layer routing on agent prefix summaries (live engines, agents, control plane)', () => {
  it('routes a prompt cached behind the gateway\'s back to the cluster whose agent reported it', async () => {
    const messages: Msg[] = [{ role: 'system', content: `You review contracts for a shipping firm. ${'Flag liability caps, indemnities, governing law and termination clauses. '.repeat(10)}` }, { role: 'user', content: 'Here is clause 14.2.' }];
    const us1 = workers[3]!;
    const us1Id = table.route(MODEL)!.endpoints.find((e) => e.url === us1.url)!.id;
    const direct = await fetch(`${us1.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages, max_tokens: 1 }) });
    expect(direct.status).toBe(200);
    await summarised('us', us1Id, messages);
    messages.push({ role: 'user', content: 'And clause 15?' });
    const t = await turn(messages);
    expect(t.cluster, t.route).toBe('us');
    expect(t.route).toMatch(/^cluster_score->default; cluster us \(kv summary \d+\/\d+; /);
    expect(heldIn(t.route), t.route).toBeGreaterThan(0);
    expect(t.backend, t.route).toBe(us1Id);
  }, 60_000);

  it("sends a conversation's later turns to the cluster holding its prefix, and reports summary sizes", async () => {
    const messages: Msg[] = [{ role: 'system', content: `You plan multi-city trips across Europe. ${'Prefer trains, list connections and prices. '.repeat(12)}` }, { role: 'user', content: 'Paris to Vienna in two days?' }];
    const first = await turn(messages);
    expect(first.route).toMatch(/^cluster_score->default; cluster (eu|us) \(kv summary \d+\/\d+; /);
    for (const q of ['And then Budapest?', 'What about night trains?']) {
      await summarised(first.cluster, first.backend, messages);
      messages.push({ role: 'user', content: q });
      const t = await turn(messages);
      expect(t.cluster, t.route).toBe(first.cluster);
      expect(t.backend, t.route).toBe(first.backend);
      expect(heldIn(t.route), t.route).toBeGreaterThan(0);
      expect(t.route).not.toMatch(/kv (exact|summary\+exact)/);
    }
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    for (const c of ['eu', 'us']) {
      const bytes = metricValue(text, 'switchyard_prefix_summary_bytes', { cluster: c });
      expect(bytes).toBeGreaterThan(24);
      expect(bytes).toBeLessThanOrEqual(64 * 1024);
    }
  }, 60_000);
});
