/** The gateway's Prometheus metrics (all named switchyard_*). */
import type { Counter, Gauge, Metric, Registry } from 'prom-client';
import type { MetricsRegistry } from '../observability/index.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];
const ITL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];
const PLUGIN_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2];

/**
 * The metrics the request path updates on every request (or token) are FastCounter and
 * FastHistogram (below); the rest are plain prom-client metrics.
 */
export class GatewayMetrics {
  readonly requests: FastCounter<'model' | 'backend' | 'status'>;
  readonly duration: FastHistogram<'model'>;
  readonly ttft: FastHistogram<'model' | 'backend'>;
  /** Observed once per streamed token. */
  readonly itl: FastHistogram<'model'>;
  readonly inputTokens: FastCounter<'model'>;
  readonly outputTokens: FastCounter<'model'>;
  readonly cachedTokens: FastCounter<'model'>;
  readonly upstreamErrors: Counter<'backend' | 'kind'>;
  readonly retries: Counter<'model' | 'reason'>;
  readonly circuit: Gauge<'backend'>;
  readonly decisions: FastCounter<'model' | 'profile' | 'outcome'>;
  readonly pluginDuration: FastHistogram<'plugin'>;
  readonly clientDisconnects: Counter<'model'>;

  /** Where in-flight counts come from; set by the subsystems once the load view exists. */
  inflightSource: () => Iterable<readonly [string, number]> = () => [];

  constructor(m: MetricsRegistry) {
    // Registration order is the order of /metrics: keep it.
    const r = m.registry;
    this.requests = FastCounter.register(r, 'switchyard_requests_total', 'Requests by model, backend and HTTP status.', ['model', 'backend', 'status']);
    this.duration = FastHistogram.register(r, 'switchyard_request_duration_seconds', 'End-to-end request duration seen by the gateway.', ['model'], LATENCY_BUCKETS);
    this.ttft = FastHistogram.register(r, 'switchyard_time_to_first_token_seconds', 'Time from request arrival to the first streamed token.', ['model', 'backend'], LATENCY_BUCKETS);
    this.itl = FastHistogram.register(r, 'switchyard_inter_token_latency_seconds', 'Gap between streamed token events.', ['model'], ITL_BUCKETS);
    this.inputTokens = FastCounter.register(r, 'switchyard_input_tokens_total', 'Prompt tokens, from upstream usage.', ['model']);
    this.outputTokens = FastCounter.register(r, 'switchyard_output_tokens_total', 'Completion tokens, from upstream usage.', ['model']);
    this.cachedTokens = FastCounter.register(r, 'switchyard_cached_input_tokens_total', 'Prompt tokens served from the engine prefix cache.', ['model']);
    this.upstreamErrors = m.counter({ name: 'switchyard_upstream_errors_total', help: 'Failed upstream attempts by kind (connect, reset, timeout, 5xx, 429).', labelNames: ['backend', 'kind'] });
    this.retries = m.counter({ name: 'switchyard_retries_total', help: 'Requests retried on another backend, by the failure that caused it.', labelNames: ['model', 'reason'] });
    // With several worker processes, the worst state any of them sees.
    this.circuit = m.gauge({ name: 'switchyard_upstream_circuit_state', help: 'Circuit state per backend: 0 closed, 1 half-open, 2 open (or ejected/unhealthy).', labelNames: ['backend'], aggregator: 'max' });
    const inflight = (): Iterable<readonly [string, number]> => this.inflightSource();
    m.gauge({
      name: 'switchyard_upstream_inflight_requests',
      help: 'Requests in flight per backend (read from the load view at scrape time).',
      labelNames: ['backend'],
      collect() {
        this.reset();
        for (const [backend, n] of inflight()) this.set({ backend }, n);
      },
    });
    this.decisions = FastCounter.register(r, 'switchyard_routing_decisions_total', 'Routing decisions by model, profile and outcome (picked or none).', ['model', 'profile', 'outcome']);
    this.pluginDuration = FastHistogram.register(r, 'switchyard_routing_plugin_duration_seconds', 'Time spent in each routing plugin call.', ['plugin'], PLUGIN_BUCKETS);
    this.clientDisconnects = m.counter({ name: 'switchyard_client_disconnects_total', help: 'Requests whose client went away before the response ended.', labelNames: ['model'] });
  }
}

type LabelValues<L extends string> = Partial<Record<L, string | number>>;

interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricExport {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: ExportValue[];
}

/**
 * The part FastCounter and FastHistogram share: series found by a Map lookup on the label
 * values, registration as a custom metric of a prom-client Registry.
 *
 * prom-client's inc()/observe() cost ~0.6–0.8 µs a call (label validation, a label hash,
 * temporary objects and closures); the request path makes several per request and one per
 * streamed token. These do the same bookkeeping for a Map lookup, and export exactly what the
 * prom-client metric with the same name, help, labels (and buckets) would — same values, same
 * label order (that of the labels object of a series' first update, as prom-client keeps), same
 * series order — so /metrics does not change (metrics.test.ts compares them with prom-client).
 * Unlike prom-client, label names are checked only when a series is created.
 */
abstract class FastMetric<L extends string, S extends { labels: LabelValues<L> }> {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  protected series = new Map<string, S>();

  protected constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {}

