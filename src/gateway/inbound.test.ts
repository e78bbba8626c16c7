import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait.js';
import { readBody } from '../openai/index.js';
import { requestIdOf } from './inbound.js';

/** A server that reads each request body with openai's readBody (what the gateway uses) and reports what it got. */
let port = 0;
let max = 64;
const results: { ok: boolean; value: string; listeners: number[] }[] = [];
let arrived = 0;
const server = createServer((req, res) => {
  arrived++;
  readBody(req, max).then(
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

/** Send a body and wait for the server's outcome. */
async function outcome(chunks: string[], headers: Record<string, string> = {}): Promise<{ ok: boolean; value: string; listeners: number[] }> {
  results.length = 0;
  const q = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false }, (r) => r.resume());
  q.on('error', () => undefined);
  for (const c of chunks) q.write(c);
  q.end();
  return waitFor(() => results[0], { what: 'the server to finish reading' });
}

/** Send headers announcing `declared` bytes and part of the body over a raw socket, then drop the connection. */
async function cutShort(partial: string, declared: number): Promise<{ ok: boolean; value: string }> {
  results.length = 0;
  arrived = 0;
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${declared}\r\n\r\n${partial}`);
  await waitFor(() => arrived > 0, { what: 'the request to arrive' });
  sock.destroy();
  return waitFor(() => results[0], { what: 'the server to give up on the body' });
}

describe('readBody as the gateway uses it', () => {
  it('reads bodies sent in several chunks, and empty bodies', async () => {
    expect((await outcome(['{"model":', '"m"}'])).value).toBe('{"model":"m"}');
    expect(await outcome([])).toMatchObject({ ok: true, value: '' });
  });

  it('rejects bodies over the limit (declared or streamed) and bodies cut short', async () => {
    max = 8;
    try {
      expect((await outcome(['0123456789abc'])).value).toMatch(/^payload_too_large: The request body exceeds the limit of 8 bytes\.$/);
      expect((await outcome(['0123'], { 'content-length': '100' })).value).toMatch(/^payload_too_large/);
    } finally {
      max = 64;
    }
    expect((await cutShort('{"partial', 50)).value).toMatch(/^invalid_request: The request body could not be read/);
  });

  it('leaves no listener but a shared error guard on the request once the body is read', async () => {
    expect((await outcome(['{"a":1}'])).listeners).toEqual([0, 0, 0, 1]);
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
