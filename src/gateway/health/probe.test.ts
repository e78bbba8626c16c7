import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from './checker.js';

describe('httpProbe (real HTTP)', () => {
  const server = createServer((req, res) => {
    if (req.url === '/ok') res.end('{"status":"ok"}');
    else if (req.url === '/busy') {
      res.statusCode = 503;
      res.end('loading');
    } else if (req.url === '/hang') {
      // never answers
    } else {
      res.statusCode = 404;
      res.end();
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

  it('200 → true', async () => {
    expect(await httpProbe(`${base}/ok`, 2_000)).toBe(true);
  });

  it('503 → false', async () => {
    expect(await httpProbe(`${base}/busy`, 2_000)).toBe(false);
  });

  it('a hanging server → false after the timeout', async () => {
    const t0 = performance.now();
    expect(await httpProbe(`${base}/hang`, 200)).toBe(false);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(2_000);
  });

  it('connection refused → false; an aborted signal → false', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await httpProbe(`http://127.0.0.1:${port}/health`, 1_000)).toBe(false);
    expect(await httpProbe(`${base}/ok`, 1_000, AbortSignal.abort())).toBe(false);
  });
});
