/**
 * vLLM's Prometheus metrics, with vLLM's names, labels (model_name, engine) and buckets, fed by
 * the engine model's observer hooks. Latencies are in seconds of engine time (simulated time:
 * with --speedup X they are X times the wall-clock durations).
 */
import type { Counter, Histogram } from 'prom-client';
import type { MetricsRegistry } from '../../../observability/index.js';
import type { EngineCore, EngineObserver, FinishedRequest } from '../model/index.js';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];
const TOKEN_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

export interface VllmMetricsInfo {
  model: string;
  blockSize: number;
  numGpuBlocks: number;
  gpu: string;
  enablePrefixCaching: boolean;
}

export class VllmMetrics implements EngineObserver {
  private readonly labels: { model_name: string; engine: string };
  private readonly ttft: Histogram<'model_name' | 'engine'>;
  private readonly itl: Histogram<'model_name' | 'engine'>;
  private readonly e2e: Histogram<'model_name' | 'engine'>;
  private readonly queue: Histogram<'model_name' | 'engine'>;
  private readonly promptHist: Histogram<'model_name' | 'engine'>;
  private readonly genHist: Histogram<'model_name' | 'engine'>;
  private readonly success: Counter<'model_name' | 'engine' | 'finished_reason'>;
  private readonly prefixQueries: Counter<'model_name' | 'engine'>;
  private readonly prefixHits: Counter<'model_name' | 'engine'>;
  private readonly preemptions: Counter<'model_name' | 'engine'>;
  private readonly promptTokens: Counter<'model_name' | 'engine'>;
  private readonly generationTokens: Counter<'model_name' | 'engine'>;

  constructor(m: MetricsRegistry, info: VllmMetricsInfo, getCore: () => EngineCore) {
    this.labels = { model_name: info.model, engine: '0' };
    const labelNames = ['model_name', 'engine'] as const;
    const L = this.labels;
    m.gauge({ name: 'vllm:num_requests_running', help: 'Number of requests in model execution batches.', labelNames, collect() { this.set(L, getCore().getStats().running); } });
    m.gauge({ name: 'vllm:num_requests_waiting', help: 'Number of requests waiting to be processed.', labelNames, collect() { this.set(L, getCore().getStats().waiting); } });
    m.gauge({ name: 'vllm:kv_cache_usage_perc', help: 'KV-cache usage. 1 means 100 percent usage.', labelNames, collect() { this.set(L, getCore().getStats().kvUsage); } });
    m.gauge({
      name: 'vllm:cache_config_info',
      help: 'Information of the LLMEngine CacheConfig',
      labelNames: ['model_name', 'engine', 'block_size', 'num_gpu_blocks', 'enable_prefix_caching', 'gpu_memory_utilization', 'cache_dtype'],
    }).set({ ...L, block_size: String(info.blockSize), num_gpu_blocks: String(info.numGpuBlocks), enable_prefix_caching: String(info.enablePrefixCaching), gpu_memory_utilization: '0.9', cache_dtype: 'auto' }, 1);
    m.gauge({ name: 'switchyard_sim_info', help: 'This engine is the Switchyard SIMULATOR (no real model, no GPU).', labelNames: ['model_name', 'gpu', 'simulated'] }).set({ model_name: info.model, gpu: info.gpu, simulated: 'true' }, 1);
    this.prefixQueries = m.counter({ name: 'vllm:prefix_cache_queries_total', help: 'Prefix cache queries, in terms of number of queried tokens.', labelNames });
    this.prefixHits = m.counter({ name: 'vllm:prefix_cache_hits_total', help: 'Prefix cache hits, in terms of number of cached tokens.', labelNames });
    this.preemptions = m.counter({ name: 'vllm:num_preemptions_total', help: 'Cumulative number of preemption from the engine.', labelNames });
    this.promptTokens = m.counter({ name: 'vllm:prompt_tokens_total', help: 'Number of prefill tokens processed.', labelNames });
    this.generationTokens = m.counter({ name: 'vllm:generation_tokens_total', help: 'Number of generation tokens processed.', labelNames });
    this.success = m.counter({ name: 'vllm:request_success_total', help: 'Count of successfully processed requests.', labelNames: ['model_name', 'engine', 'finished_reason'] });
    this.ttft = m.histogram({ name: 'vllm:time_to_first_token_seconds', help: 'Histogram of time to first token in seconds.', labelNames, buckets: TTFT_BUCKETS });
    this.itl = m.histogram({ name: 'vllm:inter_token_latency_seconds', help: 'Histogram of inter-token latency in seconds.', labelNames, buckets: ITL_BUCKETS });
    this.e2e = m.histogram({ name: 'vllm:e2e_request_latency_seconds', help: 'Histogram of e2e request latency in seconds.', labelNames, buckets: E2E_BUCKETS });
    this.queue = m.histogram({ name: 'vllm:request_queue_time_seconds', help: 'Histogram of time spent in WAITING phase for request.', labelNames, buckets: E2E_BUCKETS });
    this.promptHist = m.histogram({ name: 'vllm:request_prompt_tokens', help: 'Number of prefill tokens processed.', labelNames, buckets: TOKEN_BUCKETS });
    this.genHist = m.histogram({ name: 'vllm:request_generation_tokens', help: 'Number of generation tokens processed.', labelNames, buckets: TOKEN_BUCKETS });
  }

  firstToken(_id: string, ttftMs: number): void {
    this.ttft.observe(this.labels, ttftMs / 1000);
  }
  interToken(_id: string, itlMs: number): void {
    this.itl.observe(this.labels, itlMs / 1000);
  }
  prefixLookup(queried: number, hits: number): void {
    this.prefixQueries.inc(this.labels, queried);
    if (hits > 0) this.prefixHits.inc(this.labels, hits);
  }
  preempted(): void {
    this.preemptions.inc(this.labels);
  }
  finished(r: FinishedRequest): void {
    this.promptTokens.inc(this.labels, r.promptTokens);
    if (r.outputTokens > 0) this.generationTokens.inc(this.labels, r.outputTokens);
    if (r.finishReason === 'abort') return;
    this.success.inc({ ...this.labels, finished_reason: r.finishReason }, 1);
    this.e2e.observe(this.labels, (r.finishedMs - r.arrivalMs) / 1000);
    if (r.scheduledMs !== null) this.queue.observe(this.labels, (r.scheduledMs - r.arrivalMs) / 1000);
    this.promptHist.observe(this.labels, r.promptTokens);
    this.genHist.observe(this.labels, r.outputTokens);
  }
}
