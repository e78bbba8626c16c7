/**
 * Scraper: GET `${url}${path}` (default /metrics) for each endpoint every `interval` (± jitter)
 * on the injected Clock, parse the vLLM load signals (vllm.ts) and record them in a LoadView.
 * A failed fetch, a non-2xx answer, a timeout or a page without vLLM metrics is recorded as a
 * scrape failure (old values stay until stale). Scheduling, no-overlap and the Clock-measured
 * timeout come from EndpointPoller.
 *
 * The Scraper only scrapes: the LoadView's id set is managed separately
 * (loadView.setEndpoints), and results for ids the LoadView does not know are dropped.
 */
import { request } from 'undici';
import { SwitchyardError } from '../../core/index.js';
import type { Clock } from '../../core/index.js';
import { EndpointPoller } from '../health/index.js';
import type { PollTarget } from '../health/index.js';
import { LoadViewConfigSchema } from './config.js';
import type { LoadViewConfig, LoadViewConfigInput } from './config.js';
import type { LoadView } from './load-view.js';
import { parseVllmLoad } from './vllm.js';
import type { VllmLoad } from './vllm.js';

/** Fetch a URL's body as text; reject on non-2xx. Must settle within about `timeoutMs`. */
export type FetchText = (url: string, timeoutMs: number, signal?: AbortSignal) => Promise<string>;

export interface ScraperOptions {
  readonly clock: Clock;
  readonly loadView: LoadView;
  /** Raw or compiled `loadView` config (interval, timeout, path, jitter). */
  readonly config?: LoadViewConfigInput;
  /** Default: httpFetchText (undici). */
  readonly fetchText?: FetchText;
  /** Uniform [0, 1) source for jitter; default Math.random. */
  readonly random?: () => number;
  readonly endpoints?: readonly PollTarget[];
}

export class Scraper {
  readonly config: LoadViewConfig;
  private readonly poller: EndpointPoller<VllmLoad>;

  constructor(opts: ScraperOptions) {
    const config = LoadViewConfigSchema.parse(opts.config ?? {});
    this.config = config;
    const fetchText = opts.fetchText ?? httpFetchText;
    const view = opts.loadView;
    this.poller = new EndpointPoller<VllmLoad>({
      clock: opts.clock,
      interval: config.interval,
      timeout: config.timeout,
      jitter: config.jitter,
      ...(opts.random ? { random: opts.random } : {}),
      run: async (t, timeoutMs, signal) => parseVllmLoad(await fetchText(t.url.replace(/\/+$/, '') + config.path, timeoutMs, signal)),
      onResult: (id, r) => {
        if (r.ok) view.recordScrape(id, r.value);
        else view.recordScrapeFailure(id, r.error);
      },
    });
    if (opts.endpoints) this.poller.setTargets(opts.endpoints);
  }

  get running(): boolean {
    return this.poller.isRunning;
  }

  /** Begin scraping (each endpoint at once, then every interval). No-op when `scrape` is false. */
  start(): void {
    if (this.config.scrape) this.poller.start();
  }

  stop(): void {
    this.poller.stop();
  }

  /** Replace the set of endpoints to scrape (the LoadView's ids are not touched). */
  setEndpoints(endpoints: readonly PollTarget[]): void {
    this.poller.setTargets(endpoints);
  }
}

/** Default FetchText: undici GET with headers/body timeouts and an overall abort at `timeoutMs`. */
export async function httpFetchText(url: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const res = await request(url, { method: 'GET', signal: sig, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: { accept: 'text/plain' } });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump({ limit: 65_536, signal: sig }).catch(() => undefined);
    throw new SwitchyardError('upstream_error', `GET ${url}: HTTP ${res.statusCode}`, { detail: { status: res.statusCode } });
  }
  return res.body.text();
}
