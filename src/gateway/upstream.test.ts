import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { classifyError, RequestSignal, UpstreamResponse, Upstreams, type BodySink } from './upstream.js';

/** Scripted upstream: the path picks the behaviour; `release` lets a test continue a paused response. */
const gates = new Map<string, () => void>();
const closed = new Set<string>();
const gate = (name: string): Promise<void> => new Promise((r) => gates.set(name, r));

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  for await (const _ of req);
  const path = req.url ?? '';
  res.on('close', () => closed.add(path));
  res.writeHead(path === '/err' ? 503 : 200, { 'content-type': 'text/plain' });
  switch (path) {
    case '/chunks':
      res.write('a');
      await gate(path);
      res.write('b');
      return void res.end('c');
    case '/big':
      return void res.end('x'.repeat(100_000));
    case '/reset':
      res.write('a');
      await gate(path);
      return void res.socket?.destroy();
    case '/hang':
      res.write('a');
      return; // until the client goes away
    case '/flood':
      for (let i = 0; i < 64; i++) if (!res.write(Buffer.alloc(64 * 1024, 0x61))) await new Promise((r) => res.once('drain', r));
      return void res.end();
    default:
      return void res.end('whole');
  }
}

class Sink implements BodySink {
  chunks: string[] = [];
  ended = false;
  failure: Error | null = null;
  private waiters: (() => void)[] = [];
  data(c: Buffer): void {
    this.chunks.push(c.toString());
    this.wake();
  }
  end(): void {
    this.ended = true;
    this.wake();
  }
  error(e: Error): void {
    this.failure = e;
    this.wake();
  }
  /** Resolves once `cond` holds (checked after every callback). */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

describe('UpstreamResponse (an undici dispatch handler)', () => {
  let server: Server;
  let origin = '';
  let up: Upstreams;

  beforeAll(async () => {
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    up = new Upstreams({ connect: 2000, firstByte: 5000, idle: 5000 });
  });

  afterAll(async () => {
    await up.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const post = (path: string): UpstreamResponse => {
    const r = new UpstreamResponse();
    up.post(origin, path, { 'content-type': 'application/json' }, '{}', r);
    return r;
  };

  it('collects a whole body, with the status and headers first', async () => {
    const r = post('/whole');
    await r.started();
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain');
    expect((await r.collect(1024)).toString()).toBe('whole');
    const e = post('/err');
    await e.started();
    expect(e.statusCode).toBe(503);
    expect((await e.collect(1024)).toString()).toBe('whole');
  });

  it('a body over the limit rejects with upstream_error and drops the connection', async () => {
    const r = post('/big');
    await r.started();
    const err = await r.collect(1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchyardError);
    expect((err as SwitchyardError).message).toMatch(/larger than 1000 bytes/);
  });

  it('pipes what arrived before pipe() first, then each chunk as it comes, then the end', async () => {
    const r = post('/chunks');
    await r.started();
    const sink = new Sink();
    r.pipe(sink);
    await sink.until(() => sink.chunks.join('') === 'a');
    gates.get('/chunks')!();
    await sink.until(() => sink.ended);
    expect(sink.chunks.join('')).toBe('abc');
    expect(sink.failure).toBeNull();
  });

  it('a connection reset mid-body reaches the sink as an error (classified as a reset)', async () => {
    const r = post('/reset');
    await r.started();
    const sink = new Sink();
    r.pipe(sink);
    await sink.until(() => sink.chunks.length > 0);
    gates.get('/reset')!();
    await sink.until(() => sink.failure !== null);
    expect(sink.ended).toBe(false);
    expect(classifyError(sink.failure).kind).toBe('reset');
  });

  it('aborting through the request signal cancels a stream: the sink hears the reason, the backend sees the close', async () => {
    const signal = new RequestSignal();
    const r = post('/hang');
    signal.upstream = r;
    await r.started();
    const sink = new Sink();
    r.pipe(sink);
    await sink.until(() => sink.chunks.length > 0);
    const reason = new SwitchyardError('invalid_request', 'client disconnected');
    signal.abort(reason);
    expect(sink.failure).toBe(reason);
    for (let i = 0; i < 500 && !closed.has('/hang'); i++) await new Promise((res) => setImmediate(res));
    expect(closed.has('/hang')).toBe(true);
  });

  it('an abort before undici has a connection rejects started() at once with the reason', async () => {
    const r = post('/whole');
    const reason = new Error('gone');
    r.abort(reason);
    await expect(r.started()).rejects.toBe(reason);
  });

  it('pause() stops reading until resume(): nothing is lost', async () => {
    const r = post('/flood');
    await r.started();
    let bytes = 0;
    let ended = false;
    let paused = false;
    r.pipe({
      data(c) {
        bytes += c.length;
        if (!paused && bytes < 1024 * 1024) {
          paused = true;
          r.pause();
          setImmediate(() => {
            paused = false;
            r.resume();
          });
        }
      },
      end() {
        ended = true;
      },
      error(e) {
        throw e;
      },
    });
    for (let i = 0; i < 5000 && !ended; i++) await new Promise((res) => setImmediate(res));
    expect(ended).toBe(true);
    expect(bytes).toBe(64 * 64 * 1024);
  });
});
