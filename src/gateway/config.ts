/**
 * Gateway configuration (YAML). Until the control plane exists, backends come from this file:
 * models → endpoints with labels. Everything else has defaults.
 *
 * ```yaml
 * listen: { host: 127.0.0.1, port: 8080 }
 * models:
 *   - name: llama-3.1-8b
 *     profile: default              # a routing profile (built-in or from `profiles`)
 *     tokenizer: none               # 'sim' (the simulator's) or { path: /models/llama }: exact KV routing
 *     endpoints:
 *       - { url: http://127.0.0.1:8001, labels: { cluster: aws-us-east, region: us-east-1, gpu: A100 },
 *           kvEvents: { endpoint: 'tcp://127.0.0.1:5557', replayEndpoint: 'tcp://127.0.0.1:5558' } }
 *       - { url: http://127.0.0.1:8002, labels: { cluster: onprem-rack, gpu: H100 }, weight: 2 }
 * timeouts: { connect: 2s, firstByte: 30s, idle: 60s, total: 10m }
 * retries: { attempts: 3, backoff: 20ms, maxBackoff: 500ms }
 * ```
 */
import { z } from 'zod';
import { loadConfig, zodDuration, zodHttpUrl } from '../config/index.js';
import { HealthConfigSchema } from './health/index.js';
import { LoadViewConfigSchema } from './loadview/index.js';
import { RoutingProfilesSchema } from '../router/index.js';

const EndpointSchema = z.strictObject({
  url: zodHttpUrl(),
  /** Stable id; defaults to the URL. */
  id: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  weight: z.number().positive().default(1),
  /** Where this endpoint publishes vLLM KV events (`--kv-events-config` / `worker sim --kv-events-endpoint`). */
  kvEvents: z
    .strictObject({
      endpoint: zodZmqEndpoint(),
      replayEndpoint: zodZmqEndpoint().optional(),
      topic: z.string().optional(),
    })
    .optional(),
});

function zodZmqEndpoint() {
  return z.string().regex(/^(tcp:\/\/[^\s:]+:\d+|ipc:\/\/\S+)$/, { error: "expected a ZMQ endpoint such as 'tcp://127.0.0.1:5557' or 'ipc:///tmp/kv.sock'" });
}

const ModelSchema = z.strictObject({
  name: z.string().min(1),
  profile: z.string().min(1).default('default'),
  /**
   * Tokenize prompts in the gateway for exact KV-aware routing: 'sim' = the simulated engine's
   * tokenizer and chat template; `{ path }` = a local model directory (tokenizer.json +
   * tokenizer_config.json / chat_template.jinja) or its tokenizer.json, never downloaded (a
   * relative path is relative to the gateway's working directory). 'none': no token ids
   * (approximate and load signals only), as for a path that cannot be loaded.
   */
  tokenizer: z.union([z.enum(['none', 'sim']), z.strictObject({ path: z.string().min(1) })]).default('none'),
  /** Two-layer routing: pick the cluster (endpoint label `cluster`) with this profile first, e.g. cluster_score. */
  clusterProfile: z.string().min(1).optional(),
  endpoints: z.array(EndpointSchema).min(1),
});

export const GatewayConfigSchema = z.strictObject({
  listen: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) }).prefault({}),
  models: z.array(ModelSchema).default([]),
  profiles: RoutingProfilesSchema.optional(),
  timeouts: z
    .strictObject({
      /** TCP connect to an upstream. */
      connect: zodDuration().default(2000),
      /** Until the upstream's response headers arrive (a stalled engine is abandoned and retried). */
      firstByte: zodDuration().default(30_000),
      /** Longest silence between two body chunks of a response. */
      idle: zodDuration().default(60_000),
      /** Whole request, end to end. */
      total: zodDuration().default(600_000),
    })
    .prefault({}),
  retries: z
    .strictObject({
      /** Total attempts per request, the first included (1 = no retry). */
      attempts: z.number().int().min(1).max(10).default(3),
      backoff: zodDuration().default(20),
      maxBackoff: zodDuration().default(500),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxBodyBytes: z.number().int().positive().default(16 * 1024 * 1024),
      maxHeaderBytes: z.number().int().positive().default(32 * 1024),
      maxHeaders: z.number().int().positive().default(100),
    })
    .prefault({}),
  health: HealthConfigSchema.prefault({}),
  loadView: LoadViewConfigSchema.prefault({}),
  sessionHeader: z.string().default('x-session-id'),
  drainTimeout: zodDuration().default(30_000),
  /** The exact KV index fed by endpoints' KV events. blockSize must match the engines'. */
  kvIndex: z
    .strictObject({
      blockSize: z.number().int().min(1).max(4096).default(16),
      maxBlocksPerBackend: z.number().int().min(1).default(1_000_000),
      replayTimeout: zodDuration().default(1000),
    })
    .prefault({}),
  /**
   * Fair sharing under saturation: past maxInFlightPerEndpoint requests in flight per healthy
   * endpoint of a model, requests queue per tenant and slots go by weighted virtual token counters
   * (VTC). 0 = off (no queueing in the gateway). `switchyard up` uses 256 (vLLM's max_num_seqs).
   */
  fairness: z
    .strictObject({
      maxInFlightPerEndpoint: z.number().int().min(0).default(0),
      maxQueue: z.number().int().min(1).default(10_000),
      queueTimeout: zodDuration().default(30_000),
    })
    .prefault({}),
  /** Keep the last N routing decisions for GET /debug/routing. */
  debugDecisions: z.number().int().min(0).max(10_000).default(200),
});

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;

export function loadGatewayConfig(source: { file: string } | { object: unknown; name?: string }): GatewayConfig {
  return loadConfig(GatewayConfigSchema, source, {
    crossChecks: (cfg) => {
      const issues: { path: string; message: string }[] = [];
      const seen = new Map<string, number>();
      cfg.models.forEach((m, i) => {
        const prev = seen.get(m.name);
        if (prev !== undefined) issues.push({ path: `models[${i}].name`, message: `model '${m.name}' is already defined at models[${prev}]` });
        seen.set(m.name, i);
        const ids = new Set<string>();
        m.endpoints.forEach((e, j) => {
          const id = e.id ?? e.url;
          if (ids.has(id)) issues.push({ path: `models[${i}].endpoints[${j}]`, message: `duplicate endpoint '${id}' for model '${m.name}'` });
          ids.add(id);
        });
      });
      return issues;
    },
  });
}
