/** `switchyard up`: the whole platform in one process tree (control plane, gateway, local agents). */
import { chmod, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_CLUSTERS, DEMO_FUNCTION } from '../../control/index.js';
import { createLogger } from '../../observability/index.js';
import { DEMO_TENANT, SwitchyardServer } from '../../server.js';
import { defineCommand, UsageError } from '../framework.js';
import { JWT_FLAGS, jwtFlagGiven, loadJwtFlags } from './gateway.js';

const BIN = fileURLToPath(new URL('../../../bin/switchyard.js', import.meta.url));

export const upCommand = defineCommand({
  name: 'up',
  summary: 'Run the whole platform: control plane, gateway and local cluster agents, on one port',
  description: [
    'Starts the control plane (embedded SQLite in --data-dir, or PostgreSQL with --database-url), a gateway',
    'and, with --demo, three SIMULATED GPU clusters (aws-us-east 8xA100, onprem-rack 4xH100, gcp-eu-west',
    '4xA100), each with its own agent and injected network delay, plus a simulated Llama-3.1-8B deployed to',
    'all three. One port serves /v1/* (OpenAI API), /api/v1/* (admin API), /openapi.json, /docs, /health,',
    '/ready (200 once a model can serve) and /metrics. State persists in --data-dir across restarts.',
    'The admin token comes from SWITCHYARD_ADMIN_TOKEN at first start, or is generated and printed once',
    '(it is also saved, mode 0600, to <data-dir>/admin-token). Ctrl-C stops everything, replicas included.',
  ].join('\n'),
  flags: {
    demo: { type: 'bool', description: 'Create the demo clusters and model (simulated) if missing, and start their agents' },
    'data-dir': { type: 'string', env: 'SWITCHYARD_DATA_DIR', default: '.switchyard', description: 'Directory for the database, git history, replica state and logs', placeholder: 'dir' },
    port: { type: 'int', min: 0, max: 65535, default: 8080, description: 'Port for everything (0 = pick a free port)' },
    host: { type: 'string', default: '127.0.0.1', description: 'Address to bind' },
    'database-url': { type: 'string', env: 'SWITCHYARD_DATABASE_URL', description: 'postgres://user@host:port/db to share state between control-plane replicas (default: embedded SQLite)', placeholder: 'url' },
    'demo-speedup': { type: 'number', default: 1, min: 0.001, max: 10_000, description: 'Simulated time speed-up of the demo model' },
    'heartbeat-interval': { type: 'duration', default: 10_000, description: 'Heartbeat interval of the demo agents' },
    'no-auth': { type: 'bool', description: 'Serve the OpenAI API without API keys (local experiments only; the admin API still needs its token)' },
    'redis-url': { type: 'string', description: 'Keep rate-limit counters in Redis, shared by every gateway (e.g. redis://127.0.0.1:6379)', placeholder: 'url' },
    'redis-fail-mode': { type: 'enum', values: ['open', 'closed'], default: 'open', description: "When Redis is down: admit under a local limit ('open') or refuse with 503 ('closed')" },
    ...JWT_FLAGS,
    'log-level': { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], env: 'SWITCHYARD_LOG_LEVEL', default: 'warn', description: 'Log level (logs go to stderr)' },
  },
  examples: ['switchyard up --demo', 'switchyard up --demo --jwt-jwks ./jwks.json --jwt-issuer https://idp.example', 'switchyard up --data-dir /var/lib/switchyard --port 8080', 'SWITCHYARD_ADMIN_TOKEN=secret switchyard up --demo --port 0', 'switchyard up --database-url postgres://switchyard@db:5432/switchyard'],
  async run({ flags, io, signal }) {
    const logger = createLogger({ name: 'switchyard', level: flags.logLevel, destination: process.stderr, pretty: process.stderr.isTTY });
    const dataDir = resolve(flags.dataDir);
    const started = performance.now();
    const jwtFlag = jwtFlagGiven(flags);
    if (jwtFlag && flags.noAuth) throw new UsageError(`${jwtFlag} and --no-auth contradict each other: JWT auth is auth`, jwtFlag);
    const jwt = await loadJwtFlags(flags, logger);
    const server = await SwitchyardServer.start({
      dataDir,
      host: flags.host,
      port: flags.port,
      ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}),
      demo: flags.demo,
      demoSpeedup: flags.demoSpeedup,
      heartbeatIntervalMs: flags.heartbeatInterval,
      auth: !flags.noAuth,
      ...(jwt ? { jwt: jwt.options } : {}),
      ...(flags.redisUrl ? { redisUrl: flags.redisUrl, redisFailMode: flags.redisFailMode } : {}),
      ...(process.env.SWITCHYARD_ADMIN_TOKEN ? { adminToken: process.env.SWITCHYARD_ADMIN_TOKEN } : {}),
      switchyardBin: [process.execPath, BIN],
      logger,
    });
    const url = server.url;
    const boot = server.controlPlane.bootstrapToken;
    const tokenFile = join(dataDir, 'admin-token');
    if (boot) {
      await writeFile(tokenFile, `${boot.token}\n`, { mode: 0o600 });
      await chmod(tokenFile, 0o600);
    }
    io.stdout(`switchyard up: listening on ${url} (data: ${dataDir}, store: ${server.controlPlane.store.driver})\n`);
    if (boot?.generated) io.stdout(`admin token (shown once; also saved to ${tokenFile}):\n  ${boot.token}\n`);
    else if (boot) io.stdout('admin token: taken from SWITCHYARD_ADMIN_TOKEN\n');
    else io.stdout(`admin token: set at first start (see ${tokenFile} or your SWITCHYARD_ADMIN_TOKEN)\n`);

    if (flags.demo) {
      io.stdout(`demo: ${DEMO_CLUSTERS.length} SIMULATED clusters (${DEMO_CLUSTERS.map((c) => `${c.name} ${c.gpus.replace(':', 'x').replace(/^(\w+)x(\d+)$/, '$2x$1')}`).join(', ')}), model '${DEMO_FUNCTION}' (simulated engine)\n`);
      if (server.demoKey) io.stdout(`demo tenant '${DEMO_TENANT}': API key (shown once, not stored; make more with \`switchyard keys create --tenant ${DEMO_TENANT}\`):\n  ${server.demoKey}\n`);
      await waitForDemo(server, io.stdout, signal);
      if (!signal.aborted) {
        const key = server.demoKey ?? '$SWITCHYARD_API_KEY';
        io.stdout(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n\n`);
        io.stdout(
          [
            'Try it:',
            `  curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -H "authorization: Bearer ${key}" \\`,
            `    -d '{"model": "${DEMO_FUNCTION}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
            '',
            '  # Python (openai SDK)',
            `  from openai import OpenAI`,
            `  client = OpenAI(base_url="${url}/v1", api_key="${key}")`,
            `  print(client.chat.completions.create(model="${DEMO_FUNCTION}", messages=[{"role": "user", "content": "Hello!"}]).choices[0].message.content)`,
            '',
            `  export SWITCHYARD_SERVER=${url} SWITCHYARD_TOKEN=$(cat ${tokenFile})`,
            '  switchyard get deployments        # API docs: ' + `${url}/docs`,
            '',
          ].join('\n'),
        );
      }
    }
    await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
    io.stdout('shutting down: stopping agents, draining replicas...\n');
    await server.close({ stopReplicas: true });
    jwt?.close();
    io.stdout('stopped\n');
    return 0;
  },
});

/** Print replica progress until the demo Function serves on every cluster (or 60 s pass). */
async function waitForDemo(server: SwitchyardServer, out: (s: string) => void, signal: AbortSignal): Promise<void> {
  const last = new Map<string, string>();
  const deadline = performance.now() + 60_000;
  while (!signal.aborted && performance.now() < deadline) {
    const deps = (await server.controlPlane.service.list('Deployment')).items.filter((d) => d.spec.function === DEMO_FUNCTION);
    for (const d of deps) {
      const line = `${d.status?.phase ?? 'Pending'} ${d.status?.readyReplicas ?? 0}/${d.status?.desiredReplicas ?? '?'}`;
      if (last.get(d.spec.cluster) !== line) {
        last.set(d.spec.cluster, line);
        out(`  ${d.spec.cluster.padEnd(14)} ${line}\n`);
      }
    }
    const served = server.table.route(DEMO_FUNCTION)?.endpoints.length ?? 0;
    if (deps.length === DEMO_CLUSTERS.length && deps.every((d) => d.status?.phase === 'Ready') && served >= DEMO_CLUSTERS.length) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!signal.aborted) out('  (still starting; see switchyard get deployments)\n');
}
