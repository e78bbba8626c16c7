/** `switchyard gateway`: the OpenAI-compatible gateway in front of many engines. */
import { RemoteUsageSink, SwitchyardClient } from '../../api/index.js';
import { ApiKeyAuth, ControlPlaneTable, Gateway, GatewayPrimary, isGatewayWorker, JwtAuth, loadGatewayConfig, loadJwt, WorkerLink, type LoadedJwt } from '../../gateway/index.js';
import { createRedisRateLimiter, MemoryRateLimiter } from '../../limits/index.js';
import { isSwitchyardError, SwitchyardError } from '../../core/index.js';
import { createLogger, createMetricsRegistry, type Logger } from '../../observability/index.js';
import { defineCommand, UsageError, type CliIO, type FlagSpec } from '../framework.js';

/** The --jwt-* flags of `switchyard gateway` and `switchyard up` (ADR 0015). JWT auth is off unless a key is given. */
export const JWT_FLAGS = {
  'jwt-jwks': { type: 'string', description: 'Also accept JWTs signed RS256 by a key of this JWKS (a file or an http(s) URL; re-read every 10 min and on an unknown kid)', placeholder: 'file|url' },
  'jwt-secret-file': { type: 'string', description: 'Also accept JWTs signed HS256 with the secret in this file (at least 32 bytes; a trailing newline is ignored)', placeholder: 'file' },
  'jwt-issuer': { type: 'string', description: 'Require this iss claim in JWTs', placeholder: 'iss' },
  'jwt-audience': { type: 'string', description: 'Require this value in the aud claim of JWTs', placeholder: 'aud' },
  'jwt-tenant-claim': { type: 'string', description: "The JWT claim naming the Tenant it acts as; a dotted path reads a nested claim (default 'tenant')", placeholder: 'claim' },
} as const satisfies Record<string, FlagSpec>;

interface JwtFlagValues {
  jwtJwks?: string | undefined;
  jwtSecretFile?: string | undefined;
  jwtIssuer?: string | undefined;
  jwtAudience?: string | undefined;
  jwtTenantClaim?: string | undefined;
}

/** The first --jwt-* flag given, for messages about flag combinations. */
export function jwtFlagGiven(f: JwtFlagValues): string | undefined {
  const given = Object.entries({ 'jwt-jwks': f.jwtJwks, 'jwt-secret-file': f.jwtSecretFile, 'jwt-issuer': f.jwtIssuer, 'jwt-audience': f.jwtAudience, 'jwt-tenant-claim': f.jwtTenantClaim }).find(([, v]) => v !== undefined);
  return given ? `--${given[0]}` : undefined;
}

/** Read the keys the --jwt-* flags name (undefined: JWT auth off). Flag misuse is a UsageError (exit 2). */
export async function loadJwtFlags(f: JwtFlagValues, logger: Logger): Promise<LoadedJwt | undefined> {
  try {
    return await loadJwt({ jwks: f.jwtJwks, secretFile: f.jwtSecretFile, issuer: f.jwtIssuer, audience: f.jwtAudience, tenantClaim: f.jwtTenantClaim }, { logger: logger.child({ component: 'jwt' }) });
  } catch (e) {
    if (isSwitchyardError(e) && e.code === 'invalid_argument') throw new UsageError(e.message, e.param ?? undefined);
    throw e;
  }
}

