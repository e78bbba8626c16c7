/**
 * The live replay behind `switchyard simulate --live`: replay a trace over HTTP through a real
 * gateway to real `worker sim` HTTP servers, and measure what the fleet simulator (src/fleet)
 * predicts for it.
 *
 * What is real and what is simulated. The engines are SIMULATORS (SimWorker: the same engine
 * model as the fleet simulator, on a ScaledClock running `speedup` (S) times faster than real
 * time). Everything between the client and the engine model is the production code path: the
 * Gateway (inbound parsing, the router with its profiles and plugins, the load view fed by
 * scraping each engine's /metrics, the exact KV index fed by the engines' ZMQ KV events with
 * replay), the HTTP/SSE proxying, and the engines' HTTP servers.
 *
 * Where it lives. The replay composes gateway + engines + fleet, and `fleet` may not import
 * `gateway` (tools/eslint/boundaries.js LAYERS). It is its own module, `replay` (above fleet and
 * gateway, below cli), rather than a file of the CLI, so the benchmark (bench/routing/live.ts) and
 * the integration test can use it through an index without reaching into the CLI.
 *
 * Equal engines. Every SimWorker gets the engine config the fleet simulator compiled
 * (compileSimulatorOptions: block size, block count, max-num-seqs, token budget, context length),
 * through SimWorkerOptions.engineConfig, and the same GPU / architecture / tensor parallelism, so
 * step times and cache capacity are identical; endpoint ids and labels are the simulator's worker
 * ids, so id-ordered and id-hashed pickers (round_robin, consistent_hash) see the same fleet.
 *
 * Time. Request i is sent (t_i − t_0) / S real ms after the replay starts (t = trace timestamps
 * after --rate-scale), so simulated time on the engines follows the trace clock. The client
 * measures TTFT (send → first token event), inter-token gaps and completion in real ms and
 * converts them to simulated ms (× S). Hit rate = Σ usage.prompt_tokens_details.cached_tokens /
 * Σ usage.prompt_tokens (what the engine's prefix cache served, as in the simulator); imbalance
 * from the x-switchyard-backend header; throughput over simulated time.
 *
 * What the live run adds over the simulator, each multiplied by S in simulated time: the HTTP and
 * JSON cost of sending prompts of thousands of token ids through the gateway, Node timer
 * granularity (every engine step is a setTimeout of ≥ 1 ms real), event-loop contention (client,
 * gateway and engines share this process), the load view's scrape interval (real time; the
 * simulator models it with scrapeIntervalMs = interval × S) and KV-event delivery lag. Keep S
 * small enough that these stay small next to the engines' step times; eventLoopDelayP99Ms and
 * sendLagP99Ms in the result show how well the machine kept up.
 */
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { Rng, ScaledClock, SwitchyardError, type Clock, type TimerHandle } from '../core/index.js';
import { SimWorker } from '../engines/index.js';
import { hitRateUpperBound, percentiles, promptTokens, summarize, type CompiledSimulator, type FleetSimulator, type OutcomeSample, type SimulationMetrics, type UpperBound, type WorkerSummary } from '../fleet/index.js';
import { Gateway, loadGatewayConfig, type GatewayConfig } from '../gateway/index.js';
import { compileProfiles, Router, SESSION_HEADER } from '../router/index.js';

export interface LiveReplayOptions {
  /** The fleet simulator's compiled options (trace, fleet, engine config, policy, seed). */
  readonly config: CompiledSimulator;
  /** Extra routing profiles: the `profiles:` mapping of a gateway config. */
  readonly profiles?: unknown;
  /** GPUs per worker (default 1), as given to the simulator. */
  readonly tensorParallelSize?: number;
  /** Simulated time runs this many times faster than real time on the engines. */
  readonly speedup: number;
  /** Real ms between two scrapes of every engine's /metrics by the gateway (no jitter). */
  readonly scrapeIntervalMs: number;
  readonly signal?: AbortSignal;
  /** Called when the fleet is up and the replay begins. */
  readonly onStart?: (info: { readonly gatewayUrl: string; readonly replaySeconds: number }) => void;
}

