/**
 * UsageMeter on a VirtualClock (no timed sleeps): batching by time and size, the bounded buffer
 * and its drop counter, retries with backoff on store failures, non-retryable batches, pricing,
 * per-tenant metrics, Tenant.status.usage at most once per interval, and close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { validateManifests, type PriceTable, type UsageRecord } from '../api/index.js';
import { SwitchyardError, VirtualClock } from '../core/index.js';
import { createMetricsRegistry, parsePrometheusText, selectSamples, type MetricsRegistry } from '../observability/index.js';
import { SqliteStore } from '../store/index.js';
import { ResourceService } from './resources.js';
import { UsageMeter, type UsageMeterOptions } from './usage.js';

/** Let pending promise callbacks run (no time passes). */
const settle = () => new Promise<void>((r) => setImmediate(r));

let seq = 0;
const rec = (clock: VirtualClock, over: Partial<UsageRecord> = {}): UsageRecord => ({
  ts: clock.epochMs(),
  requestId: `r${seq++}`,
  tenant: 'acme',
  key: 'acme-k',
  model: 'llama',
  cluster: 'east',
  inputTokens: 1000,
  outputTokens: 100,
  cachedTokens: 400,
  latencyMs: 50,
  status: 200,
  ...over,
});

const PRICES: PriceTable = { models: { llama: { inputPerMTok: 1, outputPerMTok: 10, cachedInputPerMTok: 0.5 } } };
// 600 uncached × $1/M + 400 cached × $0.5/M + 100 out × $10/M
const LLAMA_USD = (600 * 1 + 400 * 0.5 + 100 * 10) / 1e6;

async function metric(m: MetricsRegistry, name: string, labels: Record<string, string> = {}): Promise<number> {
  return selectSamples(parsePrometheusText(await m.render()), name, labels).reduce((s, x) => s + x.value, 0);
}

interface Harness {
  clock: VirtualClock;
  store: SqliteStore;
  service: ResourceService;
  meter: UsageMeter;
  metrics: MetricsRegistry;
  /** Batch sizes appendUsage was called with (failed calls included). */
  calls: number[];
  /** Make the next n appendUsage calls fail with `error`. */
  failNext(n: number, error?: Error): void;
  /** Make appendUsage wait until the returned function is called. */
  hold(): () => void;
}

