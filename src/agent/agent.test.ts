import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyResource, ApiWatchEvent, ResourceOf, DeploymentResource, FunctionResource, Heartbeat } from '../api/index.js';
import { SwitchyardError, VirtualClock } from '../core/index.js';
import { ClusterAgent, httpHealthProbe, type AgentClient, type Probe } from './agent.js';
import type { GpuDiscovery } from './gpus.js';

type Beat = Heartbeat & { intervalMs?: number };

/** A fake admin API: records heartbeats; `down` makes every call fail like a refused connection. */
class FakeClient implements AgentClient {
  beats: { cluster: string; hb: Beat }[] = [];
  down = false;
  listFails = false;
  resources: AnyResource[] = [];
  gate: Promise<void> | undefined;
  async heartbeat(cluster: string, hb: Beat): Promise<void> {
    if (this.gate) await this.gate;
    if (this.down) throw new SwitchyardError('unavailable', 'cannot reach the Switchyard server at http://127.0.0.1:1 (ECONNREFUSED)');
    this.beats.push({ cluster, hb });
  }
  async list<K extends 'Deployment' | 'Function'>(kind: K): Promise<{ items: ResourceOf<K>[] }> {
    if (this.down) throw new SwitchyardError('unavailable', 'cannot reach the Switchyard server');
    if (this.listFails && kind === 'Deployment') throw new SwitchyardError('forbidden', 'agent tokens may not list deployments');
    return { items: this.resources.filter((r): r is ResourceOf<K> => r.kind === kind) };
  }
}

function capture() {
  const lines: { level: string; msg: string }[] = [];
  const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines, at: (level: string) => lines.filter((l) => l.level === level).map((l) => l.msg) };
}

const declared: GpuDiscovery = { gpus: [{ type: 'A100', count: 8, memoryMiB: 81920 }], source: 'declared', simulated: true };

function setup(opts: { probe?: Probe } = {}) {
  const clock = new VirtualClock();
  const client = new FakeClient();
  const log = capture();
  let registered = 0;
  const agent = new ClusterAgent({ cluster: 'east', client, clock, gpus: declared, logger: log.logger, agentVersion: '9.9.9', nodeName: 'node-a', onRegistered: () => registered++, ...opts });
  return { clock, client, log, agent, registered: () => registered };
}

/** Advance virtual time and let the heartbeat that the timer started finish. */
async function advance(clock: VirtualClock, agent: ClusterAgent, ms: number): Promise<void> {
  clock.advance(ms);
  await agent.idle();
}

