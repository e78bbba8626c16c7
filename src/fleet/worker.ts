/**
 * One simulated worker: an EngineCore (the simulated vLLM engine model) stepped by an
 * EngineRunner on the fleet's shared VirtualClock, plus the EndpointView the router sees.
 *
 * The view's load has exactly the fields the gateway's LoadView fills: `inFlight` is the live
 * count of requests routed here and not yet finished (the gateway's begin/end); `running`,
 * `waiting` and `kvUsage` are the engine's vllm:num_requests_running / _waiting /
 * kv_cache_usage_perc, read from the engine model directly instead of scraped over HTTP. For
 * prefill_cost it also carries `pendingPrefillTokens` (the engine's prompt tokens not yet
 * computed, sampled with the rest) and `kvCapacityBlocks` (the engine's num_gpu_blocks).
 */
import type { Clock } from '../core/index.js';
import { EngineCore, EngineRunner, type EngineObserver, type EngineRequest } from '../engines/index.js';
import type { EndpointLoad, EndpointView } from '../router/index.js';
import type { CompiledSimulator, KvEventSink } from './config.js';

export class FleetWorker {
  readonly load: EndpointLoad;
  readonly view: EndpointView;
  readonly core: EngineCore;
  readonly runner: EngineRunner;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly cluster: string,
    config: CompiledSimulator,
    clock: Clock,
    observer: EngineObserver,
    sink: KvEventSink | undefined,
  ) {
    this.load = { inFlight: 0, running: null, waiting: null, kvUsage: null, scrapedAt: null, inFlightAtScrape: 0, pendingPrefillTokens: null, kvCapacityBlocks: config.engine.numGpuBlocks };
    this.view = {
      id,
      url: `sim://${id}`,
      model: config.model,
      labels: { cluster, gpu: config.gpu, simulated: 'true' },
      weight: 1,
      healthy: true,
      weightFactor: 1,
      load: this.load,
    };
    this.core = new EngineCore(config.engine, config.perf, observer);
    this.runner = new EngineRunner(this.core, clock, sink ? { onKvEvents: (events, ts) => sink.onKvEvents(id, { ts, events, dataParallelRank: null }) } : {});
  }

  /** Enqueue a request; throws (400-class SwitchyardError) when the engine can never run it. */
  submit(req: EngineRequest): void {
    this.runner.submit(req);
    this.load.inFlight++;
  }

  /** The request finished (called from its onFinish). */
  done(): void {
    this.load.inFlight--;
  }

  /** Sample the engine's load, as a scrape would (scrapedAt = now, inFlightAtScrape = inFlight). */
  sample(nowMs: number): void {
    const s = this.core.getStats();
    const l = this.load;
    l.running = s.running;
    l.waiting = s.waiting;
    l.kvUsage = s.kvUsage;
    l.pendingPrefillTokens = s.pendingPrefillTokens;
    l.scrapedAt = nowMs;
    l.inFlightAtScrape = l.inFlight;
  }
}
