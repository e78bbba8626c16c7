import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/index.js';
import { estimatedQueue as routerEstimatedQueue } from '../../router/index.js';
import type { EndpointLoad, EndpointView } from '../../router/index.js';
import { LoadView } from './load-view.js';
import { estimatedQueue } from './index.js';

const sample = { running: 4, waiting: 2, kvUsage: 0.5 };

describe('LoadView counters', () => {
  it('begin/end count in-flight requests per endpoint; never below 0; unknown ids ignored', () => {
    const v = new LoadView({ clock: new VirtualClock(), ids: ['a', 'b'] });
    v.begin('a');
    v.begin('a');
    v.begin('b');
    v.end('a');
    v.end('b');
    v.end('b');
    v.begin('zzz');
    v.end('zzz');
    expect([v.get('a').inFlight, v.get('b').inFlight]).toEqual([1, 0]);
    expect(v.get('zzz')).toEqual({ inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0 });
    expect(Object.isFrozen(v.get('zzz'))).toBe(true);
  });

  it('get returns the live object', () => {
    const v = new LoadView({ clock: new VirtualClock(), ids: ['a'] });
    const l = v.get('a');
    v.begin('a');
    expect(l.inFlight).toBe(1);
    expect(v.get('a')).toBe(l);
  });

  it('setEndpoints keeps known endpoints, adds and removes others', () => {
    const v = new LoadView({ clock: new VirtualClock(), ids: ['a', 'b'] });
    v.begin('a');
    v.setEndpoints(['a', 'c']);
    expect([...v.ids()].sort()).toEqual(['a', 'c']);
    expect(v.get('a').inFlight).toBe(1);
    expect(v.has('b')).toBe(false);
    v.begin('c');
    expect(v.get('c').inFlight).toBe(1);
    expect(v.remove('c')).toBe(true);
    v.end('c'); // after removal: ignored
    expect(v.has('c')).toBe(false);
  });
});

describe('LoadView scrapes and staleness', () => {
  it('records scraped values with scrapedAt and inFlightAtScrape', () => {
    const clock = new VirtualClock(1_000);
    const v = new LoadView({ clock, ids: ['a'] });
    v.begin('a');
    v.begin('a');
    v.recordScrape('a', sample);
    v.begin('a');
    expect({ ...v.get('a') }).toEqual({ inFlight: 3, running: 4, waiting: 2, kvUsage: 0.5, scrapedAt: 1_000, inFlightAtScrape: 2 });
    v.recordScrape('zzz', sample); // unknown: ignored
  });

  it('keeps old values on failures until staleAfter, then reads null; a success revives them', () => {
    const clock = new VirtualClock();
    const v = new LoadView({ clock, staleAfter: 3_000, ids: ['a'] });
    expect(v.isStale('a')).toBe(true);
    v.recordScrape('a', sample);
    for (const t of [1_000, 2_000, 3_000]) {
      clock.runUntil(t);
      v.recordScrapeFailure('a', new Error('connect ECONNREFUSED'));
      expect(v.get('a').running).toBe(4);
    }
    clock.runUntil(3_001);
    expect({ ...v.get('a') }).toEqual({ inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0 });
    expect(v.snapshot().a).toMatchObject({ stale: true, lastScrapedAt: 0, consecutiveFailures: 3, lastError: 'connect ECONNREFUSED' });
    v.recordScrape('a', { running: 1, waiting: 0, kvUsage: null });
    expect(v.get('a')).toMatchObject({ running: 1, waiting: 0, kvUsage: null, scrapedAt: 3_001 });
    expect(v.snapshot().a).toMatchObject({ stale: false, consecutiveFailures: 0, lastError: null });
  });
});

describe('estimatedQueue', () => {
  const base: EndpointLoad = { inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0 };
  const cases: { name: string; load: Partial<EndpointLoad>; queue: number }[] = [
    { name: 'never scraped: live in-flight', load: { inFlight: 3 }, queue: 3 },
    { name: 'stale (nulls): live in-flight', load: { inFlight: 5, inFlightAtScrape: 1 }, queue: 5 },
    { name: 'scraped, nothing sent since', load: { inFlight: 2, running: 4, waiting: 1, scrapedAt: 0, inFlightAtScrape: 2 }, queue: 5 },
    { name: 'scraped, 3 more sent since', load: { inFlight: 5, running: 4, waiting: 1, inFlightAtScrape: 2 }, queue: 8 },
    { name: 'scraped, some finished since: no subtraction', load: { inFlight: 0, running: 4, waiting: 1, inFlightAtScrape: 2 }, queue: 5 },
  ];
  it.each(cases)('$name', ({ load, queue }) => {
    expect(estimatedQueue({ ...base, ...load })).toBe(queue);
  });
});

describe('estimatedQueue agrees with the router queue_depth formula on LoadView output', () => {
  const cases: [string, (v: LoadView, c: VirtualClock) => void][] = [
    ['never scraped', () => undefined],
    ['fresh scrape', (v) => v.recordScrape('a', sample)],
    [
      'fresh scrape, then more sent',
      (v) => {
        v.recordScrape('a', sample);
        v.begin('a');
        v.begin('a');
      },
    ],
    [
      'stale scrape',
      (v, c) => {
        v.recordScrape('a', sample);
        c.advance(3_001);
      },
    ],
  ];
  it.each(cases)('%s', (_name, act) => {
    const clock = new VirtualClock();
    const v = new LoadView({ clock, staleAfter: 3_000, ids: ['a'] });
    v.begin('a');
    act(v, clock);
    const load = v.get('a');
    const view = { id: 'a', url: 'http://a', model: 'm', labels: {}, weight: 1, healthy: true, weightFactor: 1, load } satisfies EndpointView;
    expect(estimatedQueue(load)).toBe(routerEstimatedQueue(view.load));
  });
});
