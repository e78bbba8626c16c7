/**
 * The load signals in a vLLM /metrics page.
 *
 * - running = Σ vllm:num_requests_running over all label sets (engines, models)
 * - waiting = Σ vllm:num_requests_waiting
 * - kvUsage = mean of vllm:kv_cache_usage_perc over label sets, clamped to [0, 1]
 *   (older vLLM: vllm:gpu_cache_usage_perc, used only when the new name is absent). A mean,
 *   not a sum: each engine reports a fraction of its own cache, so two engines at 0.6 are 0.6
 *   full, not 1.2.
 *
 * NaN samples are skipped. A page without running or waiting is an error (not a vLLM
 * endpoint, or the wrong path); a page without KV usage gives kvUsage null.
 * Only these four series are parsed (`include`), so histogram lines cost almost nothing.
 */
import { SwitchyardError } from '../../core/index.js';
import { parsePrometheusText } from '../../observability/index.js';
import type { PromSamples } from '../../observability/index.js';

/** One scrape's worth of load signals. */
export interface VllmLoad {
  readonly running: number;
  readonly waiting: number;
  /** 0..1, or null when the page has no KV usage series. */
  readonly kvUsage: number | null;
  /** The page carries `switchyard_sim_info`: the backend is Switchyard's simulator, not a real engine. */
  readonly simulated?: boolean;
}

export const VLLM_RUNNING = 'vllm:num_requests_running';
export const VLLM_WAITING = 'vllm:num_requests_waiting';
export const VLLM_KV_USAGE = 'vllm:kv_cache_usage_perc';
export const VLLM_KV_USAGE_LEGACY = 'vllm:gpu_cache_usage_perc';
export const SIM_INFO = 'switchyard_sim_info';

const WANTED = new Set([VLLM_RUNNING, VLLM_WAITING, VLLM_KV_USAGE, VLLM_KV_USAGE_LEGACY, SIM_INFO]);
const include = (name: string): boolean => WANTED.has(name);

export function parseVllmLoad(text: string): VllmLoad {
  const samples = parsePrometheusText(text, { include });
  const running = sum(samples, VLLM_RUNNING);
  const waiting = sum(samples, VLLM_WAITING);
  if (running === null || waiting === null) {
    const missing = [running === null ? VLLM_RUNNING : null, waiting === null ? VLLM_WAITING : null].filter((x) => x !== null).join(' and ');
    throw new SwitchyardError('upstream_error', `metrics page has no ${missing}; is this a vLLM /metrics endpoint?`);
  }
  const kv = mean(samples, VLLM_KV_USAGE) ?? mean(samples, VLLM_KV_USAGE_LEGACY);
  const load = { running, waiting, kvUsage: kv === null ? null : Math.min(1, Math.max(0, kv)) };
  return samples.has(SIM_INFO) ? { ...load, simulated: true } : load;
}

/** Sum and count of the non-NaN samples of `name`. */
function aggregate(samples: PromSamples, name: string): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (const s of samples.get(name) ?? []) {
    if (Number.isNaN(s.value)) continue;
    sum += s.value;
    n++;
  }
  return { sum, n };
}

function sum(samples: PromSamples, name: string): number | null {
  const a = aggregate(samples, name);
  return a.n === 0 ? null : a.sum;
}

function mean(samples: PromSamples, name: string): number | null {
  const a = aggregate(samples, name);
  return a.n === 0 ? null : a.sum / a.n;
}