  protected static registerIn<M extends FastMetric<string, { labels: object }>>(registry: Registry, name: string, create: () => M, is: (m: unknown) => m is M): M {
    const existing: unknown = registry.getSingleMetric(name);
    if (is(existing)) return existing;
    const metric = create();
    registry.registerMetric(metric as unknown as Metric);
    return metric;
  }

  /** The series of `labels`, created on first use (holding `labels` itself, as prom-client does). */
  protected seriesOf(labels: LabelValues<L>): S {
    const key = this.keyOf(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      for (const k of Object.keys(labels)) {
        if (!(this.labelNames as readonly string[]).includes(k)) throw new Error(`Added label "${k}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`);
      }
      s = this.create(labels);
      this.series.set(key, s);
    }
    return s;
  }

  /** A key that tells label sets apart (an undefined value counts as absent, as in prom-client). */
  private keyOf(labels: LabelValues<L>): string {
    const names = this.labelNames;
    if (names.length === 1) {
      const v = labels[names[0]!];
      return v === undefined ? '\u0001' : `${v}`;
    }
    let key = '';
    for (let i = 0; i < names.length; i++) {
      const v = labels[names[i]!];
      key += v === undefined ? '\u0001\u0000' : `${v}\u0000`;
    }
    return key;
  }

  protected abstract create(labels: LabelValues<L>): S;

  reset(): void {
    this.series = new Map();
  }

  /** prom-client's get() (JSON export). */
  get(): MetricExport {
    const data = this.getForPromString();
    return { ...data, values: data.values.map(({ labels, sharedLabels, value, metricName }) => ({ value, metricName, labels: { ...labels, ...sharedLabels } })) };
  }

  /** What the prom-client registry formats for /metrics. */
  abstract getForPromString(): MetricExport;
}

interface CounterSeries<L extends string> {
  readonly labels: LabelValues<L>;
  value: number;
}

/** A prom-client Counter with labels, made cheap to update (see FastMetric). */
export class FastCounter<L extends string> extends FastMetric<L, CounterSeries<L>> {
  readonly type = 'counter' as const;

  static register<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): FastCounter<L> {
    return FastMetric.registerIn<FastCounter<L>>(registry, name, () => new FastCounter(name, help, labelNames), (m): m is FastCounter<L> => m instanceof FastCounter);
  }

  /** prom-client's inc(labels, value = 1). */
  inc(labels: LabelValues<L>, value = 1): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (value < 0) throw new Error('It is not possible to decrease a counter');
    this.seriesOf(labels).value += value;
  }

  protected create(labels: LabelValues<L>): CounterSeries<L> {
    return { labels, value: 0 };
  }

  getForPromString(): MetricExport {
    const values: ExportValue[] = [];
    for (const s of this.series.values()) values.push({ value: s.value, labels: s.labels as Record<string, string | number> });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  override get(): MetricExport {
    return this.getForPromString();
  }
}

interface HistogramSeries<L extends string> {
  readonly labels: LabelValues<L>;
  /** Per bucket (not cumulative); the last slot counts values above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A prom-client Histogram with labels, made cheap to update (see FastMetric). */
export class FastHistogram<L extends string> extends FastMetric<L, HistogramSeries<L>> {
  readonly type = 'histogram' as const;
  readonly upperBounds: readonly number[];
  /** The single label's series by value, for observeFor (one-label histograms). */
  private byValue = new Map<string, HistogramSeries<L>>();

  private constructor(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) {
    super(name, help, labelNames);
    this.upperBounds = [...buckets];
  }

  static register<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): FastHistogram<L> {
    return FastMetric.registerIn<FastHistogram<L>>(registry, name, () => new FastHistogram(name, help, labelNames, buckets), (m): m is FastHistogram<L> => m instanceof FastHistogram);
  }

  /** prom-client's observe(labels, value). */
  observe(labels: LabelValues<L>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    add(this.seriesOf(labels), this.upperBounds, value);
  }

  /**
   * observe({ [theLabel]: labelValue }, value) `times` times (default once) for a one-label
   * histogram, without the object: a stream's equal inter-token gaps are observed in one call.
   */
  observeFor(labelValue: string, value: number, times = 1): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let s = this.byValue.get(labelValue);
    if (s === undefined) {
      s = this.seriesOf({ [this.labelNames[0]!]: labelValue } as LabelValues<L>);
      this.byValue.set(labelValue, s);
    }
    add(s, this.upperBounds, value, times);
  }

  override reset(): void {
    super.reset();
    this.byValue = new Map();
  }

  protected create(labels: LabelValues<L>): HistogramSeries<L> {
    return { labels, counts: new Array<number>(this.upperBounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  getForPromString(): MetricExport {
    const values: ExportValue[] = [];
    const bucket = `${this.name}_bucket`;
    const bounds = this.upperBounds;
    for (const s of this.series.values()) {
      const shared = s.labels as Record<string, string | number>;
      let acc = 0;
      for (let i = 0; i < bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ labels: { le: bounds[i]! }, sharedLabels: shared, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: shared, value: s.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: shared, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: shared, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

function add<L extends string>(s: HistogramSeries<L>, bounds: readonly number[], value: number, times = 1): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  s.counts[i]! += times;
  s.sum += value * times;
  s.count += times;
}
