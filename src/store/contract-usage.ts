/**
 * The usage-metering and audit-log part of the ResourceStore contract (called by
 * describeResourceStoreContract in ./contract.ts). Test-only.
 */
import { expect, it } from 'vitest';
import type { AuditEntry, UsageRecord } from '../api/index.js';
import type { ResourceStore } from './types.js';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 0, 1);
let seq = 0;

const rec = (over: Partial<UsageRecord> = {}): UsageRecord => ({
  ts: D0 + 1000,
  requestId: `req-${seq++}`,
  tenant: 'acme',
  key: 'acme-key',
  model: 'llama',
  cluster: 'east',
  inputTokens: 100,
  outputTokens: 10,
  cachedTokens: 40,
  latencyMs: 200,
  status: 200,
  usd: 0.5,
  ...over,
});

const audit = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  ts: D0,
  actor: 'alice (token ci, admin)',
  role: 'admin',
  action: 'apikey.revoke',
  kind: 'ApiKey',
  name: 'acme-abc',
  before: { spec: { revoked: false } },
  after: { spec: { revoked: true } },
  ...over,
});

export function usageAndAuditCases(fresh: (peer?: ResourceStore) => Promise<ResourceStore>): void {
  it('aggregates usage per tenant × model × UTC day, and over a range', async () => {
    const s = await fresh();
    expect(await s.queryUsage({ groupBy: 'day' })).toEqual([]);
    await s.appendUsage([]);
    await s.appendUsage([
      rec(),
      rec({ ts: D0 + DAY - 1, latencyMs: 400, status: 500, usd: 0.25 }),
      rec({ ts: D0 + DAY, status: 'client_closed' }),
      rec({ model: 'qwen', inputTokens: 7, outputTokens: 3, cachedTokens: 0, usd: undefined }),
      rec({ tenant: 'beta', ts: D0 + 2 * DAY + 5 }),
    ]);
    const byDay = await s.queryUsage({ groupBy: 'day' });
    expect(byDay).toEqual([
      { day: '2026-01-01', tenant: 'acme', model: 'llama', requests: 2, inputTokens: 200, outputTokens: 20, cachedTokens: 80, usd: 0.75, errors: 1, avgLatencyMs: 300 },
      { day: '2026-01-01', tenant: 'acme', model: 'qwen', requests: 1, inputTokens: 7, outputTokens: 3, cachedTokens: 0, usd: 0, errors: 0, avgLatencyMs: 200 },
      { day: '2026-01-02', tenant: 'acme', model: 'llama', requests: 1, inputTokens: 100, outputTokens: 10, cachedTokens: 40, usd: 0.5, errors: 1, avgLatencyMs: 200 },
      { day: '2026-01-03', tenant: 'beta', model: 'llama', requests: 1, inputTokens: 100, outputTokens: 10, cachedTokens: 40, usd: 0.5, errors: 0, avgLatencyMs: 200 },
    ]);
    const [llama, qwen, ...rest] = await s.queryUsage({ groupBy: 'none', tenant: 'acme' });
    expect(rest).toEqual([]);
    expect(llama).toMatchObject({ tenant: 'acme', model: 'llama', requests: 3, inputTokens: 300, outputTokens: 30, cachedTokens: 120, usd: 1.25, errors: 2 });
    expect(llama).not.toHaveProperty('day');
    expect(llama!.avgLatencyMs).toBeCloseTo(800 / 3, 6);
    expect(qwen).toEqual({ tenant: 'acme', model: 'qwen', requests: 1, inputTokens: 7, outputTokens: 3, cachedTokens: 0, usd: 0, errors: 0, avgLatencyMs: 200 });
    // since rounds down to its day; a day is included when it starts before until.
    const mid = await s.queryUsage({ groupBy: 'day', since: D0 + DAY + 3_600_000, until: D0 + 2 * DAY + 1 });
    expect(mid.map((a) => [a.day, a.tenant])).toEqual([['2026-01-02', 'acme'], ['2026-01-03', 'beta']]);
    expect(await s.queryUsage({ groupBy: 'day', until: D0 })).toEqual([]);
    expect(await s.queryUsage({ groupBy: 'none', tenant: 'nobody' })).toEqual([]);
  });

  it('counts a record once: a re-sent batch and duplicates within a batch are skipped', async () => {
    const s = await fresh();
    const batch = [rec({ requestId: 'r1' }), rec({ requestId: 'r2' }), rec({ requestId: 'r1' })];
    await s.appendUsage(batch);
    await s.appendUsage(batch);
    await s.appendUsage([rec({ requestId: 'r1', ts: D0 + 2000 })]); // same id, another time: another record
    const [a] = await s.queryUsage({ groupBy: 'none' });
    expect(a).toMatchObject({ requests: 3, inputTokens: 300 });
  });

  it("sums a tenant's totals from a start time (this month), zeros when there is none", async () => {
    const s = await fresh();
    const feb = Date.UTC(2026, 1, 1);
    await s.appendUsage([rec({ ts: feb - 1 }), rec({ ts: feb + 10 }), rec({ ts: feb + 3 * DAY, model: 'qwen', usd: 1 }), rec({ ts: feb + 10, tenant: 'beta' })]);
    expect(await s.usageTotals('acme', feb)).toEqual({ requests: 2, inputTokens: 200, outputTokens: 20, cachedTokens: 80, usd: 1.5 });
    expect(await s.usageTotals('acme', feb + 12 * 3_600_000)).toMatchObject({ requests: 2 });
    expect(await s.usageTotals('nobody', feb)).toEqual({ requests: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, usd: 0 });
  });

  it('prunes raw records by age and keeps the daily aggregates', async () => {
    const s = await fresh();
    await s.appendUsage([rec({ ts: D0 }), rec({ ts: D0 + DAY }), rec({ ts: D0 + 2 * DAY })]);
    expect(await s.pruneUsage(D0 + DAY)).toBe(1);
    expect(await s.pruneUsage(D0 + DAY)).toBe(0);
    expect((await s.queryUsage({ groupBy: 'none' }))[0]).toMatchObject({ requests: 3 });
    await expect(s.pruneUsage(-1)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('refuses a batch with a bad record as a whole, with invalid_argument', async () => {
    const s = await fresh();
    await expect(s.appendUsage([rec(), rec(), rec({ inputTokens: -1 })])).rejects.toMatchObject({ code: 'invalid_argument', param: 'records[2].inputTokens' });
    await expect(s.appendUsage([rec({ requestId: '' })])).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(s.queryUsage({ groupBy: 'week' as 'day' })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(await s.queryUsage({ groupBy: 'none' })).toEqual([]);
  });

  it('shares usage between two instances, also when both append at once', async () => {
    const a = await fresh();
    const b = await fresh(a);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).appendUsage([rec({ tenant: 'acme' }), rec({ tenant: 'beta' }), rec({ tenant: 'acme', model: 'qwen' })])));
    const all = await b.queryUsage({ groupBy: 'none' });
    expect(all.map((x) => [x.tenant, x.model, x.requests])).toEqual([['acme', 'llama', 10], ['acme', 'qwen', 10], ['beta', 'llama', 10]]);
    expect((await a.usageTotals('acme', 0)).requests).toBe(20);
  });

  it('appends audit entries and queries them by time, actor, kind and action, newest `limit`, oldest first', async () => {
    const s = await fresh();
    expect(await s.queryAudit({})).toEqual([]);
    await s.appendAudit([
      audit({ ts: D0, action: 'apikey.create', before: null }),
      audit({ ts: D0 + 1 }),
      audit({ ts: D0 + 2, actor: 'bob (token ops, operator)', role: 'operator', action: 'function.delete', kind: 'Function', name: 'llama', after: null, note: 'cascade' }),
    ]);
    await s.appendAudit([{ ts: D0 + 3, actor: 'admin', action: 'pricing.update', kind: 'PriceTable', name: 'default', before: null, after: { models: {} } }]);
    const all = await s.queryAudit({});
    expect(all.map((e) => e.action)).toEqual(['apikey.create', 'apikey.revoke', 'function.delete', 'pricing.update']);
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((x, y) => x - y));
    expect(all[1]).toEqual({ id: all[1]!.id, ...audit({ ts: D0 + 1 }) });
    expect(all[2]).toMatchObject({ note: 'cascade', after: null, role: 'operator' });
    expect(all[3]).not.toHaveProperty('role');
    expect(all[3]).not.toHaveProperty('note');
    expect((await s.queryAudit({ since: D0 + 1, until: D0 + 3 })).map((e) => e.ts)).toEqual([D0 + 1, D0 + 2]);
    expect((await s.queryAudit({ actor: 'bob' })).map((e) => e.name)).toEqual(['llama']);
    expect((await s.queryAudit({ actor: '100%_' })).length).toBe(0);
    expect((await s.queryAudit({ kind: 'ApiKey' })).length).toBe(2);
    expect((await s.queryAudit({ action: 'apikey.revoke' })).length).toBe(1);
    expect((await s.queryAudit({ limit: 2 })).map((e) => e.action)).toEqual(['function.delete', 'pricing.update']);
    await expect(s.queryAudit({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
}
