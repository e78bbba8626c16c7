import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../core/index.js';
import { parseVllmLoad } from './vllm.js';

const M = 'meta-llama/Llama-3.1-8B-Instruct';

/** Shaped like vLLM V1's /metrics with two data-parallel engines (abridged). */
const V1_TWO_ENGINES = `# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 12843.0
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="${M}"} 3.0
vllm:num_requests_running{engine="1",model_name="${M}"} 2.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="${M}"} 1.0
vllm:num_requests_waiting{engine="1",model_name="${M}"} 0.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="${M}"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="${M}"} 0.75
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="${M}"} 40.0
vllm:request_success_created{engine="0",finished_reason="stop",model_name="${M}"} 1.7412e+09
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="${M}"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.5",model_name="${M}"} 37.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="${M}"} 40.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="${M}"} 40.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="${M}"} 6.25
`;

/** vLLM V0 names: gpu_cache_usage_perc, one engine, no engine label. */
const V0 = `# HELP vllm:num_requests_running Number of requests currently running on GPU.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="${M}"} 7.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="${M}"} 12.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="${M}"} 0.9130434782608695
`;

describe('parseVllmLoad', () => {
  it('sums running/waiting across engines, averages KV usage, ignores other series', () => {
    expect(parseVllmLoad(V1_TWO_ENGINES)).toEqual({ running: 5, waiting: 1, kvUsage: 0.5 });
  });

  it('accepts the older gpu_cache_usage_perc name', () => {
    expect(parseVllmLoad(V0)).toEqual({ running: 7, waiting: 12, kvUsage: 0.9130434782608695 });
  });

  it('prefers kv_cache_usage_perc when both names are present', () => {
    const both = `${V0}vllm:kv_cache_usage_perc{model_name="${M}"} 0.1\n`;
    expect(parseVllmLoad(both).kvUsage).toBe(0.1);
  });

  it('handles CRLF, NaN samples, clamps KV usage and reports a missing KV series as null', () => {
    const text = 'vllm:num_requests_running 2\r\nvllm:num_requests_running{engine="1"} NaN\r\nvllm:num_requests_waiting 0\r\nvllm:kv_cache_usage_perc 1.0000001\r\n';
    expect(parseVllmLoad(text)).toEqual({ running: 2, waiting: 0, kvUsage: 1 });
    expect(parseVllmLoad('vllm:num_requests_running 1\nvllm:num_requests_waiting 3\n')).toEqual({ running: 1, waiting: 3, kvUsage: null });
  });

  it("marks Switchyard's simulator (switchyard_sim_info on the page), and only it", () => {
    const sim = `${V1_TWO_ENGINES}switchyard_sim_info{model_name="${M}",gpu="A100",simulated="true"} 1\n`;
    expect(parseVllmLoad(sim)).toEqual({ running: 5, waiting: 1, kvUsage: 0.5, simulated: true });
    expect(parseVllmLoad(V1_TWO_ENGINES)).not.toHaveProperty('simulated');
  });

  it('rejects a page without running/waiting (not vLLM, wrong path)', () => {
    expect(() => parseVllmLoad('# HELP up\nup 1\n')).toThrow(SwitchyardError);
    expect(() => parseVllmLoad('vllm:num_requests_running 1\n')).toThrow(/no vllm:num_requests_waiting/);
    expect(() => parseVllmLoad('<html>Not Found</html>')).toThrow(/no vllm:num_requests_running and vllm:num_requests_waiting/);
  });
});