export const gatewayCommand = defineCommand({
  name: 'gateway',
  summary: 'Run the OpenAI-compatible gateway (routing, retries, health, streaming relay)',
  description: [
    'Serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses and /v1/models in front of',
    'the backends listed in the config file (or, with --control-plane, the ready replicas the control plane',
    'reports, followed through its watch stream; the last table keeps serving while it is unreachable),',
    'plus /health, /ready, /metrics and /debug/routing.',
    'SIGHUP (or editing the file, unless --no-watch) reloads the configuration without dropping connections;',
    'SIGTERM drains: stop accepting, finish in-flight streams up to drainTimeout, then exit.',
    'With --workers N, N processes share the port (one event loop per core); /metrics sums them all,',
    'and SIGHUP/SIGTERM at the first process reach every worker. In-memory rate limits are then per',
    'worker: use --redis-url for exact limits.',
  ].join('\n'),
  flags: {
    config: { type: 'string', short: 'c', description: 'Gateway config file (YAML or JSON); required unless --control-plane is given', placeholder: 'file' },
    'control-plane': { type: 'string', env: 'SWITCHYARD_SERVER', description: 'Take the routing table from this control plane (e.g. http://127.0.0.1:8080)', placeholder: 'url' },
    token: { type: 'string', env: 'SWITCHYARD_TOKEN', description: 'Token for --control-plane', placeholder: 'token' },
    port: { type: 'int', min: 0, max: 65535, description: 'Override listen.port (0 = pick a free port)' },
    host: { type: 'string', description: 'Override listen.host' },
    'redis-url': { type: 'string', env: 'SWITCHYARD_REDIS_URL', description: 'Keep rate-limit counters in Redis, shared with the other gateways (default: in memory)', placeholder: 'url' },
    'redis-fail-mode': { type: 'enum', values: ['open', 'closed'], default: 'open', description: "When Redis is down: admit under a local limit ('open') or refuse ('closed')" },
    'no-auth': { type: 'bool', description: 'With --control-plane: serve the OpenAI API without API keys (default: keys required)' },
    'no-watch': { type: 'bool', description: 'Reload the config file only on SIGHUP, not whenever it changes' },
    workers: { type: 'int', min: 1, max: 256, default: 1, description: 'Serve with this many processes sharing the port (node:cluster); a worker that dies is restarted' },
    ...JWT_FLAGS,
    'log-level': { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], env: 'SWITCHYARD_LOG_LEVEL', default: 'info', description: 'Log level (logs go to stderr)' },
  },
  examples: [
    'switchyard gateway --config gateway.yaml',
    'switchyard gateway -c gateway.yaml --port 0',
    'switchyard gateway -c gateway.yaml --workers 4',
    'switchyard gateway --control-plane http://10.0.0.5:8080 --token $SWITCHYARD_TOKEN --port 8081',
    'switchyard gateway --control-plane http://10.0.0.5:8080 --jwt-jwks https://idp.example/.well-known/jwks.json --jwt-audience switchyard',
    'kill -HUP <pid>     # reload the config',
  ],
  async run({ flags, io, signal }) {
    const logger = createLogger({ name: 'gateway', level: flags.logLevel, destination: process.stderr, pretty: process.stderr.isTTY });
    if (!flags.config && !flags.controlPlane) throw new SwitchyardError('invalid_argument', 'give --config FILE, or --control-plane URL to follow a control plane');
    const jwtFlag = jwtFlagGiven(flags);
    if (jwtFlag && !flags.controlPlane) throw new UsageError(`${jwtFlag} needs --control-plane: a JWT names a Tenant, and tenants come from the control plane`, jwtFlag);
    if (jwtFlag && flags.noAuth) throw new UsageError(`${jwtFlag} and --no-auth contradict each other: JWT auth is auth`, jwtFlag);
    const base = flags.config ? loadGatewayConfig({ file: flags.config }) : loadGatewayConfig({ object: {} });
    if (flags.controlPlane && !flags.token) throw new SwitchyardError('invalid_argument', '--control-plane needs --token (or SWITCHYARD_TOKEN)');
    if (flags.workers > 1 && !isGatewayWorker()) return runPrimary(flags.workers, logger, io, signal);
    const jwt = await loadJwtFlags(flags, logger);
    const config = { ...base, listen: { host: flags.host ?? base.listen.host, port: flags.port ?? base.listen.port } };
    let table: ControlPlaneTable | undefined;
    if (flags.controlPlane && flags.token) {
      table = new ControlPlaneTable({ token: flags.token, logger });
      table.start(flags.controlPlane);
    }
    // Following a control plane: API keys (and their revocations) arrive with its watch stream.
    // With --jwt-*: bearer JWTs naming a tenant are verified first; everything else is an API key.
    const keys = table && !flags.noAuth ? new ApiKeyAuth({ index: table.keys }) : undefined;
    const auth = keys && jwt && table ? new JwtAuth({ ...jwt.options, inner: keys, tenants: table.keys }) : keys;
    const limiter = flags.redisUrl ? await createRedisRateLimiter({ redis: flags.redisUrl, failMode: flags.redisFailMode, logger }) : new MemoryRateLimiter();
    // Usage records go to the control plane in batches (POST /api/v1/usage).
    const usageClient = flags.controlPlane && flags.token ? new SwitchyardClient({ server: flags.controlPlane, token: flags.token, timeoutMs: 10_000 }) : undefined;
    const usage = usageClient ? new RemoteUsageSink({ client: usageClient }) : undefined;
    // A worker of `--workers N`: the primary prints the address, forwards reload and shutdown, and
    // aggregates /metrics over all workers.
    const started: { gateway?: Gateway } = {};
    let stopRequested = (): void => undefined;
    const stop = new Promise<void>((resolve) => (stopRequested = resolve));
    const metricsRegistry = isGatewayWorker() ? createMetricsRegistry({ defaultMetrics: true }) : undefined;
    const link = metricsRegistry ? new WorkerLink(metricsRegistry.registry, { reload: () => started.gateway?.reload(), shutdown: () => stopRequested() }) : undefined;
    const cluster = metricsRegistry && link ? { metricsRegistry, renderMetrics: () => link.metrics() } : {};
    const gateway = await Gateway.start({ config, ...(flags.config ? { configFile: flags.config, watchConfig: !flags.noWatch } : {}), ...(table ? { table } : {}), logger, ...(auth ? { auth } : {}), limiter, ...(usage ? { usage } : {}), ...cluster });
    started.gateway = gateway;
    const onHup = (): void => gateway.reload();
    process.on('SIGHUP', onHup);
    if (link) link.ready(gateway.url, gateway.table.models(), config.drainTimeout);
    else io.stdout(`switchyard gateway listening on ${gateway.url} (models: ${gateway.table.models().join(', ') || 'none'})\n`);
    await Promise.race([aborted(signal), stop]);
    process.off('SIGHUP', onHup);
    logger.info({ timeoutMs: config.drainTimeout }, 'draining');
    await table?.stop();
    jwt?.close();
    await gateway.drain();
    await usage?.close();
    await usageClient?.close();
    await limiter.close();
    logger.info('stopped');
    link?.close();
    return 0;
  },
});

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** `--workers N`: fork the workers, forward SIGHUP, drain them all on SIGTERM/SIGINT. */
async function runPrimary(workers: number, logger: Logger, io: CliIO, signal: AbortSignal): Promise<number> {
  const primary = await GatewayPrimary.start({ workers, logger });
  const onHup = (): void => primary.reload();
  process.on('SIGHUP', onHup);
  io.stdout(`switchyard gateway listening on ${primary.url} (models: ${primary.models.join(', ') || 'none'}; ${workers} worker processes)\n`);
  await aborted(signal);
  process.off('SIGHUP', onHup);
  logger.info({ workers: primary.alive }, 'draining every worker');
  await primary.stop();
  logger.info('stopped');
  return 0;
}