/** What `switchyard simulate --live --json` prints (the first eight keys are the simulator's contract). */
export interface LiveMetrics extends Omit<SimulationMetrics, 'decisionP99Us'> {
  /** p99 over decisions of the summed plugin times the gateway recorded (µs, real CPU time); null when none. */
  decisionP99Us: number | null;
  mode: 'live';
  speedup: number;
  /** The gateway's load-scrape interval, real ms. */
  gatewayScrapeIntervalMs: number;
  /** Real seconds the replay took (first send → last response). */
  wallSeconds: number;
  /** p99 of how late requests were sent after their scheduled time, real ms. */
  sendLagP99Ms: number;
  /** p99 event-loop delay during the replay, real ms (× speedup = simulated time an engine step can lose). */
  eventLoopDelayP99Ms: number;
  /**
   * How much longer the engines' steps took than the engine model says: Σ timer lateness /
   * Σ step durations over every engine step of the replay (0.03 = 3% slower), and the p99 of one
   * step's lateness in simulated ms. What timer granularity and event-loop stalls cost.
   */
  engineSlowdown: number;
  engineStepLateP99Ms: number;
}

export interface LiveFailure {
  readonly index: number;
  readonly status: number | null;
  readonly message: string;
}

/** A live engine's counters: the simulator's per-worker summary without the cluster. */
export type LiveWorkerSummary = Omit<WorkerSummary, 'cluster'>;

export interface LiveReplayResult {
  readonly metrics: LiveMetrics;
  readonly upperBound: UpperBound;
  readonly config: CompiledSimulator;
  readonly workers: readonly LiveWorkerSummary[];
  readonly failures: readonly LiveFailure[];
  readonly speedup: number;
  readonly wallMs: number;
}

/**
 * Give a FleetSimulator the load view the live gateway has. The gateway's LoadView knows what
 * vLLM's /metrics carry — running, waiting, KV usage — plus its own in-flight counts; the
 * simulator's workers also hand the router each engine's exact pending prefill tokens and its
 * block count (EndpointLoad.pendingPrefillTokens / kvCapacityBlocks), which prefill_cost (the
 * `default` and `dynamo_kv` profiles) uses instead of its estimates (waiting × meanPromptTokens,
 * running × meanPromptTokens / block). With long prompts (the Mooncake trace averages ~13k
 * tokens, the estimate assumes 1,024) that extra knowledge changes placement and TTFT a lot, so
 * --compare hides both fields from the simulator's router: every sample is taken as before, then
 * the two fields are cleared, as the gateway never fills them. Call before running `sim`.
 */
export function useGatewayLoadView(sim: FleetSimulator): void {
  for (const w of sim.workers) {
    const sample = w.sample.bind(w);
    w.load.pendingPrefillTokens = null;
    w.load.kvCapacityBlocks = null;
    w.sample = (nowMs: number): void => {
      sample(nowMs);
      w.load.pendingPrefillTokens = null;
      w.load.kvCapacityBlocks = null;
    };
  }
}

/**
 * The engines' clock (a ScaledClock shared by every engine) that records how late each timer
 * fired: an engine step is a timer of the step's modelled duration, so lateness is simulated time
 * the live engines lose to timer granularity and event-loop stalls.
 */
class LatenessClock implements Clock {
  private readonly inner: ScaledClock;
  requestedMs = 0;
  lateMs = 0;
  readonly late: number[] = [];

  constructor(speedup: number) {
    this.inner = new ScaledClock(speedup);
  }
  now(): number {
    return this.inner.now();
  }
  epochMs(): number {
    return this.inner.epochMs();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const due = this.inner.now() + Math.max(0, ms);
    return this.inner.setTimeout(() => {
      const late = Math.max(0, this.inner.now() - due);
      this.requestedMs += Math.max(0, ms);
      this.lateMs += late;
      this.late.push(late);
      fn();
    }, ms);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.inner.clearTimeout(handle);
  }
  reset(): void {
    this.requestedMs = 0;
    this.lateMs = 0;
    this.late.length = 0;
  }
}

