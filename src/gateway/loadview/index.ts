/**
 * The gateway's load view: live in-flight counts per endpoint (LoadView) combined with scraped
 * vLLM load metrics (Scraper, parseVllmLoad), and the shared queue estimate (estimatedQueue).
 */
export { LoadView } from './load-view.js';
export { estimatedQueue } from '../../router/index.js';
export type { LoadDetail, LoadViewOptions } from './load-view.js';
export { Scraper, httpFetchText } from './scraper.js';
export type { FetchText, ScraperOptions } from './scraper.js';
export { parseVllmLoad, VLLM_KV_USAGE, VLLM_KV_USAGE_LEGACY, VLLM_RUNNING, VLLM_WAITING } from './vllm.js';
export type { VllmLoad } from './vllm.js';
export { LoadViewConfigSchema } from './config.js';
export type { LoadViewConfig, LoadViewConfigInput } from './config.js';
