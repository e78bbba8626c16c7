import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { readJsonBody, sendError, sendJson, startSse } from './http.js';
import { parseSse, SSE_HEADERS, sseData } from './sse.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = async (): Promise<void> => {
      if (req.url === '/echo') return sendJson(res, 200, { got: await readJsonBody(req, 64) });
      if (req.url === '/stream-then-fail' || req.url === '/raw-stream-then-fail') {
        if (req.url === '/stream-then-fail') startSse(res);
        else res.writeHead(200, SSE_HEADERS);
        res.write(sseData('{"n":1}'));
        throw new SwitchyardError('upstream_error', 'engine went away');
      }
      if (req.url === '/json-then-fail') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":');
        throw new SwitchyardError('upstream_error', 'x');
      }
      throw new Error('internal detail that must not leak');
    };
    route().catch((e: unknown) => sendError(res, e));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('http helpers', () => {
  it('reads and echoes a JSON body', async () => {
    const r = await fetch(`${base}/echo`, { method: 'POST', body: '{"a":[1,2]}' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual({ got: { a: [1, 2] } });
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    const r = await fetch(`${base}/echo`, { method: 'POST', body: '{"a":' });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: 'invalid_json', type: 'invalid_request_error' });
  });

  it('rejects an oversized body with 413, with and without content-length', async () => {
    const big = JSON.stringify({ x: 'y'.repeat(100) });
    const r1 = await fetch(`${base}/echo`, { method: 'POST', body: big });
    expect(r1.status).toBe(413);
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(big.slice(0, 50)));
        c.enqueue(new TextEncoder().encode(big.slice(50)));
        c.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: stream, duplex: 'half' };
    const r2 = await fetch(`${base}/echo`, init);
    expect(r2.status).toBe(413);
  });

  it('sends a generic 500 for unexpected errors', async () => {
    const r = await fetch(`${base}/boom`);
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toContain('internal detail');
    expect(JSON.parse(text)).toEqual({ error: { message: expect.any(String), type: 'server_error', param: null, code: 'internal_error' } });
  });

  it.each(['/stream-then-fail', '/raw-stream-then-fail'])('ends a started SSE stream with an error event (%s)', async (route) => {
    const r = await fetch(`${base}${route}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await r.text());
    expect(events.map((e) => JSON.parse(e.data) as unknown)).toEqual([
      { n: 1 },
      { error: { message: 'engine went away', type: 'server_error', param: null, code: 'upstream_error' } },
    ]);
  });

  it('aborts a started non-SSE response (a truncated body is the only honest signal)', async () => {
    await expect(fetch(`${base}/json-then-fail`).then((r) => r.text())).rejects.toThrow();
  });
});
