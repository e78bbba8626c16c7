import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { ControlPlaneTable } from './control-table.js';

/**
 * A stand-in control plane: every list answers empty; the watch answers `watchStatus` (200: an
 * open SSE stream that sends nothing). Records when each watch request arrived.
 */
async function fakeControlPlane(): Promise<{ server: Server; url: string; watchAt: number[]; setWatchStatus: (s: number) => void }> {
  const watchAt: number[] = [];
  let watchStatus = 200;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/watch')) {
      watchAt.push(performance.now());
      if (watchStatus === 200) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\n\n');
        return;
      }
      res.writeHead(watchStatus, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: 'down for the test', type: 'server_error', param: null, code: 'unavailable' } }));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'List', resourceVersion: '7', items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, watchAt, setWatchStatus: (s) => (watchStatus = s) };
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('ControlPlaneTable reconnects', () => {
  it('backs off exponentially while the watch keeps failing after a sync, warns once, and leaves no abort listeners behind', async () => {
    const cp = await fakeControlPlane();
    cleanup.push(() => new Promise<void>((r) => (cp.server.closeAllConnections(), cp.server.close(() => r()))));
    const lines: { level: string; msg: string }[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as { level: string; msg: string }), cb()) });
    const table = new ControlPlaneTable({ token: 't', logger: createLogger({ name: 'test', pretty: false, destination: sink, level: 'info' }), backoff: { initial: 10, max: 80 }, prefixSummaryIntervalMs: 0 });
    const warned: unknown[] = [];
    const onWarning = (w: Error): void => void warned.push(w.name);
    process.on('warning', onWarning);
    cleanup.push(async () => {
      process.off('warning', onWarning);
      await table.stop();
    });

    table.start(cp.url);
    await table.ready;
    await until(() => cp.watchAt.length === 1, 'the first watch');
    expect(table.connected).toBe(true);

    // The control plane now refuses every watch: retries back off 10, 20, 40, 80, 80, … ms.
    cp.setWatchStatus(503);
    cp.server.closeAllConnections(); // ends the open watch: the table reconnects
    await until(() => cp.watchAt.length >= 15, '14 failed watch attempts');
    const gaps = cp.watchAt.slice(1).map((t, i) => t - cp.watchAt[i]!);
    // Timers never fire early (minus ~1 ms of loop-time rounding); they may fire late on a busy machine.
    const want = [10, 20, 40, 80, 80, 80, 80, 80, 80, 80, 80, 80, 80];
    gaps.slice(1, 1 + want.length).forEach((g, i) => expect(g, `gap ${i + 1} (${gaps.map((x) => x.toFixed(0)).join(', ')})`).toBeGreaterThanOrEqual(want[i]! - 2));
    expect(lines.filter((l) => l.msg.includes('lost the control plane')).length).toBe(1);
    expect(table.connected).toBe(false);
    expect(warned).not.toContain('MaxListenersExceededWarning');

    // Back: the next watch is accepted, and a later failure is warned about again.
    cp.setWatchStatus(200);
    const n = cp.watchAt.length;
    await until(() => cp.watchAt.length > n && table.connected, 'the watch to be accepted again');
    cp.setWatchStatus(503);
    cp.server.closeAllConnections();
    await until(() => lines.filter((l) => l.msg.includes('lost the control plane')).length === 2, 'a second warning');
  });
});
