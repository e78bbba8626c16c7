/**
 * `switchyard worker sim`: an OpenAI-compatible HTTP server around one simulated vLLM engine.
 *
 * Routes: POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models, /health,
 * /metrics (vLLM metric names); POST /reset_prefix_cache (as vLLM); GET|PUT /sim/faults and
 * GET /sim/stats (simulator controls). KV-cache events are published over ZMQ in vLLM's wire
 * format when an endpoint is configured. Everything a user sees says it is a simulator.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, Rng, ScaledClock, SwitchyardError } from '../../../core/index.js';
import { KvEventPublisher, type KvEventEncoding } from '../../../kvevents/index.js';
import { createMetricsRegistry } from '../../../observability/index.js';
import { readJsonBody, sendError, sendJson } from '../../../openai/index.js';
import { buildEngineConfig, EngineCore, EngineRunner, type EngineConfig, type EngineOptions } from '../model/index.js';
import { ChatTemplate, loadModelTokenizer, loadSimTokenizer, type Tokenizer } from '../text/index.js';
import { FaultsPatchSchema, FaultsSchema, type Faults, type FaultsInput } from './faults.js';
import { handleChat, handleCompletion, handleEmbeddings, type HandlerContext } from './handlers.js';
import { VllmMetrics } from './vllm-metrics.js';

export interface LoggerLike {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface SimWorkerOptions extends EngineOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  seed?: number;
  /** Simulated time runs this many times faster than real time (default 1). */
  speedup?: number;
  kvEventsEndpoint?: string;
  kvEventsReplayEndpoint?: string;
  kvEventsEncoding?: KvEventEncoding;
  kvEventsTopic?: string;
  faults?: FaultsInput;
  /** Engine clock; default a ScaledClock(speedup). */
  clock?: Clock;
  logger?: LoggerLike;
  maxBodyBytes?: number;
  /**
   * Simulated network delay (real ms, not scaled by speedup): every /v1/* request waits this long
   * before it is handled, i.e. one round trip added to its time to first byte. Used to give
   * simulated clusters different distances from the gateway.
   */
  networkDelayMs?: number;
  /**
   * A local model directory (or its tokenizer.json) whose tokenizer and chat template the engine
   * uses instead of the simulator's cl100k + ChatML, so its KV events carry that model's token ids.
   * The directory must have a chat template. Never downloaded.
   */
  tokenizer?: string;
  /** Called when the crash fault fires, after every connection was dropped (the CLI exits). */
  onCrash?: () => void;
  /**
   * Engine settings laid over the ones compiled from the options above, unchecked: e.g. the fleet
   * simulator's 512-token blocks (buildEngineConfig allows vLLM's CUDA block sizes, at most 128),
   * its exact block count and context length, so a live engine matches a simulated one
   * (`switchyard simulate --live`).
   */
  engineConfig?: Partial<EngineConfig>;
}

export class SimWorker {
  readonly metrics = createMetricsRegistry();
  readonly core: EngineCore;
  readonly runner: EngineRunner;
  private faults: Faults;
  private readonly server: Server;
  private publisher: KvEventPublisher | null = null;
  private readonly startedAt = performance.now();
  private readonly rng: Rng;
  private requestsSeen = 0;
  private crashed = false;
  private readonly ctx: HandlerContext;
  readonly info: { model: string; gpu: string; tensorParallelSize: number; numGpuBlocks: number; blockSize: number; arch: string };

