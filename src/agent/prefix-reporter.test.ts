/**
 * PrefixReporter (and the agent wiring it): KV events from a real publisher over TCP loopback
 * become a summary that is PUT when it changes, re-sent on a VirtualClock schedule, retried after
 * a failure, and emptied when the replica goes away.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyResource, PrefixSummaryPut, ResourceOf } from '../api/index.js';
import { SwitchyardError, VirtualClock } from '../core/index.js';
import { KvEventPublisher, type KvEventBatch } from '../kvevents/index.js';
import { createNullLogger } from '../observability/index.js';
import { kvPrefixHashes, PrefixSummary } from '../router/index.js';
import { waitFor } from '../../test/helpers/wait.js';
import { ClusterAgent } from './agent.js';
import { PrefixReporter } from './prefix-reporter.js';

const BS = 16;
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

class FakeCp {
  puts: PrefixSummaryPut[] = [];
  down = false;
  async putPrefixSummary(_cluster: string, body: PrefixSummaryPut): Promise<void> {
    if (this.down) throw new SwitchyardError('unavailable', 'cannot reach the Switchyard server');
    this.puts.push(body);
  }
  last(): PrefixSummary {
    return PrefixSummary.decode(Buffer.from(this.puts.at(-1)!.summary, 'base64'));
  }
}

async function publisher(): Promise<KvEventPublisher> {
  const p = await KvEventPublisher.create({ endpoint: 'tcp://127.0.0.1:*', replayEndpoint: 'tcp://127.0.0.1:*' });
  cleanup.push(() => p.close());
  return p;
}

const prompt = (salt: number, blocks: number): number[] => Array.from({ length: blocks * BS }, (_, i) => salt * 10_000 + i);
const stored = (tokens: number[], first: bigint): KvEventBatch => ({
  ts: 1,
  events: [{ type: 'BlockStored', blockHashes: Array.from({ length: tokens.length / BS }, (_, i) => first + BigInt(i)), parentBlockHash: null, tokenIds: tokens, blockSize: BS, loraId: null, medium: 'GPU', loraName: null }],
});

/** Publish until the reporter's index has `backend` (ZMQ subscriptions join asynchronously). */
async function feed(pub: KvEventPublisher, r: PrefixReporter, backend: string, batch: KvEventBatch, blocks: number): Promise<void> {
  await waitFor(() => {
    pub.publish(batch);
    return (r.index.stats().perBackend.find((b) => b.id === backend)?.blocks ?? 0) >= blocks;
  }, { what: `${backend}'s blocks in the agent's index` });
}

function reporter(cp: FakeCp, clock = new VirtualClock()): PrefixReporter {
  const r = new PrefixReporter({ cluster: 'eu', client: cp, clock, logger: createNullLogger('t'), refreshMs: 10_000 });
  cleanup.push(() => r.stop());
  return r;
}