const invalid = (param: string, message: string): SwitchyardError => new SwitchyardError('invalid_argument', message, { param });

/** The fleet simulator's worker ids: `c<cluster>/w<i>`, i zero-padded within the cluster (see FleetSimulator). */
export function fleetWorkerIds(workers: number, clusters: number): { id: string; cluster: string }[] {
  const pad = String(Math.ceil(workers / clusters) - 1).length;
  return Array.from({ length: workers }, (_, i) => {
    const c = Math.floor((i * clusters) / workers);
    const first = Math.ceil((c * workers) / clusters);
    return { id: `c${c}/w${String(i - first).padStart(pad, '0')}`, cluster: `c${c}` };
  });
}

/**
 * Start the fleet (workers + gateway, 127.0.0.1, random ports), replay the trace, stop the fleet.
 * Returns undefined when `signal` aborted the run.
 */
export async function runLiveReplay(o: LiveReplayOptions): Promise<LiveReplayResult | undefined> {
  const c = o.config;
  const S = o.speedup;
  if (!(S > 0) || !Number.isFinite(S)) throw invalid('speedup', `speedup must be a positive number, got ${S}`);
  if (!(o.scrapeIntervalMs >= 10)) throw invalid('scrape-interval', `the gateway scrapes at most every 10 ms of real time, got ${o.scrapeIntervalMs} ms`);
  if (c.clusterPolicy !== undefined) throw invalid('cluster-policy', 'the live replay routes in one layer (one gateway over every worker); --cluster-policy is for the simulator only');
  const router = new Router(compileProfiles(o.profiles));
  if (!router.hasProfile(c.policy)) throw invalid('policy', `unknown routing profile '${c.policy}' for --policy; known: ${router.names().join(', ')}`);

  const ids = fleetWorkerIds(c.workers, c.clusters);
  const clock = new LatenessClock(S);
  const workers: SimWorker[] = [];
  let gateway: Gateway | undefined;
  const agent = new Agent({ keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  try {
    for (let i = 0; i < c.workers; i++) {
      workers.push(
        await SimWorker.start({
          model: c.model,
          arch: c.model,
          gpu: c.gpu,
          tensorParallelSize: o.tensorParallelSize ?? 1,
          engineConfig: { ...c.engine, enablePrefixCaching: true, emitKvEvents: true },
          host: '127.0.0.1',
          port: 0,
          speedup: S,
          clock,
          seed: c.seed + i,
          kvEventsEndpoint: 'tcp://127.0.0.1:*',
          kvEventsReplayEndpoint: 'tcp://127.0.0.1:*',
        }),
      );
    }
    const gatewayConfig = (profile: string, decisions: number): GatewayConfig =>
      loadGatewayConfig({
        name: 'simulate --live',
        object: {
          listen: { host: '127.0.0.1', port: 0 },
          models: [
            {
              name: c.model,
              profile,
              tokenizer: 'sim',
              endpoints: workers.map((w, i) => ({
                id: ids[i]!.id,
                url: w.url,
                labels: { cluster: ids[i]!.cluster, gpu: c.gpu, simulated: 'true' },
                kvEvents: { endpoint: w.kvEventsEndpoint!, replayEndpoint: w.kvEventsReplayEndpoint! },
              })),
            },
          ],
          ...(o.profiles === undefined ? {} : { profiles: o.profiles }),
          kvIndex: { blockSize: c.engine.blockSize, maxBlocksPerBackend: Math.max(1_000_000, 2 * c.engine.numGpuBlocks) },
          loadView: { interval: o.scrapeIntervalMs, timeout: Math.max(1000, o.scrapeIntervalMs), jitter: 0 },
          // A queued request may wait long before its first token: never time it out, never retry it.
          timeouts: { firstByte: '1h', idle: '1h', total: '24h' },
          retries: { attempts: 1 },
          debugDecisions: decisions,
        },
      });
    const aborted = (): boolean => o.signal?.aborted === true;
    await warmUp(gatewayConfig('round_robin', 0), workers, c, agent);
    if (aborted()) return undefined;
    const rng = new Rng(c.seed);
    gateway = await Gateway.start({ config: gatewayConfig(c.policy, Math.min(10_000, c.trace.length)), random: () => rng.next() });
    await joinKvStreams(gateway, workers, ids.map((x) => x.id), c, agent);
    if (aborted()) return undefined;
    return await replay(o, gateway, workers, ids.map((x) => x.id), agent, clock);
  } finally {
    await gateway?.close();
    await Promise.all(workers.map((w) => w.close()));
    await agent.close();
  }
}

/** A prompt of tokens the trace never uses (trace tokens are < SIM_VOCAB = 100,000): it can never hit. */
function foreignPrompt(len: number, salt: number): number[] {
  return Array.from({ length: len }, (_, k) => 100_000 + ((salt * 101 + k * 7) % 256));
}

/** Tokens per warm-up prompt: up to two blocks, within the context limit and the KV capacity. */
function warmLength(c: CompiledSimulator): number {
  return Math.max(1, Math.min(2 * c.engine.blockSize, c.engine.maxModelLen - 1, c.engine.numGpuBlocks * c.engine.blockSize - 1));
}

/**
 * Load and JIT-compile the whole request path (gateway inbound, router, proxy, SSE relay, the
 * engines' handlers) before anything is measured, through a throwaway gateway (so the measured
 * gateway's routing state — round-robin cursors, session pins, learned prefixes — starts
 * untouched): without it the first requests pay hundreds of ms of module loading, × speedup.
 */
async function warmUp(config: GatewayConfig, workers: readonly SimWorker[], c: CompiledSimulator, agent: Agent): Promise<void> {
  const g = await Gateway.start({ config });
  try {
    await g.kv.ready('sim');
    const len = warmLength(c);
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        workers.map(async (_, i) => {
          const body = JSON.stringify({ model: c.model, prompt: foreignPrompt(len, 1000 + round * workers.length + i), max_tokens: 4, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
          const res = await request(`${g.url}/v1/completions`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body });
          const text = await res.body.text();
          if (res.statusCode !== 200) throw new SwitchyardError('upstream_error', `warm-up request failed (${res.statusCode}): ${text.slice(0, 200)}`);
        }),
      );
    }
  } finally {
    await g.close();
  }
}

/**
 * ZMQ subscriptions join asynchronously (events published before a subscriber is connected are
 * never seen). Send each engine, directly, prompts of tokens the trace never uses (ids ≥ 100,000)
 * until the gateway has received a KV-event batch from it, then reset its prefix cache so every
 * engine starts cold, as in the simulator. The router never sees these requests.
 */
async function joinKvStreams(gateway: Gateway, workers: readonly SimWorker[], ids: readonly string[], c: CompiledSimulator, agent: Agent): Promise<void> {
  await gateway.kv.ready('sim');
  const len = warmLength(c);
  const deadline = performance.now() + 15_000;
  for (const [i, w] of workers.entries()) {
    const id = ids[i]!;
    // A prompt shorter than a block stores nothing: no KV events to wait for (none will ever matter).
    for (let attempt = 0; len >= c.engine.blockSize && (gateway.kv.subscriberStats()[id]?.received ?? 0) === 0; attempt++) {
      if (performance.now() > deadline) throw new SwitchyardError('unavailable', `the gateway received no KV events from ${id} (${w.kvEventsEndpoint ?? '-'}) within 15 s`);
      const res = await request(`${w.url}/v1/completions`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: c.model, prompt: foreignPrompt(len, i * 37 + attempt), max_tokens: 1 }) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new SwitchyardError('upstream_error', `warm-up request to ${id} failed (${res.statusCode}): ${text.slice(0, 200)}`);
      for (let k = 0; k < 40 && (gateway.kv.subscriberStats()[id]?.received ?? 0) === 0; k++) await sleep(5);
    }
    const reset = await request(`${w.url}/reset_prefix_cache`, { method: 'POST', dispatcher: agent });
    await reset.body.dump();
  }
}