const stores: SqliteStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function harness(o: Partial<UsageMeterOptions> = {}): Promise<Harness> {
  const clock = new VirtualClock();
  const store = await SqliteStore.open(':memory:');
  stores.push(store);
  const service = new ResourceService(store, clock);
  await service.apply(validateManifests([{ apiVersion: 'switchyard.dev/v1', kind: 'Tenant', metadata: { name: 'acme' }, spec: {} }]), { actor: { name: 't' } });
  const metrics = createMetricsRegistry();
  const calls: number[] = [];
  let failures = 0;
  let failure: Error = new SwitchyardError('unavailable', 'database down');
  let gate: Promise<void> | undefined;
  const flaky = {
    appendUsage: async (batch: readonly UsageRecord[]) => {
      calls.push(batch.length);
      await gate;
      if (failures > 0) {
        failures--;
        throw failure;
      }
      await store.appendUsage(batch);
    },
    usageTotals: (tenant: string, since: number) => store.usageTotals(tenant, since),
  };
  const meter = new UsageMeter({ store: flaky, service, clock, metrics, prices: () => PRICES, ...o });
  return {
    clock, store, service, meter, metrics, calls,
    failNext: (n, error) => {
      failures = n;
      if (error) failure = error;
    },
    hold: () => {
      let release = (): void => undefined;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const stored = async (h: Harness) => (await h.store.queryUsage({ groupBy: 'none' })).reduce((n, a) => n + a.requests, 0);

describe('UsageMeter', () => {
  it('writes nothing on record; one batch flushIntervalMs after the first record', async () => {
    const h = await harness();
    for (let i = 0; i < 3; i++) h.meter.record(rec(h.clock));
    expect(h.meter.buffered).toBe(3);
    h.clock.advance(999);
    await settle();
    expect(h.calls).toEqual([]);
    h.clock.advance(1);
    await h.meter.flush();
    expect(h.calls).toEqual([3]);
    expect(await stored(h)).toBe(3);
    expect(h.meter.buffered).toBe(0);
  });

  it('writes at once, in batches of maxBatch, when maxBatch records are waiting', async () => {
    const h = await harness({ maxBatch: 5 });
    for (let i = 0; i < 12; i++) h.meter.record(rec(h.clock));
    h.clock.advance(0);
    await h.meter.flush();
    expect(h.calls).toEqual([5, 5, 2]);
    expect(await stored(h)).toBe(12);
  });

  it('holds at most maxBuffered records: drops the oldest and counts them', async () => {
    const h = await harness({ maxBatch: 5, maxBuffered: 10 });
    h.failNext(1);
    for (let i = 0; i < 25; i++) h.meter.record(rec(h.clock, { requestId: `b${i}` }));
    expect(h.meter.buffered).toBe(10);
    expect(h.meter.dropped).toBe(15);
    expect(await metric(h.metrics, 'switchyard_usage_records_dropped_total', { reason: 'overflow' })).toBe(15);
    expect(await h.meter.flush()).toBe(false); // the store is down: kept
    expect(h.meter.buffered).toBe(10);
    expect(await h.meter.flush()).toBe(true);
    expect(await stored(h)).toBe(10);
    // The newest ten were kept: re-sending them is a no-op (idempotent on requestId + ts).
    await h.store.appendUsage(Array.from({ length: 10 }, (_, i) => rec(h.clock, { requestId: `b${15 + i}` })));
    expect(await stored(h)).toBe(10);
  });

  it('counts the batch in flight against maxBuffered but never drops it', async () => {
    const h = await harness({ maxBatch: 5, maxBuffered: 10 });
    const release = h.hold();
    for (let i = 0; i < 5; i++) h.meter.record(rec(h.clock, { requestId: `f${i}` }));
    h.clock.advance(0);
    await settle();
    expect(h.calls).toEqual([5]); // in flight, waiting on the store
    for (let i = 5; i < 15; i++) h.meter.record(rec(h.clock, { requestId: `f${i}` }));
    expect(h.meter.buffered).toBe(10);
    expect(h.meter.dropped).toBe(5); // f5..f9, the oldest waiting ones
    release();
    await h.meter.flush();
    expect(await stored(h)).toBe(10);
    const ids = ['f0', 'f14', 'f5', 'f9'].map((requestId) => rec(h.clock, { requestId }));
    await h.store.appendUsage(ids); // f0 and f14 are stored already; f5 and f9 were dropped
    expect(await stored(h)).toBe(12);
  });

  it('keeps a failed batch and retries it with backoff (0.5 s, then 1 s), then writes it once', async () => {
    const h = await harness();
    h.failNext(2);
    h.meter.record(rec(h.clock));
    h.meter.record(rec(h.clock));
    h.clock.advance(1000);
    await settle();
    expect(h.calls).toEqual([2]);
    h.meter.record(rec(h.clock)); // while backing off, a new record waits for the retry
    h.clock.advance(499);
    await settle();
    expect(h.calls).toEqual([2]);
    h.clock.advance(1);
    await settle();
    expect(h.calls).toEqual([2, 3]);
    h.clock.advance(999);
    await settle();
    expect(h.calls).toEqual([2, 3]);
    h.clock.advance(1);
    await h.meter.flush();
    expect(h.calls).toEqual([2, 3, 3]);
    expect(await stored(h)).toBe(3);
    expect(await metric(h.metrics, 'switchyard_usage_flush_failures_total')).toBe(2);
    expect(h.meter.dropped).toBe(0);
  });

  it('drops a batch the store refuses as invalid (retrying cannot help) and goes on', async () => {
    const h = await harness();
    h.failNext(1, new SwitchyardError('invalid_argument', 'bad record'));
    h.meter.record(rec(h.clock));
    expect(await h.meter.flush()).toBe(true);
    expect(h.meter.dropped).toBe(1);
    expect(await metric(h.metrics, 'switchyard_usage_records_dropped_total', { reason: 'rejected' })).toBe(1);
    h.meter.record(rec(h.clock));
    await h.meter.flush();
    expect(await stored(h)).toBe(1);
  });

  it('prices records without usd, keeps a given usd, and counts per-tenant metrics', async () => {
    const h = await harness();
    h.meter.record(rec(h.clock));
    h.meter.record(rec(h.clock, { status: 429, usd: 2 }));
    h.meter.record(rec(h.clock, { tenant: 'beta', model: 'unpriced', status: 'client_closed' }));
    await h.meter.flush();
    const [acme, beta] = await h.store.queryUsage({ groupBy: 'none' });
    expect(acme).toMatchObject({ tenant: 'acme', requests: 2, errors: 1 });
    expect(acme!.usd).toBeCloseTo(LLAMA_USD + 2, 12);
    expect(beta).toMatchObject({ tenant: 'beta', model: 'unpriced', usd: 0, errors: 1 });
    const m = (name: string, labels: Record<string, string>) => metric(h.metrics, name, labels);
    expect(await m('switchyard_tenant_requests_total', { tenant: 'acme', model: 'llama', status: '200' })).toBe(1);
    expect(await m('switchyard_tenant_requests_total', { tenant: 'acme', model: 'llama', status: '429' })).toBe(1);
    expect(await m('switchyard_tenant_requests_total', { tenant: 'beta', status: 'client_closed' })).toBe(1);
    expect(await m('switchyard_tenant_tokens_total', { tenant: 'acme', kind: 'input' })).toBe(2000);
    expect(await m('switchyard_tenant_tokens_total', { tenant: 'acme', kind: 'output' })).toBe(200);
    expect(await m('switchyard_tenant_tokens_total', { tenant: 'acme', kind: 'cached' })).toBe(800);
    expect(await m('switchyard_tenant_cost_usd_total', { tenant: 'acme', model: 'llama' })).toBeCloseTo(LLAMA_USD + 2, 12);
  });

  it("updates the tenant's status.usage for this month after a flush, at most once per second", async () => {
    const h = await harness();
    const usage = async () => (await h.service.get('Tenant', 'acme')).status?.usage;
    h.meter.record(rec(h.clock));
    h.meter.record(rec(h.clock, { tenant: 'ghost' })); // a tenant that does not exist is skipped
    await h.meter.flush();
    expect(await usage()).toEqual({ month: '2026-01', requests: 1, inputTokens: 1000, outputTokens: 100, cachedTokens: 400, usd: expect.closeTo(LLAMA_USD, 12) });
    const rvAfterFirst = (await h.service.get('Tenant', 'acme')).metadata.resourceVersion;
    h.clock.advance(100);
    h.meter.record(rec(h.clock));
    await h.meter.flush();
    expect((await usage())?.requests).toBe(1); // stored, but the status waits for its interval
    expect((await h.service.get('Tenant', 'acme')).metadata.resourceVersion).toBe(rvAfterFirst);
    h.clock.advance(899);
    await settle();
    expect((await usage())?.requests).toBe(1);
    h.clock.advance(1);
    await h.meter.flush();
    expect((await usage())?.requests).toBe(2);
  });

  it('close() writes what is queued and the last statuses; later records are dropped', async () => {
    const h = await harness();
    h.meter.record(rec(h.clock));
    await h.meter.flush();
    h.meter.record(rec(h.clock));
    h.meter.record(rec(h.clock));
    await h.meter.close();
    expect(await stored(h)).toBe(3);
    expect((await h.service.get('Tenant', 'acme')).status?.usage?.requests).toBe(3);
    h.meter.record(rec(h.clock));
    expect(h.meter.dropped).toBe(1);
    expect(await metric(h.metrics, 'switchyard_usage_records_dropped_total', { reason: 'closed' })).toBe(1);
    expect(h.clock.pending).toBe(0);
  });

  it('close() with the store down drops (and counts) what it could not write', async () => {
    const h = await harness();
    h.failNext(1);
    h.meter.record(rec(h.clock));
    await h.meter.close();
    expect(h.meter.dropped).toBe(1);
    expect(await stored(h)).toBe(0);
  });

  it('record() never throws, even for a record the metrics refuse', async () => {
    const h = await harness();
    expect(() => h.meter.record(rec(h.clock, { inputTokens: -5 }))).not.toThrow();
    h.failNext(0);
    await h.meter.flush(); // the store refuses it (invalid_argument): dropped
    expect(h.meter.dropped).toBe(1);
  });
});
