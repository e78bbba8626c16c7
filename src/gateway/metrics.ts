/** The gateway's Prometheus metrics (all named switchyard_*). */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricsRegistry } from '../observability/index.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];
const ITL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5];
const PLUGIN_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2];

export class GatewayMetrics {
  readonly requests: Counter<'model' | 'backend' | 'status'>;
  readonly duration: Histogram<'model'>;
  readonly ttft: Histogram<'model' | 'backend'>;
  readonly itl: Histogram<'model'>;
  readonly inputTokens: Counter<'model'>;
  readonly outputTokens: Counter<'model'>;
  readonly cachedTokens: Counter<'model'>;
  readonly upstreamErrors: Counter<'backend' | 'kind'>;
  readonly retries: Counter<'model' | 'reason'>;
  readonly circuit: Gauge<'backend'>;
  readonly decisions: Counter<'model' | 'profile' | 'outcome'>;
  readonly pluginDuration: Histogram<'plugin'>;
  readonly clientDisconnects: Counter<'model'>;

  /** Where in-flight counts come from; set by the subsystems once the load view exists. */
  inflightSource: () => Iterable<readonly [string, number]> = () => [];

  constructor(m: MetricsRegistry) {
    this.requests = m.counter({ name: 'switchyard_requests_total', help: 'Requests by model, backend and HTTP status.', labelNames: ['model', 'backend', 'status'] });
    this.duration = m.histogram({ name: 'switchyard_request_duration_seconds', help: 'End-to-end request duration seen by the gateway.', labelNames: ['model'], buckets: LATENCY_BUCKETS });
    this.ttft = m.histogram({ name: 'switchyard_time_to_first_token_seconds', help: 'Time from request arrival to the first streamed token.', labelNames: ['model', 'backend'], buckets: LATENCY_BUCKETS });
    this.itl = m.histogram({ name: 'switchyard_inter_token_latency_seconds', help: 'Gap between streamed token events.', labelNames: ['model'], buckets: ITL_BUCKETS });
    this.inputTokens = m.counter({ name: 'switchyard_input_tokens_total', help: 'Prompt tokens, from upstream usage.', labelNames: ['model'] });
    this.outputTokens = m.counter({ name: 'switchyard_output_tokens_total', help: 'Completion tokens, from upstream usage.', labelNames: ['model'] });
    this.cachedTokens = m.counter({ name: 'switchyard_cached_input_tokens_total', help: 'Prompt tokens served from the engine prefix cache.', labelNames: ['model'] });
    this.upstreamErrors = m.counter({ name: 'switchyard_upstream_errors_total', help: 'Failed upstream attempts by kind (connect, reset, timeout, 5xx, 429).', labelNames: ['backend', 'kind'] });
    this.retries = m.counter({ name: 'switchyard_retries_total', help: 'Requests retried on another backend, by the failure that caused it.', labelNames: ['model', 'reason'] });
    this.circuit = m.gauge({ name: 'switchyard_upstream_circuit_state', help: 'Circuit state per backend: 0 closed, 1 half-open, 2 open (or ejected/unhealthy).', labelNames: ['backend'] });
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
    this.decisions = m.counter({ name: 'switchyard_routing_decisions_total', help: 'Routing decisions by model, profile and outcome (picked or none).', labelNames: ['model', 'profile', 'outcome'] });
    this.pluginDuration = m.histogram({ name: 'switchyard_routing_plugin_duration_seconds', help: 'Time spent in each routing plugin call.', labelNames: ['plugin'], buckets: PLUGIN_BUCKETS });
    this.clientDisconnects = m.counter({ name: 'switchyard_client_disconnects_total', help: 'Requests whose client went away before the response ended.', labelNames: ['model'] });
  }
}
