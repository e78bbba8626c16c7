/**
 * Prometheus metrics on a private prom-client Registry (never the global one), so several
 * servers can live in one process (tests). Metric helpers are get-or-create: asking twice for
 * the same name and kind returns the same metric; a different kind or label set throws.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Aggregator, CollectFunction } from 'prom-client';
import { SwitchyardError } from '../core/index.js';

export interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /** Called on every scrape to refresh the value. */
  collect?: CollectFunction<Gauge<L>>;
  /** How values of several processes combine in a cluster (prom-client's aggregation); default 'sum'. */
  aggregator?: Aggregator;
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds of the buckets; default prom-client's (5ms … 10s, in seconds). */
  buckets?: readonly number[];
}

export interface MetricsRegistryOptions {
  /** Also export process CPU, memory, event-loop lag, … (prom-client default metrics). */
  defaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ instance: 'gw-1' }`. */
  defaultLabels?: Record<string, string>;
}

export interface MetricsRegistry {
  readonly registry: Registry;
  counter<L extends string = never>(opts: MetricOptions<L>): Counter<L>;
  gauge<L extends string = never>(opts: GaugeOptions<L>): Gauge<L>;
  histogram<L extends string = never>(opts: HistogramOptions<L>): Histogram<L>;
  /** The exposition text for GET /metrics. */
  render(): Promise<string>;
  /** Content-Type header for render()'s output. */
  readonly contentType: string;
  /** Zero every metric (keeps registrations). */
  reset(): void;
}

type Kind = 'counter' | 'gauge' | 'histogram';

export function createMetricsRegistry(opts: MetricsRegistryOptions = {}): MetricsRegistry {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const known = new Map<string, { kind: Kind; labels: string; metric: unknown }>();

  function getOrCreate<M>(kind: Kind, o: MetricOptions<string>, create: () => M): M {
    const labels = [...(o.labelNames ?? [])].sort().join(',');
    const existing = known.get(o.name);
    if (existing) {
      if (existing.kind !== kind || existing.labels !== labels) {
        throw new SwitchyardError(
          'conflict',
          `metric '${o.name}' is already registered as a ${existing.kind} with labels [${existing.labels}]; asked for a ${kind} with labels [${labels}]`,
        );
      }
      return existing.metric as M;
    }
    const metric = create();
    known.set(o.name, { kind, labels, metric });
    return metric;
  }

  return {
    registry,
    counter: <L extends string = never>(o: MetricOptions<L>) =>
      getOrCreate('counter', o, () => new Counter<L>({ name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers: [registry] })),
    gauge: <L extends string = never>(o: GaugeOptions<L>) =>
      getOrCreate('gauge', o, () => new Gauge<L>({ name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers: [registry], ...(o.collect ? { collect: o.collect } : {}), ...(o.aggregator ? { aggregator: o.aggregator } : {}) })),
    histogram: <L extends string = never>(o: HistogramOptions<L>) =>
      getOrCreate('histogram', o, () => new Histogram<L>({ name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers: [registry], ...(o.buckets ? { buckets: [...o.buckets] } : {}) })),
    render: () => registry.metrics(),
    contentType: registry.contentType,
    reset: () => registry.resetMetrics(),
  };
}
