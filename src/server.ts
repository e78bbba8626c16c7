/**
 * The composition root of `switchyard up`: the only place that wires modules together.
 *
 * One process serves one port: the OpenAI API (/v1/*, the gateway), the admin API (/api/v1/*),
 * /openapi.json, /docs, /health, /ready and /metrics. The gateway follows the control plane's
 * watch stream like any remote gateway would (over loopback, with an in-memory token). Local
 * cluster agents run as child processes that exit with their parent; replicas run as detached
 * processes owned by the local provider, so a crash of this process leaves them to be adopted
 * at the next start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ControlPlane, DEMO_CLUSTERS, DEMO_FUNCTION, demoManifests, handleAdminRequest, manifestOf } from './control/index.js';
import { RealClock, SwitchyardError } from './core/index.js';
import { ApiKeyAuth, ControlPlaneTable, Gateway, JwtAuth, loadGatewayConfig, type CallerAuth, type JwtOptions } from './gateway/index.js';
import { createRedisRateLimiter, MemoryRateLimiter, type FailMode, type RateLimiter } from './limits/index.js';
import { createMetricsRegistry, createNullLogger, type Logger } from './observability/index.js';
import { LocalProvider, StaticProvider } from './providers/index.js';

export interface ServerOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  databaseUrl?: string;
  /** Create the demo clusters and Function (if missing) and start their agents. */
  demo?: boolean;
  /** Simulated time speed-up of the demo model. */
  demoSpeedup?: number;
  /** SWITCHYARD_ADMIN_TOKEN: becomes the admin token at first start. */
  adminToken?: string;
  /** How to run this CLI for child processes: [node, bin/switchyard.js]. */
  switchyardBin: readonly string[];
  logger?: Logger;
  /** Agent heartbeat interval (ms) for the demo agents. Default 10 s. */
  heartbeatIntervalMs?: number;
  /**
   * Require an API key (or the admin token) on the OpenAI API. Default true; false serves the
   * data plane to anyone (local experiments only).
   */
  auth?: boolean;
  /** Also accept JWTs naming a tenant on the OpenAI API (ADR 0015); needs auth. */
  jwt?: JwtOptions;
  /** Keep rate-limit counters in Redis (shared by every gateway) instead of in memory. */
  redisUrl?: string;
  /** With redisUrl: when Redis is unreachable, admit under a local limit ('open') or refuse ('closed'). */
  redisFailMode?: FailMode;
}

/** The demo tenant `up --demo` creates, with a key printed once. */
export const DEMO_TENANT = 'demo';

export class SwitchyardServer {
  private readonly agents = new Map<string, ChildProcess>();
  /** The demo tenant's key when this start created it (print it once); undefined otherwise. */
  demoKey: string | undefined;

  private constructor(
    readonly controlPlane: ControlPlane,
    readonly gateway: Gateway,
    readonly table: ControlPlaneTable,
    private readonly limiter: RateLimiter,
    private readonly o: ServerOptions,
    private readonly logger: Logger,
  ) {}

  get url(): string {
    return this.gateway.url;
  }

