/**
 * `switchyard gateway`: the OpenAI-compatible front door. Serves /v1/chat/completions,
 * /v1/completions, /v1/embeddings, /v1/responses and /v1/models, plus /health, /ready, /metrics
 * and /debug/routing. Backends come from a RoutingTable (today: the config file, reloaded on
 * SIGHUP or file change without dropping connections).
 */
import { watch, type FSWatcher } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SwitchyardError } from '../core/index.js';
import { createMetricsRegistry, createNullLogger, type Logger, type MetricsRegistry } from '../observability/index.js';
import { sendError, sendJson } from '../openai/index.js';
import { loadGatewayConfig, type GatewayConfig } from './config.js';
import type { UsageSink } from '../api/index.js';
import type { RateLimiter } from '../limits/index.js';
import { FairQueue } from './fair-queue.js';
import type { KvRouting } from './kv.js';
import { ANONYMOUS, type Caller, type CallerAuth } from './tenancy.js';
import { GatewayMetrics } from './metrics.js';
import { DecisionLog } from './ports.js';
import { Deadlines } from './deadlines.js';
import { API_PATHS, proxyRequest, responseClosed, type ApiKind, type ProxyRuntime } from './proxy.js';
import { createSubsystems, type Subsystems } from './subsystems.js';
import { routesFromConfig, StaticRoutingTable, type RoutingTable } from './table.js';
import { Upstreams } from './upstream.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** When set, reload() re-reads it (on SIGHUP), and — unless watchConfig is false — so does a change of the file. */
  configFile?: string;
  /** Reload when the config file changes (default true); false: only reload() (SIGHUP) does. */
  watchConfig?: boolean;
  /** Supply a table (e.g. from the control plane) instead of the config's models. */
  table?: RoutingTable;
  logger?: Logger;
  random?: () => number;
  /** Share a metrics registry (e.g. with the control plane in `switchyard up`); default: a new one. */
  metricsRegistry?: MetricsRegistry;
  /**
   * Serve other paths on the same port (e.g. the admin API in `switchyard up`): called for
   * paths the gateway does not own; returns true when it handled the request.
   */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Require an API key (or another accepted token) on the OpenAI API; absent: no auth. */
  auth?: CallerAuth;
  /** Enforce callers' rate limits (memory or Redis); absent: limits are not enforced. */
  limiter?: RateLimiter;
  /** Meter every request (tenant, key, model, cluster, tokens, latency, status); absent: not metered. */
  usage?: UsageSink;
  /**
   * The text of GET /metrics (e.g. every worker's metrics, aggregated, with --workers); default
   * this gateway's registry. When it fails, this gateway's own metrics are served.
   */
  renderMetrics?: () => Promise<string>;
  /**
   * GET /ready answers 200 only once each of these models has a healthy endpoint (`up --demo`:
   * the demo model); absent: once any model has one.
   */
  readyModels?: readonly string[];
}

const ROUTES: Record<string, ApiKind> = Object.fromEntries(Object.entries(API_PATHS).map(([k, p]) => [p, k as ApiKind]));

export class Gateway {
  readonly metricsRegistry: MetricsRegistry;
  private readonly server: Server;
  private readonly rt: ProxyRuntime;
  private readonly subsystems: Subsystems;
  private config: GatewayConfig;
  private inflight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private watcher: FSWatcher | null = null;
  private readonly ownTable: StaticRoutingTable | null;