describe('ClusterAgent', () => {
  it('heartbeats immediately, then every interval', async () => {
    const { clock, client, agent, registered } = setup();
    await agent.start();
    expect(client.beats).toHaveLength(1);
    expect(registered()).toBe(1);
    const first = client.beats[0]!;
    expect(first.cluster).toBe('east');
    expect(first.hb).toMatchObject({ agentVersion: '9.9.9', simulated: true, intervalMs: 10_000, endpoints: [] });
    expect(first.hb.nodes).toEqual([expect.objectContaining({ name: 'node-a', source: 'declared', gpus: [{ type: 'A100', count: 8, memoryMiB: 81920, inUse: 0 }] })]);

    await advance(clock, agent, 9_999);
    expect(client.beats).toHaveLength(1);
    await advance(clock, agent, 1);
    expect(client.beats).toHaveLength(2);
    await advance(clock, agent, 10_000);
    expect(client.beats).toHaveLength(3);
    expect(registered()).toBe(1);
    await agent.stop();
    await advance(clock, agent, 60_000);
    expect(client.beats).toHaveLength(3);
  });

  it('survives an outage: warns once, retries every tick, reports recovery', async () => {
    const { clock, client, agent, log } = setup();
    await agent.start();
    client.down = true;
    for (let i = 0; i < 5; i++) await advance(clock, agent, 10_000);
    expect(client.beats).toHaveLength(1);
    expect(log.at('warn')).toEqual(['heartbeat failed; retrying every 10s']);
    expect(log.at('debug').filter((m) => m === 'heartbeat failed again')).toHaveLength(4);
    client.down = false;
    await advance(clock, agent, 10_000);
    expect(client.beats).toHaveLength(2);
    expect(log.at('info')).toContain('control plane reachable again');
    // A second outage is reported again.
    client.down = true;
    await advance(clock, agent, 10_000);
    expect(log.at('warn')).toHaveLength(2);
    await agent.stop();
  });

  it('registers only once the control plane is reachable', async () => {
    const { clock, client, agent, registered, log } = setup();
    client.down = true;
    await agent.start();
    expect(registered()).toBe(0);
    expect(agent.isRegistered).toBe(false);
    client.down = false;
    await advance(clock, agent, 10_000);
    expect(registered()).toBe(1);
    expect(log.at('info')).toEqual(['registered with the control plane']);
    await agent.stop();
  });

  it("reports the health of this cluster's replica endpoints and the GPUs its ready replicas use", async () => {
    const probed: string[] = [];
    const probe: Probe = async (url) => {
      probed.push(url);
      if (url.endsWith(':9001')) return { healthy: true };
      if (url.endsWith(':9002')) throw new Error('boom');
      return { healthy: false, message: 'HTTP 503: loading' };
    };
    const { client, agent } = setup({ probe });
    client.resources = [fn('llama', 2), dep('llama-east', 'llama', 'east', [['ready', 'http://127.0.0.1:9001'], ['ready', 'http://127.0.0.1:9003'], ['starting', 'http://127.0.0.1:9002'], ['stopped', 'http://127.0.0.1:9004']]), dep('llama-west', 'llama', 'west', [['ready', 'http://127.0.0.1:9100']])];
    await agent.start();
    const hb = client.beats[0]!.hb;
    expect(probed.sort()).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002', 'http://127.0.0.1:9003']);
    expect(hb.endpoints).toEqual([
      { url: 'http://127.0.0.1:9001', healthy: true },
      { url: 'http://127.0.0.1:9003', healthy: false, message: 'HTTP 503: loading' },
      { url: 'http://127.0.0.1:9002', healthy: false, message: 'boom' },
    ]);
    // two ready replicas × 2 GPUs
    expect(hb.nodes[0]!.gpus[0]!.inUse).toBe(4);
    await agent.stop();
  });

  it('still heartbeats when listing Deployments is refused, and warns once', async () => {
    const { clock, client, agent, log } = setup();
    client.listFails = true;
    await agent.start();
    await advance(clock, agent, 10_000);
    expect(client.beats).toHaveLength(2);
    expect(log.at('warn')).toEqual(['cannot list Deployments; endpoint health and GPU use are not reported']);
    client.listFails = false;
    await advance(clock, agent, 10_000);
    expect(log.at('info')).toContain('listing Deployments works again');
    await agent.stop();
  });

  it('stop() waits for the heartbeat in flight; ticks during it are skipped', async () => {
    const { clock, client, agent } = setup();
    let release!: () => void;
    client.gate = new Promise<void>((r) => (release = r));
    const started = agent.start();
    clock.advance(30_000); // three ticks while the first heartbeat hangs
    let stopped = false;
    const stopping = agent.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await stopping;
    await started;
    expect(client.beats).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});

/** A FakeClient that can also watch: events pushed with `emit` reach the open watch. */
class WatchingClient extends FakeClient {
  lists = 0;
  watches = 0;
  private queue: ApiWatchEvent[] = [];
  private wake: (() => void) | undefined;
  override async list<K extends 'Deployment' | 'Function'>(kind: K): Promise<{ items: ResourceOf<K>[]; resourceVersion: string }> {
    this.lists++;
    return { ...(await super.list(kind)), resourceVersion: '1' };
  }
  get pending(): number {
    return this.queue.length;
  }
  emit(type: ApiWatchEvent['type'], object: AnyResource): void {
    this.queue.push({ type, resourceVersion: String(2 + this.queue.length), object });
    this.wake?.();
  }
  async *watch(opts: { signal?: AbortSignal; onOpen?: () => void }): AsyncGenerator<ApiWatchEvent> {
    this.watches++;
    opts.onOpen?.();
    const aborted = new Promise<void>((r) => opts.signal?.addEventListener('abort', () => r(), { once: true }));
    while (!opts.signal?.aborted) {
      const ev = this.queue.shift();
      if (ev) {
        yield ev;
        continue;
      }
      await Promise.race([new Promise<void>((r) => (this.wake = r)), aborted]);
    }
  }
}

describe('ClusterAgent with a client that can watch', () => {
  it('follows Deployments through the watch stream: heartbeats use what it delivered, without listing again', async () => {
    const clock = new VirtualClock();
    const client = new WatchingClient();
    client.resources = [fn('llama', 1), dep('llama-east', 'llama', 'east', [['ready', 'http://127.0.0.1:9001']])];
    const probed: string[] = [];
    const agent = new ClusterAgent({ cluster: 'east', client, clock, gpus: declared, logger: capture().logger, agentVersion: '9.9.9', probe: async (url) => (probed.push(url), { healthy: true }) });
    await agent.start();
    await waitUntil(() => client.watches === 1, 'the watch to open');
    const listed = client.lists; // the first heartbeat's listing and the follower's

    client.emit('ADDED', dep('llama-east-2', 'llama', 'east', [['ready', 'http://127.0.0.1:9002']]));
    client.emit('ADDED', dep('llama-west', 'llama', 'west', [['ready', 'http://127.0.0.1:9100']]));
    client.emit('DELETED', dep('llama-east', 'llama', 'east', []));
    await waitUntil(() => client.pending === 0, 'the events to be consumed');
    probed.length = 0;
    await advance(clock, agent, 10_000);
    expect(client.beats.at(-1)!.hb.endpoints).toEqual([{ url: 'http://127.0.0.1:9002', healthy: true }]);
    expect(client.beats.at(-1)!.hb.nodes[0]!.gpus[0]!.inUse).toBe(1);
    expect(probed).toEqual(['http://127.0.0.1:9002']);
    expect(client.lists).toBe(listed);
    await agent.stop();
  });
});

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('httpHealthProbe (real HTTP on 127.0.0.1)', () => {
  const server = createServer((req, res) => {
    if (req.url === '/ok/health') res.end('{"status":"ok"}');
    else {
      res.statusCode = 503;
      res.end('loading');
    }
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('2xx is healthy; other statuses and refused connections are not', async () => {
    expect(await httpHealthProbe(`${base}/ok/`)).toEqual({ healthy: true });
    expect(await httpHealthProbe(`${base}/busy`)).toEqual({ healthy: false, message: 'HTTP 503: loading' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await httpHealthProbe(`http://127.0.0.1:${port}`, 1_000);
    expect(r.healthy).toBe(false);
    expect(r.message).toMatch(/ECONNREFUSED/);
  });
});

function fn(name: string, gpus: number): FunctionResource {
  return {
    apiVersion: 'switchyard.dev/v1',
    kind: 'Function',
    metadata: meta(name),
    spec: { model: 'meta-llama/Llama-3.1-8B-Instruct', runtime: 'sim', resources: { gpu: { type: 'A100', count: gpus }, tensorParallelSize: 1 }, scaling: { minReplicas: 1, maxReplicas: 2, metric: 'queue_depth', target: 4 }, routing: { profile: 'default', sessionAffinity: true }, targetClusters: [], args: [], env: {} },
  };
}

function dep(name: string, fnName: string, cluster: string, replicas: [string, string][]): DeploymentResource {
  return {
    apiVersion: 'switchyard.dev/v1',
    kind: 'Deployment',
    metadata: meta(name),
    spec: { function: fnName, cluster },
    status: {
      phase: 'Degraded',
      desiredReplicas: replicas.length,
      readyReplicas: replicas.filter(([s]) => s === 'ready').length,
      replicas: replicas.map(([state, endpoint], index) => ({ index, id: `${name}-${index}`, state: state as 'ready', endpoint, restarts: 0 })),
      conditions: [],
      events: [],
      observedGeneration: 1,
    },
  };
}

function meta(name: string) {
  return { name, labels: {}, annotations: {}, uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', updateTimestamp: '2026-01-01T00:00:00Z' };
}
