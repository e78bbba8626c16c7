/** `switchyard gateway`: the OpenAI-compatible gateway in front of many engines. */
import { Gateway, loadGatewayConfig } from '../../gateway/index.js';
import { createLogger } from '../../observability/index.js';
import { defineCommand } from '../framework.js';

export const gatewayCommand = defineCommand({
  name: 'gateway',
  summary: 'Run the OpenAI-compatible gateway (routing, retries, health, streaming relay)',
  description: [
    'Serves /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses and /v1/models in front of',
    'the backends listed in the config file, plus /health, /ready, /metrics and /debug/routing.',
    'SIGHUP (or editing the file) reloads the configuration without dropping connections;',
    'SIGTERM drains: stop accepting, finish in-flight streams up to drainTimeout, then exit.',
  ].join('\n'),
  flags: {
    config: { type: 'string', required: true, short: 'c', description: 'Gateway config file (YAML or JSON)', placeholder: 'file' },
    port: { type: 'int', min: 0, max: 65535, description: 'Override listen.port (0 = pick a free port)' },
    host: { type: 'string', description: 'Override listen.host' },
    'log-level': { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], env: 'SWITCHYARD_LOG_LEVEL', default: 'info', description: 'Log level (logs go to stderr)' },
  },
  examples: [
    'switchyard gateway --config gateway.yaml',
    'switchyard gateway -c gateway.yaml --port 0',
    'kill -HUP <pid>     # reload the config',
  ],
  async run({ flags, io, signal }) {
    const logger = createLogger({ name: 'gateway', level: flags.logLevel, destination: process.stderr, pretty: process.stderr.isTTY });
    const base = loadGatewayConfig({ file: flags.config });
    const config = { ...base, listen: { host: flags.host ?? base.listen.host, port: flags.port ?? base.listen.port } };
    const gateway = await Gateway.start({ config, configFile: flags.config, logger });
    const onHup = (): void => gateway.reload();
    process.on('SIGHUP', onHup);
    io.stdout(`switchyard gateway listening on ${gateway.url} (models: ${gateway.table.models().join(', ') || 'none'})\n`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    process.off('SIGHUP', onHup);
    logger.info({ timeoutMs: config.drainTimeout }, 'draining');
    await gateway.drain();
    logger.info('stopped');
    return 0;
  },
});
