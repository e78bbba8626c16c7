import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../openai/index.js';
import { readRequestBody, requestIdOf } from './inbound.js';

type Reader = (req: IncomingMessage, max: number) => Promise<Buffer>;

/** A server that reads each request body with `reader` and reports what it got. */
let port = 0;
let reader: Reader = readRequestBody;
let max = 64;
const results: { ok: boolean; value: string; listeners: number[] }[] = [];
const server = createServer((req, res) => {
  reader(req, max).then(
    (b) => {
      results.push({ ok: true, value: b.toString(), listeners: ['data', 'end', 'close', 'error'].map((e) => req.listenerCount(e)) });
      res.end('ok');
    },
    (e: unknown) => {
      const err = e as { code?: string; message?: string };
      results.push({ ok: false, value: `${err.code}: ${err.message}`, listeners: [] });
      if (!res.headersSent && !res.destroyed) res.end('err');
    },
  );
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function send(chunks: string[], headers: Record<string, string> = {}, abortAfter = false): Promise<void> {
  return new Promise((resolve) => {
    const q = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (r) => {
      r.resume();
      r.on('end', () => resolve());
    });
    q.on('error', () => resolve());
    for (const c of chunks) q.write(c);
    if (abortAfter) setTimeout(() => q.destroy(), 50);
    else q.end();
    if (abortAfter) setTimeout(resolve, 300);
  });
}

async function outcomes(chunks: string[], headers: Record<string, string> = {}, abortAfter = false): Promise<{ ok: boolean; value: string }[]> {
  const out: { ok: boolean; value: string }[] = [];
  for (const r of [readBody, readRequestBody] as Reader[]) {
    reader = r;
    results.length = 0;
    await send(chunks, headers, abortAfter);
    for (let i = 0; i < 20 && results.length === 0; i++) await new Promise((x) => setTimeout(x, 20));
    out.push({ ok: results[0]!.ok, value: results[0]!.value });
  }
  return out;
}

describe('readRequestBody (openai readBody without the listeners left behind)', () => {
  it('reads what readBody reads', async () => {
    const [a, b] = await outcomes(['{"model":', '"m"}']);
    expect(b).toEqual(a);
    expect(b!.value).toBe('{"model":"m"}');
    const [c, d] = await outcomes([]);
    expect(d).toEqual(c);
  });

  it('rejects what readBody rejects, with the same error', async () => {
    max = 8;
    try {
      const [a, b] = await outcomes(['0123456789abc']);
      expect(b).toEqual(a);
      expect(b!.value).toMatch(/^payload_too_large: The request body exceeds the limit of 8 bytes\.$/);
      const [c, d] = await outcomes(['0123'], { 'content-length': '100' }, true);
      expect(d).toEqual(c);
      expect(d!.ok).toBe(false);
    } finally {
      max = 64;
    }
    const [e, f] = await outcomes(['{"partial'], { 'content-length': '50' }, true);
    expect(f).toEqual(e);
    expect(f!.value).toMatch(/^invalid_request: The request body could not be read/);
  });

  it('leaves no listener but a shared error guard on the request once the body is read', async () => {
    reader = readRequestBody;
    results.length = 0;
    await send(['{"a":1}']);
    expect(results[0]!.listeners).toEqual([0, 0, 0, 1]);
  });
});

describe('requestIdOf', () => {
  it('keeps a sane client id and makes one otherwise', () => {
    const req = (id?: string) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as unknown as IncomingMessage;
    expect(requestIdOf(req('abc-123'))).toBe('abc-123');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(201), 'ünï']) expect(requestIdOf(req(bad))).toMatch(/^req-[0-9a-zA-Z]+-[0-9a-z]+$/);
    expect(requestIdOf(req())).not.toBe(requestIdOf(req()));
  });
});
