/** `switchyard worker sim`: run one simulated vLLM engine behind an OpenAI-compatible HTTP API. */
import { GPU_PROFILES, MODEL_ARCHS, SimWorker, type GpuType } from '../../engines/index.js';
import { createLogger } from '../../observability/index.js';
import { defineCommand } from '../framework.js';

export const workerSimCommand = defineCommand({
  name: 'worker sim',
  summary: 'Run a SIMULATED vLLM engine (no GPU, no model) with an OpenAI-compatible API',
  description: [
    'Starts an HTTP server that behaves like one vLLM engine on one GPU (or a tensor-parallel group):',
    'continuous batching, chunked prefill, a paged KV cache with prefix caching and LRU eviction,',
    'preemption, step times from a roofline model of the chosen GPU, vLLM metric names on /metrics,',
    'and KV-cache events in vLLM\'s ZMQ wire format. It is a simulator: no model runs and answers are',
    'deterministic filler text made of real tokens. With --port 0 a free port is picked and printed.',
  ].join('\n'),
  flags: {
    model: { type: 'string', required: true, description: 'Model name to serve (clients send it as "model")', placeholder: 'name' },
    port: { type: 'int', default: 8000, min: 0, max: 65535, description: 'Port to listen on (0 = pick a free port)' },
    host: { type: 'string', default: '127.0.0.1', description: 'Address to bind' },
    gpu: { type: 'enum', values: ['A100', 'H100', 'L4'], default: 'A100', description: 'GPU profile to simulate' },
    'tensor-parallel-size': { type: 'int', default: 1, min: 1, max: 8, description: 'GPUs in the tensor-parallel group (1, 2, 4 or 8)' },
    arch: { type: 'enum', values: Object.keys(MODEL_ARCHS), description: 'Model architecture profile (default: guessed from --model)' },
    tokenizer: { type: 'string', description: "Tokenize with a local model's tokenizer.json and chat template (a directory, never downloaded) instead of cl100k + ChatML", placeholder: 'dir' },
    'kv-events-endpoint': { type: 'string', description: "Publish vLLM KV-cache events on this ZMQ PUB endpoint (e.g. tcp://127.0.0.1:5557; port '*' picks one)", placeholder: 'url' },
    'kv-events-replay-endpoint': { type: 'string', description: 'ZMQ ROUTER endpoint serving replay of buffered event batches', placeholder: 'url' },
    'kv-events-encoding': { type: 'enum', values: ['map', 'array'], default: 'map', description: "Event encoding: 'map' (current vLLM) or 'array' (older vLLM)" },
    'kv-events-topic': { type: 'string', default: '', description: 'ZMQ topic frame for event messages' },
    speedup: { type: 'number', default: 1, min: 0.001, max: 1_000_000, description: 'Run simulated time this many times faster than real time' },
    seed: { type: 'int', default: 0, description: 'Seed for generated text and injected faults (a request\'s "seed" overrides it for its text)' },
    'block-size': { type: 'int', default: 16, description: 'KV cache block size in tokens' },
    'num-gpu-blocks': { type: 'int', min: 1, description: 'Override the KV cache capacity in blocks (default: computed from the GPU and model)' },
    'max-num-seqs': { type: 'int', default: 256, min: 1, description: 'Maximum requests in a batch' },
    'max-num-batched-tokens': { type: 'int', min: 1, description: 'Token budget per step (default: 8192 on A100/H100, 2048 on L4)' },
    'max-model-len': { type: 'int', min: 16, description: 'Maximum context length (default: min(model limit, 32768))' },
    'enable-prefix-caching': { type: 'bool', default: true, description: 'Automatic prefix caching (--no-enable-prefix-caching turns it off)' },
    'fault-error-rate': { type: 'number', default: 0, min: 0, max: 1, description: 'Fault: probability that a request fails with --fault-error-status' },
    'fault-error-status': { type: 'int', default: 500, min: 400, max: 599, description: 'Fault: HTTP status of injected errors' },
    'fault-crash-after': { type: 'int', default: 0, min: 0, description: 'Fault: crash (exit 70) when this many generation requests have arrived; 0 = never' },
    'network-delay': { type: 'duration', default: 0, description: 'Simulated network delay: every /v1 request waits this long (real time) before it is handled' },
    'fault-stall-first-token': { type: 'duration', default: 0, description: 'Fault: hold every request this long before any byte is sent' },
    'fault-stall-mid-stream': { type: 'duration', default: 0, description: 'Fault: freeze the engine this long once a request has streamed --fault-stall-after-tokens tokens' },
    'fault-stall-after-tokens': { type: 'int', default: 5, min: 1, description: 'Fault: token count that triggers --fault-stall-mid-stream' },
    'fault-slow-start': { type: 'duration', default: 0, description: 'Fault: report not-ready (503) for this long after start' },
    'log-level': { type: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], env: 'SWITCHYARD_LOG_LEVEL', default: 'info', description: 'Log level (logs go to stderr)' },
  },
  examples: [
    'switchyard worker sim --model llama-3.1-8b --port 8000',
    'switchyard worker sim --model llama-3.1-70b --gpu H100 --tensor-parallel-size 4 --port 0',
    'switchyard worker sim --model demo --kv-events-endpoint tcp://127.0.0.1:5557 --kv-events-replay-endpoint tcp://127.0.0.1:5558',
    'switchyard worker sim --model demo --speedup 50 --num-gpu-blocks 256   # tiny cache, fast clock',
    'switchyard worker sim --model llama-3.1-8b --tokenizer /models/Llama-3.1-8B-Instruct   # its token ids in KV events',
    'switchyard worker sim --model demo --fault-error-rate 0.2 --fault-stall-first-token 2s',
  ],
  async run({ flags, io, signal }) {
    const logger = createLogger({ name: 'worker-sim', level: flags.logLevel, destination: process.stderr, pretty: process.stderr.isTTY });
    let crashed = false;
    const worker = await SimWorker.start({
      model: flags.model,
      host: flags.host,
      port: flags.port,
      gpu: flags.gpu,
      arch: flags.arch,
      tokenizer: flags.tokenizer,
      tensorParallelSize: flags.tensorParallelSize,
      blockSize: flags.blockSize,
      numGpuBlocks: flags.numGpuBlocks,
      maxNumSeqs: flags.maxNumSeqs,
      maxNumBatchedTokens: flags.maxNumBatchedTokens,
      maxModelLen: flags.maxModelLen,
      enablePrefixCaching: flags.enablePrefixCaching,
      speedup: flags.speedup,
      networkDelayMs: flags.networkDelay,
      seed: flags.seed,
      kvEventsEndpoint: flags.kvEventsEndpoint,
      kvEventsReplayEndpoint: flags.kvEventsReplayEndpoint,
      kvEventsEncoding: flags.kvEventsEncoding,
      kvEventsTopic: flags.kvEventsTopic,
      faults: {
        errorRate: flags.faultErrorRate,
        errorStatus: flags.faultErrorStatus,
        crashAfterRequests: flags.faultCrashAfter,
        stallBeforeFirstTokenMs: flags.faultStallFirstToken,
        stallMidStreamMs: flags.faultStallMidStream,
        stallMidStreamAfterTokens: flags.faultStallMidStream > 0 ? flags.faultStallAfterTokens : 0,
        slowStartMs: flags.faultSlowStart,
      },
      logger,
      onCrash: () => {
        crashed = true;
        // A crash is abrupt by definition: no drain, no cleanup.
        process.exit(70);
      },
    });
    const events = worker.kvEventsEndpoint ? ` kv-events=${worker.kvEventsEndpoint}${worker.kvEventsReplayEndpoint ? ` replay=${worker.kvEventsReplayEndpoint}` : ''}` : '';
    io.stdout(`switchyard worker sim (SIMULATED ${GPU_PROFILES[worker.info.gpu as GpuType].name} engine, model '${flags.model}') listening on ${worker.url}${events}\n`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!crashed) {
      logger.info('shutting down');
      await worker.close();
    }
    return 0;
  },
});
