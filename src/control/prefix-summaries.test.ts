/** PrefixSummaryRegistry on a VirtualClock: versions, identical re-sends, expiry, the ETag and the bytes metric. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/index.js';
import { createMetricsRegistry, parsePrometheusText, selectSamples } from '../observability/index.js';
import { PrefixSummary } from '../router/index.js';
import { PrefixSummaryRegistry } from './prefix-summaries.js';

const summaryOf = (n: number): { summary: PrefixSummary; base64: string } => {
  const summary = PrefixSummary.build({ blockSize: 16, forEachBlock: (cb) => Array.from({ length: n }, (_, i) => cb(i * 7919, i)) });
  return { summary, base64: Buffer.from(summary.encode()).toString('base64') };
};

describe('PrefixSummaryRegistry', () => {
  it('bumps versions on new bytes only, and keeps one latest summary per cluster', () => {
    const clock = new VirtualClock();
    const reg = new PrefixSummaryRegistry(clock);
    const e0 = reg.etag();
    expect(reg.put('eu', { ...summaryOf(10), backends: ['w1', 'w0'] })).toEqual({ version: 1, changed: true });
    const e1 = reg.etag();
    expect(e1).not.toBe(e0);
    clock.advance(500);
    expect(reg.put('eu', { ...summaryOf(10), backends: ['w0', 'w1'] })).toEqual({ version: 1, changed: false });
    expect(reg.etag()).toBe(e1);
    expect(reg.get('eu')).toMatchObject({ cluster: 'eu', version: 1, blocks: 10, entries: 10, sampleShift: 0, backends: ['w0', 'w1'], receivedAt: new Date(clock.epochMs()).toISOString() });
    expect(reg.put('eu', { ...summaryOf(20), backends: ['w0', 'w1'] })).toEqual({ version: 2, changed: true });
    expect(reg.put('us', { ...summaryOf(5), backends: [] })).toEqual({ version: 1, changed: true });
    expect(reg.list().items.map((i) => [i.cluster, i.version, i.blocks])).toEqual([['eu', 2, 20], ['us', 1, 5]]);
    expect(reg.list().version).toBe(reg.etag());
  });

  it('forgets a summary not re-sent for 3 intervals (its agent is gone), and says so in the ETag', () => {
    const clock = new VirtualClock();
    const reg = new PrefixSummaryRegistry(clock);
    reg.put('eu', { ...summaryOf(3), intervalMs: 1000, backends: [] });
    reg.put('us', { ...summaryOf(3), backends: [] }); // default interval 10 s
    const before = reg.etag();
    clock.advance(2500);
    reg.put('eu', { ...summaryOf(3), intervalMs: 1000, backends: [] }); // a re-send keeps it
    clock.advance(2500);
    expect(reg.get('eu')).toBeDefined();
    expect(reg.etag()).toBe(before);
    clock.advance(600);
    expect(reg.get('eu')).toBeUndefined();
    expect(reg.etag()).not.toBe(before);
    expect(reg.list().items.map((i) => i.cluster)).toEqual(['us']);
    clock.advance(30_000);
    expect(reg.list().items).toEqual([]);
  });

  it('exports switchyard_prefix_summary_bytes per cluster', async () => {
    const metrics = createMetricsRegistry();
    const reg = new PrefixSummaryRegistry(new VirtualClock(), metrics);
    const s = summaryOf(1000);
    reg.put('eu', { ...s, backends: [] });
    const samples = selectSamples(parsePrometheusText(await metrics.render()), 'switchyard_prefix_summary_bytes', { cluster: 'eu' });
    expect(samples.map((x) => x.value)).toEqual([s.summary.byteLength]);
  });
});
