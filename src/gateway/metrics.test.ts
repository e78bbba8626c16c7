import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../observability/index.js';
import { FastCounter, FastHistogram, GatewayMetrics } from './metrics.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];
const VALUES = [0, 0.001, 0.0010001, 0.002, 0.0025, 0.004, 0.01, 0.3, 0.31, 1, 2.5, 2.6, 100, 0.05, 0.05];
const HELP = 'Gap "between" tokens\\.';

type Observer = { observe(labels: Record<string, string>, v: number): void };
type Incrementer = { inc(labels: Record<string, string>, v?: number): void };

/** The same updates on prom-client metrics and on ours, in registries of their own: both exports. */
async function both(labelNames: string[], update: (h: Observer, c: Incrementer) => void): Promise<{ text: [string, string]; json: [unknown, unknown] }> {
  const a = new Registry();
  const b = new Registry();
  update(new Histogram({ name: 'x_seconds', help: HELP, labelNames, buckets: BUCKETS, registers: [a] }), new Counter({ name: 'x_total', help: 'Things.', labelNames, registers: [a] }));
  update(FastHistogram.register(b, 'x_seconds', HELP, labelNames, BUCKETS), FastCounter.register(b, 'x_total', 'Things.', labelNames));
  const strip = (j: unknown) => JSON.parse(JSON.stringify(j, (k, v: unknown) => (k === 'exemplar' ? undefined : v))) as unknown;
  return { text: [await a.metrics(), await b.metrics()], json: [strip(await a.getMetricsAsJSON()), strip(await b.getMetricsAsJSON())] };
}

describe('FastHistogram and FastCounter', () => {
  it('export exactly what prom-client does for the same updates (one label)', async () => {
    const r = await both(['model'], (h, c) => {
      for (const v of VALUES) h.observe({ model: 'm1' }, v);
      for (const v of VALUES.slice(3)) h.observe({ model: 'm "2"\n' }, v);
      c.inc({ model: 'm1' });
      c.inc({ model: 'm1' }, 41);
      c.inc({ model: 'm\\3' }, 0.5);
    });
    expect(r.text[1]).toBe(r.text[0]);
    expect(r.json[1]).toEqual(r.json[0]);
    expect(r.text[1]).toContain('x_seconds_bucket{le="0.001",model="m1"} 2');
    expect(r.text[1]).toContain('x_total{model="m1"} 42');
  });

  it('export exactly what prom-client does for several labels, in the order of the first update', async () => {
    const r = await both(['model', 'backend', 'status'], (h, c) => {
      h.observe({ model: 'a', backend: 'w1' }, 0.2);
      h.observe({ backend: 'w2', model: 'a' }, 0.02);
      h.observe({ model: 'a', backend: 'w1' }, 3);
      c.inc({ model: 'a', backend: 'w1', status: '200' });
      c.inc({ status: '502', backend: 'none', model: 'a' });
      c.inc({ model: 'a', backend: 'w1', status: '200' });
    });
    expect(r.text[1]).toBe(r.text[0]);
    expect(r.json[1]).toEqual(r.json[0]);
  });

  it('export nothing before the first update, and are emptied by a registry reset', async () => {
    const r = await both(['model'], () => undefined);
    expect(r.text[1]).toBe(r.text[0]);
    const reg = new Registry();
    const h = FastHistogram.register(reg, 'x_seconds', 'h', ['model'], BUCKETS);
    const c = FastCounter.register(reg, 'x_total', 'c', ['model']);
    h.observeFor('m', 0.01);
    c.inc({ model: 'm' });
    reg.resetMetrics();
    expect(await reg.metrics()).toBe('# HELP x_seconds h\n# TYPE x_seconds histogram\n\n# HELP x_total c\n# TYPE x_total counter\n');
    h.observeFor('m', 0.01);
    h.observe({ model: 'm' }, 0.02);
    expect(await reg.metrics()).toContain('x_seconds_count{model="m"} 2');
  });

  it('observeFor(v, x) is observe({ label: v }, x)', async () => {
    const a = new Registry();
    const b = new Registry();
    const ha = FastHistogram.register(a, 'x', 'h', ['model'], BUCKETS);
    const hb = FastHistogram.register(b, 'x', 'h', ['model'], BUCKETS);
    for (const v of VALUES) {
      ha.observe({ model: 'm' }, v);
      hb.observeFor('m', v);
    }
    expect(await b.metrics()).toBe(await a.metrics());
  });

  it('observeFor(v, x, n) is n times observe({ label: v }, x)', async () => {
    const a = new Registry();
    const b = new Registry();
    const ha = FastHistogram.register(a, 'x', 'h', ['model'], BUCKETS);
    const hb = FastHistogram.register(b, 'x', 'h', ['model'], BUCKETS);
    for (const [i, v] of [0, 0.003, 0.25, 7].entries()) {
      for (let k = 0; k <= i + 1; k++) ha.observe({ model: 'm' }, v);
      hb.observeFor('m', v, i + 2);
    }
    expect(await b.metrics()).toBe(await a.metrics());
  });

  it('reject what prom-client rejects', () => {
    const r = new Registry();
    const h = FastHistogram.register(r, 'x', 'h', ['model'], BUCKETS);
    const c = FastCounter.register(r, 'y', 'c', ['model']);
    expect(() => h.observeFor('m', NaN)).toThrow(TypeError);
    expect(() => h.observe({ model: 'm' }, Infinity)).toThrow(TypeError);
    expect(() => c.inc({ model: 'm' }, -1)).toThrow(/decrease/);
    expect(() => c.inc({ model: 'm' }, NaN)).toThrow(TypeError);
    expect(() => c.inc({ nope: 'x' } as unknown as { model: string })).toThrow(/not included/);
  });

  it('are shared by gateways that share a metrics registry, and keep the /metrics order', async () => {
    const m = createMetricsRegistry();
    const g1 = new GatewayMetrics(m);
    const g2 = new GatewayMetrics(m);
    expect(g2.itl).toBe(g1.itl);
    expect(g2.requests).toBe(g1.requests);
    const names = [...(await m.render()).matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]);
    expect(names).toEqual([
      'switchyard_requests_total',
      'switchyard_request_duration_seconds',
      'switchyard_time_to_first_token_seconds',
      'switchyard_inter_token_latency_seconds',
      'switchyard_input_tokens_total',
      'switchyard_output_tokens_total',
      'switchyard_cached_input_tokens_total',
      'switchyard_upstream_errors_total',
      'switchyard_retries_total',
      'switchyard_upstream_circuit_state',
      'switchyard_upstream_inflight_requests',
      'switchyard_routing_decisions_total',
      'switchyard_routing_plugin_duration_seconds',
      'switchyard_client_disconnects_total',
    ]);
  });
});