describe('PrefixReporter', () => {
  it('reports what the replicas hold when it changes, re-sends it every refresh, and forgets a replica that left', async () => {
    const clock = new VirtualClock();
    const cp = new FakeCp();
    const r = reporter(cp, clock);
    await r.report();
    expect(cp.puts).toHaveLength(1);
    expect(cp.last().blocks).toBe(0);
    await r.report();
    expect(cp.puts).toHaveLength(1); // unchanged

    const pub = await publisher();
    r.sync(new Map([['eu-0', { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint }]]));
    await r.report(); // a new replica is reported before any of its events
    expect(cp.puts.at(-1)!.backends).toEqual(['eu-0']);
    const tokens = prompt(1, 6);
    await feed(pub, r, 'eu-0', stored(tokens, 100n), 6);
    await r.report();
    expect(cp.puts).toHaveLength(3);
    expect(cp.puts[2]).toMatchObject({ backends: ['eu-0'], intervalMs: 10_000 });
    expect(cp.last().heldBlocks(kvPrefixHashes(tokens, BS))).toBe(6);
    expect(cp.last().heldBlocks(kvPrefixHashes(prompt(2, 6), BS))).toBe(0);

    clock.advance(9_999);
    await r.report();
    expect(cp.puts).toHaveLength(3);
    clock.advance(1);
    await r.report();
    expect(cp.puts).toHaveLength(4); // the refresh
    expect(cp.puts[3]!.summary).toBe(cp.puts[2]!.summary);

    r.sync(new Map());
    await r.report();
    expect(cp.puts).toHaveLength(5);
    expect(cp.puts[4]!.backends).toEqual([]);
    expect(cp.last().blocks).toBe(0);
  });

  it('retries a failed report at the next tick and warns once per outage', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s).msg) });
    const cp = new FakeCp();
    const clock = new VirtualClock();
    const r = new PrefixReporter({ cluster: 'eu', client: cp, clock, logger, intervalMs: 100 });
    cleanup.push(() => r.stop());
    cp.down = true;
    r.start();
    for (let i = 0; i < 3; i++) {
      await r.idle();
      clock.advance(100);
    }
    await r.idle();
    expect(cp.puts).toHaveLength(0);
    expect(lines.filter((l) => /cannot report the prefix summary/.test(l))).toHaveLength(1);
    cp.down = false;
    clock.advance(100);
    await r.idle();
    expect(cp.puts).toHaveLength(1);
    expect(lines).toContain('prefix summary reported again');
    expect(r.sent).toBe(1);
  });
});

describe('ClusterAgent with prefix summaries', () => {
  it("subscribes to its own cluster's ready replicas with KV events, found at each heartbeat", async () => {
    const pub = await publisher();
    const replica = (id: string, state: string) => ({ index: 0, id, state, endpoint: 'http://127.0.0.1:1', kvEvents: { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint }, restarts: 0 });
    const dep = (name: string, cluster: string, replicas: object[]) => ({ kind: 'Deployment', metadata: { name }, spec: { cluster, function: 'f' }, status: { replicas } }) as unknown as AnyResource;
    const cp = new FakeCp();
    const client = Object.assign(cp, {
      heartbeat: async () => undefined,
      list: async <K extends 'Deployment' | 'Function'>(kind: K) => ({ items: (kind === 'Deployment' ? [dep('f-eu', 'eu', [replica('eu-0', 'ready'), replica('eu-1', 'starting')]), dep('f-us', 'us', [replica('us-0', 'ready')])] : []) as ResourceOf<K>[] }),
    });
    const clock = new VirtualClock();
    const agent = new ClusterAgent({ cluster: 'eu', client, clock, gpus: { gpus: [], source: 'declared', simulated: true }, logger: createNullLogger('agent'), probe: async () => ({ healthy: true }) });
    cleanup.push(() => agent.stop());
    await agent.start();
    expect(Object.keys(agent.prefixes!.subscriberStats())).toEqual(['eu-0']);
    const tokens = prompt(3, 4);
    await feed(pub, agent.prefixes!, 'eu-0', stored(tokens, 500n), 4);
    clock.advance(1000);
    await agent.prefixes!.idle();
    expect(cp.last().heldBlocks(kvPrefixHashes(tokens, BS))).toBe(4);
    expect(cp.puts.at(-1)!.intervalMs).toBe(agent.intervalMs);
  });

  it('is off with prefixSummaries: false, or when the client cannot report them', () => {
    const client = { heartbeat: async () => undefined, list: async () => ({ items: [] }) };
    const base = { cluster: 'eu', clock: new VirtualClock(), gpus: { gpus: [], source: 'declared' as const, simulated: true }, logger: createNullLogger('agent') };
    expect(new ClusterAgent({ ...base, client }).prefixes).toBeUndefined();
    expect(new ClusterAgent({ ...base, client: { ...client, putPrefixSummary: async () => undefined }, prefixSummaries: false }).prefixes).toBeUndefined();
  });
});
