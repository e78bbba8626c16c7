import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RealClock, VirtualClock } from '../../core/index.js';
import { LoadView } from './load-view.js';
import { httpFetchText, Scraper } from './scraper.js';
import type { FetchText } from './scraper.js';

/** Let settled fetch promises run their continuations (one macrotask turn, not a sleep). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const page = (running: number, waiting: number, kv: number): string =>
  `# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine="0"} ${running}\nvllm:num_requests_waiting{engine="0"} ${waiting}\nvllm:kv_cache_usage_perc{engine="0"} ${kv}\n`;

let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function setup(respond: (url: string) => string | Error) {
  const clock = new VirtualClock();
  const view = new LoadView({ clock, staleAfter: 3_000, ids: ['a', 'b'] });
  const calls: string[] = [];
  const fetchText: FetchText = async (url) => {
    calls.push(`${clock.now()} ${url}`);
    const r = respond(url);
    if (r instanceof Error) throw r;
    return r;
  };
  const scraper = new Scraper({ clock, loadView: view, fetchText, random: () => 0.5, endpoints: [{ id: 'a', url: 'http://a/' }, { id: 'b', url: 'http://b' }] });
  cleanup.push(() => scraper.stop());
  return { clock, view, scraper, calls };
}

async function runTo(clock: VirtualClock, t: number): Promise<void> {
  while ((clock.nextAt() ?? Infinity) <= t) {
    clock.step();
    await settle();
  }
  clock.runUntil(t);
}

describe('Scraper (fake fetch, virtual clock)', () => {
  it('scrapes every interval and records the parsed load with inFlightAtScrape', async () => {
    let n = 0;
    const { clock, view, scraper, calls } = setup(() => page(++n, 1, 0.5));
    view.begin('a');
    scraper.start();
    await runTo(clock, 2_000);
    expect(calls).toEqual(['0 http://a/metrics', '0 http://b/metrics', '1000 http://a/metrics', '1000 http://b/metrics', '2000 http://a/metrics', '2000 http://b/metrics']);
    expect({ ...view.get('a') }).toEqual({ inFlight: 1, running: 5, waiting: 1, kvUsage: 0.5, scrapedAt: 2_000, inFlightAtScrape: 1 });
  });

  it('failures keep the old values until stale, then null; recovery restores them', async () => {
    let down = false;
    const { clock, view, scraper } = setup((url) => (down && url.startsWith('http://a') ? new Error('ECONNREFUSED') : page(3, 2, 0.4)));
    scraper.start();
    await runTo(clock, 0);
    down = true;
    await runTo(clock, 3_000);
    expect(view.get('a')).toMatchObject({ running: 3, waiting: 2, scrapedAt: 0 });
    await runTo(clock, 3_500);
    expect(view.get('a')).toMatchObject({ running: null, waiting: null, kvUsage: null, scrapedAt: null });
    expect(view.snapshot().a).toMatchObject({ stale: true, lastScrapedAt: 0, consecutiveFailures: 3, lastError: 'ECONNREFUSED' });
    expect(view.get('b')).toMatchObject({ running: 3, scrapedAt: 3_000 });
    down = false;
    await runTo(clock, 4_000);
    expect(view.get('a')).toMatchObject({ running: 3, waiting: 2, kvUsage: 0.4, scrapedAt: 4_000 });
  });

  it('a page that is not vLLM metrics counts as a failed scrape', async () => {
    const { clock, view, scraper } = setup(() => 'up 1\n');
    scraper.start();
    await runTo(clock, 0);
    expect(view.snapshot().a).toMatchObject({ stale: true, consecutiveFailures: 1 });
  });

  it('setEndpoints adds and removes scrape targets without restarting', async () => {
    const { clock, scraper, calls } = setup(() => page(0, 0, 0));
    scraper.start();
    await runTo(clock, 500);
    scraper.setEndpoints([{ id: 'b', url: 'http://b' }, { id: 'c', url: 'http://c' }]);
    await runTo(clock, 1_500);
    expect(calls).toEqual(['0 http://a/metrics', '0 http://b/metrics', '500 http://c/metrics', '1000 http://b/metrics', '1500 http://c/metrics']);
  });

  it('does nothing when scrape is disabled', () => {
    const clock = new VirtualClock();
    const scraper = new Scraper({ clock, loadView: new LoadView({ clock }), config: { scrape: false }, fetchText: () => Promise.resolve(''), endpoints: [{ id: 'a', url: 'http://a' }] });
    scraper.start();
    expect(scraper.running).toBe(false);
    expect(scraper.config).toMatchObject({ interval: 1_000, timeout: 1_000, staleAfter: 3_000, path: '/metrics' });
  });
});

describe('Scraper (real HTTP)', () => {
  it('scrapes a tiny metrics server with the default fetch', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(page(2, 5, 0.125));
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await expect(httpFetchText(`${base}/nope`, 1_000)).rejects.toThrow(/HTTP 404/);

    const clock = new RealClock();
    const view = new LoadView({ clock, ids: ['a'] });
    const scraper = new Scraper({ clock, loadView: view, endpoints: [{ id: 'a', url: base }] });
    cleanup.push(() => scraper.stop());
    const scraped = new Promise<void>((resolve) => {
      const orig = view.recordScrape.bind(view);
      view.recordScrape = (id, s) => {
        orig(id, s);
        resolve();
      };
    });
    scraper.start();
    await scraped;
    expect(view.get('a')).toMatchObject({ running: 2, waiting: 5, kvUsage: 0.125, inFlight: 0 });
  });
});