  private constructor(private readonly options: GatewayOptions) {
    this.config = options.config;
    const logger = options.logger ?? createNullLogger('gateway');
    this.metricsRegistry = options.metricsRegistry ?? createMetricsRegistry({ defaultMetrics: true });
    const metrics = new GatewayMetrics(this.metricsRegistry);
    this.ownTable = options.table ? null : StaticRoutingTable.fromConfig(options.config);
    const table = options.table ?? this.ownTable!;
    this.subsystems = createSubsystems(options.config, table, metrics, this.metricsRegistry, logger);
    this.rt = {
      config: options.config,
      table,
      router: this.subsystems.router,
      health: this.subsystems.health,
      load: this.subsystems.load,
      kv: this.subsystems.kv,
      limiter: options.limiter ?? null,
      usage: options.usage ?? null,
      fair: new FairQueue(
        { maxInFlightPerEndpoint: options.config.fairness.maxInFlightPerEndpoint, maxQueue: options.config.fairness.maxQueue, queueTimeoutMs: options.config.fairness.queueTimeout },
        (model) => healthyCount(table, this.subsystems.health, model),
      ),
      upstreams: new Upstreams(options.config.timeouts),
      deadlines: new Deadlines(options.config.timeouts.total),
      metrics,
      logger,
      decisions: new DecisionLog(options.config.debugDecisions),
      random: options.random ?? Math.random,
    };
    this.server = createServer({ maxHeaderSize: options.config.limits.maxHeaderBytes, keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => this.handle(req, res));
    this.server.maxHeadersCount = options.config.limits.maxHeaders * 2;
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const g = new Gateway(options);
    g.subsystems.start();
    await new Promise<void>((resolve, reject) => {
      g.server.once('error', reject);
      g.server.listen(options.config.listen.port, options.config.listen.host, () => {
        g.server.off('error', reject);
        g.boundPort = (g.server.address() as AddressInfo).port;
        resolve();
      });
    });
    if (options.configFile && options.watchConfig !== false) g.watchConfig(options.configFile);
    g.rt.logger.info({ url: g.url, models: g.rt.table.models() }, `gateway listening on ${g.url}`);
    return g;
  }

  private boundPort = 0;
  get port(): number {
    return this.boundPort;
  }
  get url(): string {
    return `http://${this.config.listen.host}:${this.port}`;
  }
  get table(): RoutingTable {
    return this.rt.table;
  }
  /** The exact KV index and prompt tokenizers (tests and /debug/routing). */
  get kv(): KvRouting {
    return this.subsystems.kv;
  }

  /** Re-read the config file and swap the routing table; in-flight requests are untouched. */
  reload(): void {
    if (!this.options.configFile) return;
    try {
      const next = loadGatewayConfig({ file: this.options.configFile });
      this.subsystems.setProfiles(next.profiles);
      this.ownTable?.replace(routesFromConfig(next));
      this.rt.logger.info({ models: this.rt.table.models() }, 'configuration reloaded');
    } catch (e) {
      this.rt.logger.error({ err: e }, 'configuration reload failed; keeping the previous configuration');
    }
  }

  /** Graceful drain: stop accepting, let in-flight requests finish up to `timeoutMs`, then close. */
  async drain(timeoutMs = this.config.drainTimeout): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const idle = this.inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([idle, deadline]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
    await this.shutdownInternals();
  }

  async close(): Promise<void> {
    this.draining = true;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.shutdownInternals();
  }

  private async shutdownInternals(): Promise<void> {
    this.watcher?.close();
    this.rt.deadlines.stop();
    await this.subsystems.stop();
    await this.rt.upstreams.close();
  }

  private watchConfig(file: string): void {
    let timer: NodeJS.Timeout | undefined;
    try {
      this.watcher = watch(file, () => {
        clearTimeout(timer);
        timer = setTimeout(() => this.reload(), 100);
      });
    } catch (e) {
      this.rt.logger.warn({ err: e, file }, 'cannot watch the config file; reload with SIGHUP');
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.inflight++;
    (res as GatewayResponse)[kGateway] = this;
    res.on('close', onResponseClose);
    this.route(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      sendError(res, e);
    });
  }

  /** A response closed (finished, or its client went away). */
  closed(res: ServerResponse): void {
    responseClosed(res);
    if (--this.inflight === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.draining) res.setHeader('connection', 'close');
    if (req.rawHeaders.length / 2 > this.config.limits.maxHeaders) {
      req.resume();
      throw new SwitchyardError('invalid_request', `Too many request headers (limit ${this.config.limits.maxHeaders}).`, { status: 431 });
    }
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    const kind = ROUTES[path];
    if (kind && method === 'POST') {
      if (this.draining) throw new SwitchyardError('unavailable', 'The gateway is shutting down; retry on another instance.');
      return proxyRequest(this.rt, kind, req, res, this.callerOf(req));
    }
    if (method === 'GET') {
      switch (path) {
        case '/v1/models': {
          const allowed = this.callerOf(req).allowedModels;
          const ids = allowed === undefined ? this.rt.table.models() : this.rt.table.models().filter((m) => allowed.has(m));
          // Simulated models say so, as the simulator's own /v1/models does.
          return sendJson(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: this.simulated(id) ? 'switchyard-simulator' : 'switchyard' })) });
        }
        case '/health':
          return sendJson(res, 200, { status: 'ok' });
        case '/ready': {
          const serving = (m: string): boolean => healthyCount(this.rt.table, this.rt.health, m) > 0;
          const wanted = this.options.readyModels;
          const waiting = wanted === undefined ? [] : wanted.filter((m) => !serving(m));
          const ready = !this.draining && (wanted === undefined ? this.rt.table.models().some(serving) : waiting.length === 0);
          const status = ready ? 'ready' : this.draining ? 'draining' : waiting.length > 0 ? `no healthy backend for ${waiting.join(', ')}` : 'no healthy backend';
          return sendJson(res, ready ? 200 : 503, { status });
        }
        case '/metrics': {
          const text = await this.renderMetrics();
          res.writeHead(200, { 'content-type': this.metricsRegistry.contentType });
          return void res.end(text);
        }
        case '/debug/routing':
          return sendJson(res, 200, this.debugRouting());
      }
    }
    if (kind || ['/v1/models', '/health', '/ready', '/metrics', '/debug/routing'].includes(path)) {
      req.resume();
      throw new SwitchyardError('method_not_allowed', `Method ${method} is not allowed on ${path}.`);
    }
    if (this.options.extraRoutes?.(req, res)) return;
    req.resume();
    throw new SwitchyardError('not_found', `Unknown path ${path}. The gateway serves ${Object.keys(ROUTES).join(', ')} and /v1/models.`);
  }

  /** A model served by Switchyard's simulator: its endpoints are labelled runtime=sim (control plane) or their metrics say so. */
  private simulated(model: string): boolean {
    const route = this.rt.table.route(model);
    return route !== undefined && route.endpoints.some((e) => e.labels.runtime === 'sim' || this.rt.load.isSimulated(e.id));
  }

  private async renderMetrics(): Promise<string> {
    const render = this.options.renderMetrics;
    if (render !== undefined) {
      try {
        return await render();
      } catch (e) {
        this.rt.logger.warn({ err: e }, 'aggregated metrics unavailable; serving this process\'s own');
      }
    }
    return this.metricsRegistry.render();
  }

  /** The caller of an OpenAI API request (401 before the body is read). */
  private callerOf(req: IncomingMessage): Caller {
    const auth = this.options.auth;
    if (auth === undefined) return ANONYMOUS;
    try {
      return auth.authenticate(req.headers.authorization);
    } catch (e) {
      req.resume();
      throw e;
    }
  }

  private debugRouting(): unknown {
    const models: Record<string, unknown> = {};
    for (const m of this.rt.table.models()) {
      const route = this.rt.table.route(m)!;
      models[m] = {
        profile: route.profile,
        endpoints: route.endpoints.map((e) => ({ ...e, ...this.rt.health.status(e.id), health: this.subsystems.healthDetail(e.id), load: this.rt.load.get(e.id) })),
      };
    }
    const kv = this.subsystems.kv;
    return { models, kvIndex: { ...kv.index.stats(), subscribers: kv.subscriberStats() }, fairQueue: this.rt.fair.stats(), recentDecisions: this.rt.decisions.recent() };
  }
}

// One 'close' listener for every response, shared: it finds its gateway on the response.
const kGateway = Symbol('switchyard.gateway');
type GatewayResponse = ServerResponse & { [kGateway]?: Gateway };

function onResponseClose(this: GatewayResponse): void {
  this[kGateway]?.closed(this);
}

/** Healthy endpoints of a model (the fair queue's capacity), without building a list. */
function healthyCount(table: RoutingTable, health: Subsystems['health'], model: string): number {
  const route = table.route(model);
  if (route === undefined) return 0;
  let n = 0;
  for (const e of route.endpoints) if (health.status(e.id).healthy) n++;
  return n;
}