/** The usage object of the stream's last chunk (OpenAI wire format). */
interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

interface Measured {
  readonly outcome: OutcomeSample;
  readonly backend: string;
}

async function replay(o: LiveReplayOptions, gateway: Gateway, workers: readonly SimWorker[], ids: readonly string[], agent: Agent, clock: LatenessClock): Promise<LiveReplayResult | undefined> {
  const c = o.config;
  const S = o.speedup;
  const trace = c.trace;
  const ts0 = trace[0]!.timestampMs;
  const slot = new Map(ids.map((id, i) => [id, i]));
  const url = `${gateway.url}/v1/completions`;
  const outcomes: (Measured | undefined)[] = new Array<Measured | undefined>(trace.length);
  const failures: LiveFailure[] = [];
  const itl: number[] = [];
  const lags: number[] = [];
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per request in flight
  const onAbort = (): void => abort.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  o.onStart?.({ gatewayUrl: gateway.url, replaySeconds: (trace[trace.length - 1]!.timestampMs - ts0) / S / 1000 });

  clock.reset();
  const t0 = performance.now();
  const sim = (real: number): number => (real - t0) * S + ts0;
  const dueAt = (i: number): number => t0 + (trace[i]!.timestampMs - ts0) / S;

  const send = async (i: number): Promise<void> => {
    const tr = trace[i]!;
    const body = JSON.stringify({
      model: c.model,
      prompt: promptTokens(tr, { traceBlockSize: c.traceBlockSize, seed: c.seed }),
      max_tokens: tr.outputLength,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (tr.sessionId !== undefined) headers[SESSION_HEADER] = tr.sessionId;
    const sent = performance.now();
    lags.push(sent - dueAt(i));
    try {
      const res = await request(url, { method: 'POST', body, headers, dispatcher: agent, signal: abort.signal });
      if (res.statusCode !== 200) {
        failures.push({ index: i, status: res.statusCode, message: (await res.body.text()).slice(0, 300) });
        return;
      }
      const backend = String(res.headers['x-switchyard-backend'] ?? '');
      const decoder = new TextDecoder();
      let buf = '';
      let first: number | null = null;
      let lastToken = sent;
      let end = sent;
      let usage: WireUsage | null = null;
      let error: string | null = null;
      const gaps: number[] = [];
      for await (const chunk of res.body) {
        const at = performance.now();
        buf += decoder.decode(chunk as Buffer, { stream: true });
        let sep: number;
        while ((sep = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, sep);
          buf = buf.slice(sep + 2);
          const data = event.startsWith('data: ') ? event.slice(6) : event.startsWith('data:') ? event.slice(5) : null;
          if (data === null || data === '[DONE]') continue;
          const obj = JSON.parse(data) as { error?: { message?: string }; usage?: WireUsage | null; choices?: { text?: string }[] };
          if (obj.error) error = obj.error.message ?? 'error event';
          if (obj.usage) usage = obj.usage;
          const text = obj.choices?.[0]?.text;
          if (text !== undefined && text !== '') {
            if (first === null) first = at;
            else gaps.push((at - lastToken) * S);
            lastToken = at;
          }
        }
        end = at;
      }
      if (error !== null || usage === null || !slot.has(backend)) {
        failures.push({ index: i, status: 200, message: error ?? (usage === null ? 'the stream ended without a usage chunk' : `unknown backend '${backend}'`) });
        return;
      }
      for (const g of gaps) itl.push(g);
      outcomes[i] = {
        backend,
        outcome: {
          worker: slot.get(backend)!,
          promptTokens: usage.prompt_tokens ?? 0,
          outputTokens: usage.completion_tokens ?? 0,
          cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
          arrivalMs: sim(sent),
          firstTokenMs: first === null ? null : sim(first),
          finishedMs: sim(end),
          preemptions: 0,
        },
      };
    } catch (e) {
      if (abort.signal.aborted) return;
      failures.push({ index: i, status: null, message: e instanceof Error ? e.message : String(e) });
    }
  };

  loop.enable();
  const pending: Promise<void>[] = [];
  try {
    await new Promise<void>((resolve) => {
      let next = 0;
      const tick = (): void => {
        if (abort.signal.aborted) return resolve();
        const now = performance.now();
        while (next < trace.length && dueAt(next) <= now) pending.push(send(next++));
        if (next >= trace.length) return resolve();
        setTimeout(tick, Math.max(0, dueAt(next) - performance.now()));
      };
      tick();
    });
    await Promise.all(pending);
  } finally {
    loop.disable();
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (abort.signal.aborted) return undefined;
  const wallMs = performance.now() - t0;

  const done = outcomes.filter((x): x is Measured => x !== undefined);
  const upperBound = hitRateUpperBound(trace, { traceBlockSize: c.traceBlockSize, engineBlockSize: c.engine.blockSize });
  const decisionUs = await decisionTimes(gateway, agent);
  const base = summarize({
    requests: trace.length,
    rejected: failures.length,
    workers: workers.length,
    outcomes: done.map((d) => d.outcome),
    itlMs: itl,
    decisionUs,
    upperBound: upperBound.hitRate,
  });
  const stats = workers.map((w) => w.core.getStats());
  const preemptions = stats.reduce((a, s) => a + s.preemptions, 0);
  const [lag99] = percentiles(lags, [99]);
  const [late99] = percentiles(clock.late, [99]);
  const { hitRate, hitRateUpperBound: hub, ttft, itl: itlP, throughputTokensPerS, imbalance, requests, completed, rejected, imbalanceTokens, simulatedSeconds } = base;
  const metrics: LiveMetrics = {
    hitRate,
    hitRateUpperBound: hub,
    ttft,
    itl: itlP,
    throughputTokensPerS,
    imbalance,
    decisionP99Us: decisionUs.length > 0 ? base.decisionP99Us : null,
    requests,
    mode: 'live',
    completed,
    rejected,
    imbalanceTokens,
    preemptions,
    simulatedSeconds,
    speedup: S,
    gatewayScrapeIntervalMs: o.scrapeIntervalMs,
    wallSeconds: wallMs / 1000,
    sendLagP99Ms: lag99!,
    eventLoopDelayP99Ms: loop.count > 0 ? loop.percentile(99) / 1e6 : 0,
    engineSlowdown: clock.requestedMs > 0 ? clock.lateMs / clock.requestedMs : 0,
    engineStepLateP99Ms: clock.late.length > 0 ? late99! : 0,
  };
  const acc = ids.map(() => ({ requests: 0, promptTokens: 0, cachedTokens: 0, outputTokens: 0 }));
  for (const d of done) {
    const a = acc[d.outcome.worker]!;
    a.requests++;
    a.promptTokens += d.outcome.promptTokens;
    a.cachedTokens += d.outcome.cachedTokens;
    a.outputTokens += d.outcome.outputTokens;
  }
  const summaries = ids.map((id, i) => ({ id, ...acc[i]!, preemptions: stats[i]!.preemptions, evictions: stats[i]!.evictions, steps: stats[i]!.steps }));
  failures.sort((a, b) => a.index - b.index);
  return { metrics, upperBound, config: c, workers: summaries, failures, speedup: S, wallMs };
}

/** Per decision of the gateway's recent-decision log: the summed plugin times (µs). */
async function decisionTimes(gateway: Gateway, agent: Agent): Promise<number[]> {
  const res = await request(`${gateway.url}/debug/routing`, { dispatcher: agent });
  const body = (await res.body.json()) as { recentDecisions?: { timings?: { us?: number }[] }[] };
  return (body.recentDecisions ?? []).map((d) => (d.timings ?? []).reduce((a, t) => a + (t.us ?? 0), 0));
}
