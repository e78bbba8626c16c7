import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, parsePrometheusText } from './index.js';

describe('createMetricsRegistry', () => {
  it('renders counters, gauges and histograms in text format', async () => {
    const m = createMetricsRegistry();
    m.counter({ name: 'switchyard_requests_total', help: 'Requests', labelNames: ['model', 'status'] }).inc({ model: 'a', status: '200' }, 2);
    m.gauge({ name: 'switchyard:backends_healthy', help: 'Healthy backends' }).set(3);
    m.histogram({ name: 'switchyard_ttft_seconds', help: 'TTFT', buckets: [0.1, 1] }).observe(0.5);
    const text = await m.render();
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE switchyard_requests_total counter');
    const parsed = parsePrometheusText(text, { strict: true });
    expect(parsed.get('switchyard_requests_total')).toEqual([{ labels: { model: 'a', status: '200' }, value: 2 }]);
    expect(parsed.get('switchyard:backends_healthy')![0]!.value).toBe(3);
    expect(parsed.get('switchyard_ttft_seconds_bucket')!.map((s) => [s.labels['le'], s.value])).toEqual([
      ['0.1', 0],
      ['1', 1],
      ['+Inf', 1],
    ]);
  });

  it('keeps registries separate (never the global registry)', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    a.counter({ name: 'same_name_total', help: 'x' }).inc();
    b.counter({ name: 'same_name_total', help: 'x' }).inc(5);
    expect(parsePrometheusText(await a.render()).get('same_name_total')![0]!.value).toBe(1);
    expect(parsePrometheusText(await b.render()).get('same_name_total')![0]!.value).toBe(5);
  });

  it('is get-or-create by name, and refuses a different kind or label set', () => {
    const m = createMetricsRegistry();
    const c = m.counter({ name: 'x_total', help: 'x', labelNames: ['a', 'b'] });
    expect(m.counter({ name: 'x_total', help: 'x', labelNames: ['b', 'a'] })).toBe(c);
    expect(() => m.gauge({ name: 'x_total', help: 'x', labelNames: ['a', 'b'] })).toThrow(/already registered as a counter/);
    expect(() => m.counter({ name: 'x_total', help: 'x', labelNames: ['a'] })).toThrow(/labels \[a,b\]/);
  });

  it('gauges can collect on scrape; reset zeroes values', async () => {
    const m = createMetricsRegistry();
    let depth = 7;
    m.gauge({
      name: 'queue_depth',
      help: 'Queue depth',
      collect() {
        this.set(depth);
      },
    });
    const c = m.counter({ name: 'c_total', help: 'c' });
    c.inc(3);
    expect(parsePrometheusText(await m.render()).get('queue_depth')![0]!.value).toBe(7);
    depth = 2;
    m.reset();
    const after = parsePrometheusText(await m.render());
    expect(after.get('queue_depth')![0]!.value).toBe(2);
    expect(after.get('c_total')![0]!.value).toBe(0);
  });

  it('optionally collects process metrics, with default labels', async () => {
    const m = createMetricsRegistry({ defaultMetrics: true, defaultLabels: { instance: 'gw-1' } });
    const parsed = parsePrometheusText(await m.render());
    expect(parsed.get('process_cpu_user_seconds_total')![0]!.labels).toEqual({ instance: 'gw-1' });
    expect(parsePrometheusText(await createMetricsRegistry().render()).size).toBe(0);
  });
});
