import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { createMetricsRegistry } from '../observability/index.js';
import type { EndpointView } from '../router/index.js';
import type { Inbound } from './inbound.js';
import { GatewayMetrics } from './metrics.js';
import type { ProxyRuntime } from './ports.js';
import { StreamRelayer } from './respond.js';
import { RequestSignal, UpstreamResponse, Upstreams } from './upstream.js';

const ev = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
const ROLE = ev({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
const tok = (t: string): string => ev({ choices: [{ index: 0, delta: { content: t } }] });
const USAGE = ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
const DONE = 'data: [DONE]\n\n';

const gates = new Map<string, () => void>();
const upstreamClosed = new Set<string>();

/** The backend: SSE whose shape the path picks; `/gated*` waits after the role chunk until the test opens the gate. */
async function upstreamHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  for await (const chunk of req) void chunk;
  const path = req.url ?? '';
  res.on('close', () => upstreamClosed.add(path));
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(ROLE);
  if (path.startsWith('/gated')) await new Promise<void>((r) => gates.set(path, r));
  if (path === '/hang') return;
  res.write(tok('a') + tok('b'));
  if (path === '/nodone') return void res.end(USAGE);
  res.end(USAGE + DONE);
}

interface Seen {
  done: number;
  health: string[];
  inb: Inbound;
  signal: RequestSignal;
}

describe('StreamRelayer', () => {
  let upstream: Server;
  let front: Server;
  let upstreamUrl = '';
  let frontUrl = '';
  const upstreams = new Upstreams({ connect: 2000, firstByte: 5000, idle: 5000 });
  const metrics = new GatewayMetrics(createMetricsRegistry());
  const seen = new Map<string, Seen>();
  const rt = {
    metrics,
    health: {
      recordSuccess: (id: string) => seen.get(id)!.health.push('success'),
      recordFailure: (id: string, kind: string) => seen.get(id)!.health.push(`failure ${kind}`),
    },
    load: { end: () => undefined },
  } as unknown as ProxyRuntime;

  /** The gateway side, reduced to the relay: the test's path names the upstream path, `?strip` strips usage. */
  async function frontHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const chunk of req) void chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const id = url.pathname;
    const inb = { model: 'm', t0: performance.now(), stripUsage: url.searchParams.has('strip'), outcome: 0, streamedTokens: 0, usage: null } as unknown as Inbound;
    const signal = new RequestSignal();
    const s: Seen = { done: 0, health: [], inb, signal };
    seen.set(id, s);
    const up = new UpstreamResponse();
    signal.upstream = up;
    upstreams.post(upstreamUrl, id, {}, '{}', up);
    await up.started();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.on('close', () => {
      if (!res.writableFinished) signal.abort(new SwitchyardError('invalid_request', 'client disconnected'));
    });
    const owner = { get aborted() { return signal.aborted; }, relayDone: () => s.done++ };
    new StreamRelayer(rt, inb, { id } as EndpointView, up, res, owner).start();
  }

  beforeAll(async () => {
    upstream = createServer((req, res) => void upstreamHandler(req, res));
    front = createServer((req, res) => void frontHandler(req, res));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await upstreams.close();
    for (const s of [front, upstream]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  /** POST to the front; resolves with the response, its body text growing in `body.text`. */
  function open(path: string): Promise<{ res: IncomingMessage; body: { text: string; ended: Promise<void> } }> {
    return new Promise((resolve, reject) => {
      const req = request(`${frontUrl}${path}`, { method: 'POST' }, (res) => {
        const body = { text: '', ended: new Promise<void>((r) => res.on('end', r)) };
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body.text += d));
        resolve({ res, body });
      });
      req.on('error', reject);
      req.end('{}');
    });
  }

  const until = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
    expect(cond()).toBe(true);
  };

  it('relays the bytes as they come (the client sees the stream open before the first token), and accounts the stream', async () => {
    const { body } = await open('/gated');
    await until(() => body.text === ROLE);
    gates.get('/gated')!();
    await body.ended;
    expect(body.text).toBe(ROLE + tok('a') + tok('b') + USAGE + DONE);
    const s = seen.get('/gated')!;
    expect(s.done).toBe(1);
    expect(s.health).toEqual(['success']);
    expect(s.inb.streamedTokens).toBe(2);
    expect(s.inb.usage).toEqual({ promptTokens: 3, completionTokens: 2, cachedTokens: 0 });
    expect(s.inb.outcome).toBe(0);
  });

  it('cuts the usage chunk when the gateway added include_usage', async () => {
    const { body } = await open('/plain?strip');
    await body.ended;
    expect(body.text).toBe(ROLE + tok('a') + tok('b') + DONE);
    expect(seen.get('/plain')!.inb.usage?.completionTokens).toBe(2);
  });

  it('a stream that ends without [DONE] gets an error event and counts against the backend', async () => {
    const { body } = await open('/nodone');
    await body.ended;
    expect(body.text.startsWith(ROLE + tok('a') + tok('b') + USAGE)).toBe(true);
    expect(body.text).toContain('The backend ended the stream early.');
    const s = seen.get('/nodone')!;
    expect(s.inb.outcome).toBe('truncated');
    expect(s.health).toEqual(['failure reset']);
    expect(s.done).toBe(1);
  });

  it('a client that goes away aborts the upstream exchange', async () => {
    const { res, body } = await open('/hang');
    await until(() => body.text === ROLE);
    res.destroy();
    await until(() => upstreamClosed.has('/hang') && seen.get('/hang')!.done === 1);
    expect(seen.get('/hang')!.inb.outcome).toBe('client_closed');
  });
});