  static async start(o: ServerOptions): Promise<SwitchyardServer> {
    if (o.jwt && o.auth === false) throw new SwitchyardError('invalid_config', 'JWT auth and auth: false contradict each other: JWT auth is auth.');
    const logger = o.logger ?? createNullLogger('switchyard');
    await mkdir(o.dataDir, { recursive: true });
    const clock = new RealClock();
    const providers = [
      new LocalProvider({ stateDir: join(o.dataDir, 'replicas'), switchyardBin: o.switchyardBin, clock, logger: logger.child({ component: 'local-provider' }) }),
      new StaticProvider({ clock }),
    ];
    // One registry for /metrics: the gateway's and the control plane's (per-tenant usage) metrics.
    const metricsRegistry = createMetricsRegistry({ defaultMetrics: true });
    const cp = await ControlPlane.open({ dataDir: o.dataDir, ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}), providers, clock, logger: logger.child({ component: 'control' }), ...(o.adminToken ? { adminToken: o.adminToken } : {}), metrics: metricsRegistry });
    // Fair queueing per tenant once 256 requests (vLLM's default max_num_seqs) are in flight per endpoint.
    const config = loadGatewayConfig({ object: { listen: { host: o.host ?? '127.0.0.1', port: o.port ?? 8080 }, fairness: { maxInFlightPerEndpoint: 256 } } });
    const table = new ControlPlaneTable({ token: cp.tokens.internalToken('gateway'), logger: logger.child({ component: 'routing-table' }) });
    const limiter: RateLimiter = o.redisUrl
      ? await createRedisRateLimiter({ redis: o.redisUrl, failMode: o.redisFailMode ?? 'open', logger: logger.child({ component: 'rate-limiter' }) })
      : new MemoryRateLimiter();
    // API keys come from the control plane's watch stream (table.keys); the admin token also works.
    const keys = o.auth === false ? undefined : new ApiKeyAuth({ index: table.keys, acceptToken: (t) => (cp.tokens.isAdmin(t) ? 'admin' : undefined) });
    // With JWT auth: bearer JWTs naming a tenant are verified first; everything else goes to the keys.
    const auth: CallerAuth | undefined = keys && o.jwt ? new JwtAuth({ ...o.jwt, inner: keys, tenants: table.keys }) : keys;
    if (!auth) logger.warn('the OpenAI API is served WITHOUT authentication (--no-auth)');
    const gateway = await Gateway.start({ config, table, metricsRegistry, logger: logger.child({ component: 'gateway' }), extraRoutes: (req, res) => handleAdminRequest(cp, req, res), ...(auth ? { auth } : {}), limiter, usage: cp.usage, ...(o.demo ? { readyModels: [DEMO_FUNCTION] } : {}) });
    table.start(gateway.url);
    cp.start();
    const server = new SwitchyardServer(cp, gateway, table, limiter, o, logger);
    if (o.demo) await server.startDemo();
    return server;
  }

  /** Create the demo resources that are missing, and start one agent per demo cluster. */
  private async startDemo(): Promise<void> {
    const cp = this.controlPlane;
    const wanted = demoManifests(this.o.demoSpeedup ?? 1);
    const missing: typeof wanted = [];
    for (const m of wanted) if (!(await cp.service.find(m.kind, m.metadata.name))) missing.push(m);
    const actor = { name: 'switchyard-demo' };
    const who = { actor: actor.name, role: 'admin' };
    if (missing.length > 0) await cp.audit.resourceApply(cp.service, who, missing.map((m) => ({ kind: m.kind, name: m.metadata.name })), () => cp.service.apply(missing, { actor, note: 'switchyard up --demo' }));
    if (!(await cp.service.find('Tenant', DEMO_TENANT))) {
      // A tenant with everyday limits and one key, shown once by `up` (only its hash is stored).
      const tenant = { kind: 'Tenant' as const, metadata: { name: DEMO_TENANT }, spec: { displayName: 'Demo tenant (switchyard up --demo)', limits: { rpm: 600, tpm: 2_000_000, maxConcurrent: 64 }, priority: 1 } };
      await cp.audit.resourceApply(cp.service, who, [{ kind: 'Tenant', name: DEMO_TENANT }], () => cp.service.apply([tenant], { actor, note: 'switchyard up --demo: demo tenant' }));
      const minted = await cp.apiKeys.create(DEMO_TENANT, { description: 'created by switchyard up --demo' }, actor);
      await cp.audit.record(who, { action: 'apikey.create', kind: 'ApiKey', name: minted.apiKey.metadata.name, before: null, after: manifestOf(minted.apiKey) });
      this.demoKey = minted.key;
    }
    for (const c of DEMO_CLUSTERS) await this.startAgent(c.name, c.gpus);
  }

  /** Start (or restart) the agent of a cluster as a child process. */
  async startAgent(cluster: string, gpus: string): Promise<ChildProcess> {
    await this.stopAgent(cluster);
    const token = await this.controlPlane.tokens.issueClusterToken(cluster);
    const [node, ...script] = this.o.switchyardBin;
    const args = [...script.slice(1), 'agent', '--cluster', cluster, '--control-plane', this.url, '--gpus', gpus, '--heartbeat-interval', `${this.o.heartbeatIntervalMs ?? 10_000}ms`, '--log-level', 'warn'];
    const child = fork(script[0]!, args, { execPath: node, env: { ...process.env, SWITCHYARD_AGENT_TOKEN: token }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('exit', (code, sig) => {
      if (this.agents.get(cluster) === child) {
        this.agents.delete(cluster);
        this.logger.warn({ cluster, code, signal: sig }, 'agent exited');
      }
    });
    this.agents.set(cluster, child);
    return child;
  }

  /** Stop a cluster's agent (its cluster turns Unhealthy after missed heartbeats). */
  async stopAgent(cluster: string): Promise<void> {
    const child = this.agents.get(cluster);
    if (!child) return;
    this.agents.delete(cluster);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  agentPids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.agents].map(([k, c]) => [k, c.pid]));
  }

  /**
   * Shut down. With stopReplicas (Ctrl-C) the replicas are drained and stopped too; without,
   * they keep running for the next start to adopt.
   */
  async close(options: { stopReplicas: boolean } = { stopReplicas: true }): Promise<void> {
    for (const name of [...this.agents.keys()]) await this.stopAgent(name);
    await this.controlPlane.close(options);
    await this.table.stop();
    await this.gateway.drain(2000);
    await this.limiter.close();
  }
}

export { DEMO_FUNCTION };