  private constructor(
    readonly options: SimWorkerOptions,
    tokenizer: Tokenizer,
    template: ChatTemplate,
  ) {
    const built = buildEngineConfig(options);
    const compiled = options.engineConfig === undefined ? built : { ...built, config: { ...built.config, ...options.engineConfig } };
    const speedup = options.speedup ?? 1;
    const clock = options.clock ?? new ScaledClock(speedup);
    let metrics: VllmMetrics | null = null;
    this.core = new EngineCore(compiled.config, compiled.perf, {
      firstToken: (id, ms) => metrics?.firstToken(id, ms),
      interToken: (id, ms) => metrics?.interToken(id, ms),
      finished: (r) => metrics?.finished(r),
      preempted: () => metrics?.preempted(),
      prefixLookup: (q, h) => metrics?.prefixLookup(q, h),
    });
    metrics = new VllmMetrics(this.metrics, { model: options.model, blockSize: compiled.config.blockSize, numGpuBlocks: compiled.config.numGpuBlocks, gpu: compiled.gpu, enablePrefixCaching: compiled.config.enablePrefixCaching }, () => this.core);
    this.runner = new EngineRunner(this.core, clock, {
      onKvEvents: (events, ts) => this.publisher?.publish({ ts, events }),
    });
    this.faults = FaultsSchema.parse(options.faults ?? {});
    this.rng = new Rng(options.seed ?? 0);
    this.info = { model: options.model, gpu: compiled.gpu, tensorParallelSize: compiled.tensorParallelSize, numGpuBlocks: compiled.config.numGpuBlocks, blockSize: compiled.config.blockSize, arch: compiled.arch.name };
    this.ctx = {
      model: options.model,
      maxModelLen: compiled.config.maxModelLen,
      tokenizer,
      template,
      defaultSeed: options.seed ?? 0,
      maxBodyBytes: options.maxBodyBytes,
      gen: { runner: this.runner, tokenizer, faults: () => this.faults, speedup },
    };
    const delay = options.networkDelayMs ?? 0;
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      const handle = (): void => {
        this.route(req, res).catch((e: unknown) => sendError(res, e));
      };
      if (delay > 0 && req.url?.startsWith('/v1/')) setTimeout(handle, delay);
      else handle();
    });
    this.server.headersTimeout = 66_000;
    this.server.maxHeadersCount = 200;
  }

  static async start(options: SimWorkerOptions): Promise<SimWorker> {
    const w = options.tokenizer === undefined ? new SimWorker(options, await loadSimTokenizer(), new ChatTemplate()) : await SimWorker.withModelTokenizer(options, options.tokenizer);
    if (options.kvEventsEndpoint) {
      w.publisher = await KvEventPublisher.create({
        endpoint: options.kvEventsEndpoint,
        replayEndpoint: options.kvEventsReplayEndpoint,
        encoding: options.kvEventsEncoding ?? 'map',
        topic: options.kvEventsTopic ?? '',
        skipPublish: () => {
          if (w.faults.dropKvEventBatches <= 0) return false;
          w.faults = { ...w.faults, dropKvEventBatches: w.faults.dropKvEventBatches - 1 };
          return true;
        },
      });
    }
    await new Promise<void>((resolve, reject) => {
      w.server.once('error', reject);
      w.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        w.server.off('error', reject);
        w.boundPort = (w.server.address() as AddressInfo).port;
        resolve();
      });
    });
    options.logger?.info(
      { model: options.model, url: w.url, gpu: w.info.gpu, tp: w.info.tensorParallelSize, numGpuBlocks: w.info.numGpuBlocks, kvEvents: w.publisher?.endpoint ?? null, tokenizer: w.ctx.tokenizer.name, simulated: true },
      `SIMULATED engine (switchyard worker sim): no real model runs here; serving '${options.model}' as a simulated ${w.info.gpu} on ${w.url}`,
    );
    return w;
  }

  private static async withModelTokenizer(options: SimWorkerOptions, path: string): Promise<SimWorker> {
    const m = await loadModelTokenizer(path);
    if (m.template === undefined) throw new SwitchyardError('invalid_config', `${m.dir} has no chat template (tokenizer_config.json chat_template or chat_template.jinja): the simulated engine needs one`, { param: 'tokenizer' });
    return new SimWorker(options, m.tokenizer, m.template);
  }

  private boundPort = 0;
  get port(): number {
    return this.boundPort;
  }
  get url(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }
  get kvEventsEndpoint(): string | null {
    return this.publisher?.endpoint ?? null;
  }
  get kvEventsReplayEndpoint(): string | null {
    return this.publisher?.replayEndpoint ?? null;
  }

  setFaults(input: FaultsInput): Faults {
    this.faults = FaultsSchema.parse({ ...this.faults, ...input });
    return this.faults;
  }

  async close(): Promise<void> {
    this.runner.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.publisher?.close();
  }

  private ready(): boolean {
    return performance.now() - this.startedAt >= this.faults.slowStartMs;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      if (path === '/health') return this.ready() ? void res.writeHead(200).end() : sendJson(res, 503, { status: 'loading', simulated: true });
      if (path === '/v1/models') return sendJson(res, 200, this.models());
      if (path === '/metrics') {
        const text = await this.metrics.render();
        res.writeHead(200, { 'content-type': this.metrics.contentType });
        return void res.end(text);
      }
      if (path === '/sim/faults') return sendJson(res, 200, this.faults);
      if (path === '/sim/stats') return sendJson(res, 200, { simulated: true, ...this.info, ...this.core.getStats() });
      if (path === '/version') return sendJson(res, 200, { version: 'switchyard-sim', simulated: true });
    }
    if (method === 'PUT' && path === '/sim/faults') {
      const body = await readJsonBody(req);
      const parsed = FaultsPatchSchema.safeParse(body);
      if (!parsed.success) throw new SwitchyardError('invalid_request', `invalid faults: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
      return sendJson(res, 200, this.setFaults(parsed.data));
    }
    if (method === 'POST') {
      if (path === '/reset_prefix_cache') {
        this.core.resetPrefixCache();
        return void res.writeHead(200).end();
      }
      const handler = path === '/v1/chat/completions' ? handleChat : path === '/v1/completions' ? handleCompletion : path === '/v1/embeddings' ? handleEmbeddings : null;
      if (handler) {
        this.admit();
        return handler(this.ctx, req, res);
      }
      if (path === '/v1/responses') throw new SwitchyardError('not_implemented', 'The simulated engine does not implement /v1/responses; use /v1/chat/completions.');
    }
    const known = ['/health', '/v1/models', '/metrics', '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/reset_prefix_cache', '/sim/faults', '/sim/stats', '/version'];
    if (known.includes(path)) throw new SwitchyardError('method_not_allowed', `Method ${method} is not allowed on ${path}.`);
    throw new SwitchyardError('not_found', `Unknown path ${path}.`);
  }

  /** Fault gates applied to every generation request. */
  private admit(): void {
    if (this.crashed) throw new SwitchyardError('unavailable', 'simulated crash');
    if (!this.ready()) throw new SwitchyardError('unavailable', 'The simulated engine is still loading the model (slow start fault).');
    this.requestsSeen++;
    const f = this.faults;
    if (f.crashAfterRequests > 0 && this.requestsSeen >= f.crashAfterRequests) {
      this.crash();
      throw new SwitchyardError('unavailable', 'simulated crash');
    }
    if (f.errorRate > 0 && this.rng.next() < f.errorRate) {
      throw new SwitchyardError('simulated_fault', `Injected fault (error rate ${f.errorRate}).`, { status: f.errorStatus });
    }
  }

  private crash(): void {
    this.crashed = true;
    this.options.logger?.error({ requests: this.requestsSeen }, 'simulated crash: dropping every connection');
    this.runner.stop();
    this.server.closeAllConnections();
    this.server.close();
    this.options.onCrash?.();
  }

  private models(): unknown {
    return {
      object: 'list',
      data: [
        {
          id: this.options.model,
          object: 'model',
          created: Math.floor(Date.now() / 1000),
          owned_by: 'switchyard-simulator',
          root: this.options.model,
          parent: null,
          max_model_len: this.ctx.maxModelLen,
          switchyard: { simulated: true, engine: 'switchyard worker sim (simulated vLLM)', ...this.info },
        },
      ],
    };
  }
}
