/** Observability: structured logs (pino), Prometheus metrics (prom-client), and a /metrics parser. */
export { createLogger, createNullLogger, LOG_LEVELS, REDACTED_PATHS } from './logger.js';
export type { Logger, LoggerOptions, LogLevel } from './logger.js';
export { createMetricsRegistry } from './metrics.js';
export type { GaugeOptions, HistogramOptions, MetricOptions, MetricsRegistry, MetricsRegistryOptions } from './metrics.js';
export { parsePrometheusText, selectSamples, sumSamples } from './prometheus-text.js';
export type { ParsePromOptions, PromSample, PromSamples } from './prometheus-text.js';
