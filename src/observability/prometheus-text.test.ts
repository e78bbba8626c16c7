import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { createMetricsRegistry, parsePrometheusText, selectSamples, sumSamples } from './index.js';

/** Trimmed from a real vLLM 0.x /metrics page, plus escapes and edge cases. */
const VLLM = `# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 11234.0
python_gc_objects_collected_total{generation="1"} 2.1e+03
# HELP vllm:num_requests_running Number of requests currently running on GPU.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.2345e-02
# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="True",gpu_memory_utilization="0.9",num_gpu_blocks="27153"} 1.0
# HELP vllm:e2e_request_latency_seconds Histogram of end to end request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.5",model_name="meta-llama/Llama-3.1-8B-Instruct"} 2.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0
vllm:e2e_request_latency_seconds_count{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 4.912345
# HELP vllm:spec_decode_draft_acceptance_rate Speculative token acceptance rate.
# TYPE vllm:spec_decode_draft_acceptance_rate gauge
vllm:spec_decode_draft_acceptance_rate{model_name="m"} NaN
vllm:lora_requests_info{max_lora="1",running_lora_adapters="",waiting_lora_adapters=""} 1.7e+09
odd_labels{path="C:\\\\models\\\\llama",quote="say \\"hi\\"",nl="a\\nb",spaced = "x" , trailing="y",} -Inf 1700000000000
process_start_time_seconds 1.71e+09
no_labels_inf +Inf
# EOF
`;

describe('parsePrometheusText', () => {
  const m = parsePrometheusText(VLLM);

  it('reads names with colons and their labels', () => {
    expect(m.get('vllm:num_requests_running')).toEqual([{ labels: { engine: '0', model_name: 'meta-llama/Llama-3.1-8B-Instruct' }, value: 3 }]);
    expect(m.get('vllm:gpu_cache_usage_perc')![0]!.value).toBeCloseTo(0.012345, 9);
    expect(m.get('python_gc_objects_collected_total')!.map((s) => s.value)).toEqual([11234, 2100]);
    expect(m.get('vllm:cache_config_info')![0]!.labels['num_gpu_blocks']).toBe('27153');
  });

  it('keeps histogram series apart', () => {
    const buckets = m.get('vllm:e2e_request_latency_seconds_bucket')!;
    expect(buckets.map((b) => [b.labels['le'], b.value])).toEqual([
      ['0.3', 0],
      ['0.5', 2],
      ['+Inf', 7],
    ]);
    expect(m.get('vllm:e2e_request_latency_seconds_count')![0]!.value).toBe(7);
    expect(m.get('vllm:e2e_request_latency_seconds_sum')![0]!.value).toBe(4.912345);
    expect(m.has('vllm:e2e_request_latency_seconds')).toBe(false);
  });

  it('parses NaN, ±Inf and scientific notation', () => {
    expect(m.get('vllm:spec_decode_draft_acceptance_rate')![0]!.value).toBeNaN();
    expect(m.get('no_labels_inf')![0]!.value).toBe(Infinity);
    expect(m.get('odd_labels')![0]!.value).toBe(-Infinity);
    expect(m.get('process_start_time_seconds')![0]!.value).toBe(1.71e9);
    expect(m.get('vllm:lora_requests_info')![0]!.labels).toEqual({ max_lora: '1', running_lora_adapters: '', waiting_lora_adapters: '' });
  });

  it('unescapes label values and reads timestamps', () => {
    const s = m.get('odd_labels')![0]!;
    expect(s.labels).toEqual({ path: 'C:\\models\\llama', quote: 'say "hi"', nl: 'a\nb', spaced: 'x', trailing: 'y' });
    expect(s.timestampMs).toBe(1_700_000_000_000);
    expect(m.get('process_start_time_seconds')![0]!.timestampMs).toBeUndefined();
  });

  it('skips comments and blank lines, handles CRLF', () => {
    const crlf = parsePrometheusText('# HELP a x\r\n\r\na 1\r\nb{x="y"} 2\r\n');
    expect([...crlf.entries()]).toEqual([
      ['a', [{ labels: {}, value: 1 }]],
      ['b', [{ labels: { x: 'y' }, value: 2 }]],
    ]);
  });

  it('filters by name', () => {
    const only = parsePrometheusText(VLLM, { include: (n) => n.startsWith('vllm:num_requests') });
    expect([...only.keys()]).toEqual(['vllm:num_requests_running', 'vllm:num_requests_waiting']);
  });

  it.each([
    ['bad value', 'a{x="y"} abc\nb 1\n', "metrics line 1: bad value 'abc'"],
    ['missing value', 'a{x="y"}\n', 'metrics line 1: missing value'],
    ['unterminated label value', 'ok 1\na{x="y} 1\n', "metrics line 2: unterminated value of label 'x'"],
    ['no equals', 'a{x"y"} 1\n', "expected '=' after label 'x'"],
    ['bad name', '{x="y"} 1\n', 'expected a metric name'],
    ['bad timestamp', 'a 1 soon\n', "bad timestamp 'soon'"],
  ])('skips malformed lines (%s), or throws when strict', (_name, text, message) => {
    expect(() => parsePrometheusText(text)).not.toThrow();
    try {
      parsePrometheusText(text, { strict: true });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SwitchyardError);
      expect((e as Error).message).toContain(message);
    }
  });

  it('keeps the good lines around a malformed one', () => {
    expect([...parsePrometheusText('a 1\nb{x=} 2\nc 3\n').keys()]).toEqual(['a', 'c']);
  });

  it('selects and sums by labels', () => {
    expect(sumSamples(m, 'python_gc_objects_collected_total')).toBe(13_334);
    expect(selectSamples(m, 'python_gc_objects_collected_total', { generation: '1' })).toHaveLength(1);
    expect(sumSamples(m, 'missing')).toBe(0);
  });

  it('round-trips prom-client output', async () => {
    const reg = createMetricsRegistry();
    const h = reg.histogram({ name: 'switchyard:ttft_seconds', help: 'TTFT', labelNames: ['model'], buckets: [0.1, 1] });
    h.observe({ model: 'a "quoted"\\model' }, 0.5);
    const parsed = parsePrometheusText(await reg.render(), { strict: true });
    expect(selectSamples(parsed, 'switchyard:ttft_seconds_bucket', { model: 'a "quoted"\\model', le: '1' })[0]!.value).toBe(1);
    expect(selectSamples(parsed, 'switchyard:ttft_seconds_bucket', { le: '+Inf' })[0]!.value).toBe(1);
  });

  it('parses a large scrape completely (speed is tracked by bench/micro, not here)', () => {
    const page = Array.from({ length: 50 }, () => VLLM).join('');
    const one = [...parsePrometheusText(VLLM).values()].reduce((s, v) => s + v.length, 0);
    const many = [...parsePrometheusText(page).values()].reduce((s, v) => s + v.length, 0);
    expect(many).toBe(one * 50);
  });
});
