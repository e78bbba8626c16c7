/** `switchyard agent`: the cluster agent (inventory, endpoint health, heartbeats to the control plane). */
import { ClusterAgent, describeGpus, discoverGpus, parseDeclaredGpus } from '../../agent/index.js';
import { SwitchyardClient } from '../../api/index.js';
import { formatDuration, RealClock, SwitchyardError } from '../../core/index.js';
import { createLogger } from '../../observability/index.js';
import { DEFAULT_SERVER, serverUrl } from '../client-flags.js';
import { defineCommand, UsageError } from '../framework.js';

export const agentCommand = defineCommand({
  name: 'agent',
  summary: 'Run a cluster agent that reports GPUs, nodes and endpoint health to the control plane',
  description: [
    'Sends a heartbeat to the control plane right away and then every --heartbeat-interval: the node',
    "inventory (CPUs, memory, GPUs found with nvidia-smi, or declared with --gpus for a SIMULATED",
    "cluster), the health of this cluster's replica endpoints (GET /health), and the agent version.",
    "It also subscribes to the KV events of the cluster's replicas and reports a compact summary of the",
    'prompt prefixes they hold (at most 64 KiB) every --prefix-summary-interval when it changed; the',
    "gateways' cluster layer routes on it (routing.clusterProfile).",
    'Prints one line once the control plane has accepted the first heartbeat. If the control plane',
    'cannot be reached the agent logs it once and keeps retrying.',
    '',
    'Stops on SIGINT/SIGTERM, and also when the process that started it (e.g. `switchyard up`) exits.',
  ].join('\n'),
  flags: {
    cluster: { type: 'string', required: true, description: 'Name of the Cluster resource this agent reports for', placeholder: 'name' },
    'control-plane': { type: 'string', env: 'SWITCHYARD_SERVER', default: DEFAULT_SERVER, description: 'Control plane (Switchyard server) URL', placeholder: 'url' },
    token: { type: 'string', env: 'SWITCHYARD_AGENT_TOKEN', description: "The cluster's agent token (sent as a Bearer token)", placeholder: 'token' },
    'heartbeat-interval': { type: 'duration', default: '10s', min: 100, max: 600_000, description: 'Time between heartbeats' },
    'prefix-summary-interval': { type: 'duration', default: '1s', min: 100, max: 600_000, description: 'How often to rebuild the prefix summary and send it if it changed' },
    'no-prefix-summary': { type: 'bool', description: "Do not subscribe to the replicas' KV events nor report prefix summaries" },
    'kv-block-size': { type: 'int', default: 16, min: 1, max: 4096, description: "The engines' KV block size (as the gateways' kvIndex.blockSize)" },
    gpus: { type: 'string', description: "Declare a SIMULATED GPU inventory instead of discovering it: 'A100:8', 'H100:4,L4:2', 'MI300X:8:192' (GiB)", placeholder: 'spec' },
    'log-level': { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], env: 'SWITCHYARD_LOG_LEVEL', default: 'info', description: 'Log level (logs go to stderr)' },
  },
  examples: [
    'switchyard agent --cluster gpu-east --control-plane http://10.0.0.5:8080 --token $AGENT_TOKEN',
    'switchyard agent --cluster sim-a --gpus A100:8 --heartbeat-interval 2s',
    'SWITCHYARD_SERVER=http://cp:8080 SWITCHYARD_AGENT_TOKEN=... switchyard agent --cluster edge --gpus H100:4,L4:2',
  ],
  async run({ flags, io, signal }) {
    if (flags.gpus !== undefined) {
      try {
        parseDeclaredGpus(flags.gpus);
      } catch (e) {
        if (e instanceof SwitchyardError) throw new UsageError(e.message, '--gpus');
        throw e;
      }
    }
    const server = serverUrl(flags.controlPlane, '--control-plane');
    const logger = createLogger({ name: 'agent', level: flags.logLevel, destination: process.stderr, pretty: process.stderr.isTTY, bindings: { cluster: flags.cluster } });
    const gpus = await discoverGpus({ declared: flags.gpus });
    if (gpus.warning) logger.warn({ warning: gpus.warning }, 'GPU discovery found nothing');
    const interval = flags.heartbeatInterval;
    // A heartbeat older than the interval is stale: do not wait much longer than that for an answer.
    const client = new SwitchyardClient({ server, token: flags.token || undefined, timeoutMs: Math.min(30_000, Math.max(2_000, interval)) });
    const inventory = `${describeGpus(gpus.gpus)}${gpus.simulated ? ', SIMULATED' : ''}, source ${gpus.source}`;
    const agent = new ClusterAgent({
      cluster: flags.cluster,
      client,
      clock: new RealClock(),
      heartbeatIntervalMs: interval,
      gpus,
      logger,
      prefixSummaries: flags.noPrefixSummary ? false : { intervalMs: flags.prefixSummaryInterval, blockSize: flags.kvBlockSize },
      onRegistered: () => io.stdout(`switchyard agent: cluster '${flags.cluster}' registered with ${server} (${inventory}; heartbeat every ${formatDuration(interval)})\n`),
    });
    const stop = waitForStop(signal);
    const first = agent.start();
    const why = await stop.reason;
    stop.dispose();
    logger.info({ reason: why }, 'stopping');
    await first;
    await agent.stop();
    await client.close().catch(() => undefined);
    if (why === 'parent exited') {
      // Nothing should keep us alive now; if something does (a lingering socket), do not outlive the parent.
      setTimeout(() => process.exit(0), 2_000).unref();
    }
    return 0;
  },
});

/** Resolves on the abort signal, or when the IPC channel to the parent closes (started with one). */
function waitForStop(signal: AbortSignal): { reason: Promise<string>; dispose: () => void } {
  let onAbort = (): void => undefined;
  let onDisconnect = (): void => undefined;
  const reason = new Promise<string>((resolve) => {
    onAbort = () => resolve('signal');
    onDisconnect = () => resolve('parent exited');
    if (signal.aborted) resolve('signal');
    signal.addEventListener('abort', onAbort, { once: true });
    if (typeof process.send === 'function') {
      // Listen for the parent going away, but let the channel alone not keep us running.
      process.channel?.unref();
      if (!process.connected) resolve('parent exited');
      process.once('disconnect', onDisconnect);
    }
  });
  return {
    reason,
    dispose: () => {
      signal.removeEventListener('abort', onAbort);
      process.off('disconnect', onDisconnect);
    },
  };
}
