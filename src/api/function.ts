/** Function: a model defined once (runtime, resources, scaling, routing, target clusters). */
import { z } from 'zod';
import { zodDuration } from '../config/index.js';
import { ConditionSchema, zName } from './meta.js';

export const RUNTIMES = ['vllm', 'sglang', 'trtllm', 'dynamo', 'llamacpp', 'sim', 'custom'] as const;
export type Runtime = (typeof RUNTIMES)[number];
export const SCALING_METRICS = ['queue_depth', 'kv_usage', 'ttft_p90', 'rps'] as const;
export const QUANTIZATIONS = ['none', 'fp8', 'int8', 'int4', 'awq', 'gptq', 'bitsandbytes', 'gguf'] as const;

/** Hugging Face id (`org/name`), local path (`/abs` or `./rel`), `s3://bucket/key`, `hf://org/name` or `file://`. */
const MODEL_URI = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,62}(\/\S*)?|hf:\/\/[\w.-]+(\/[\w.-]+)?|file:\/\/\/?\S+|\/\S*|\.{1,2}\/\S*|[\w.-]+(\/[\w.-]+)?)$/;

/** A cluster by name, or every cluster whose labels match. */
export const ClusterSelectorSchema = z.union([
  zName('cluster name'),
  z.strictObject({ matchLabels: z.record(z.string(), z.string()) }),
]);
export type ClusterSelector = z.infer<typeof ClusterSelectorSchema>;

export const FunctionSpecSchema = z
  .strictObject({
    model: z
      .string()
      .min(1)
      .regex(MODEL_URI, "model must be a Hugging Face id ('meta-llama/Llama-3.1-8B-Instruct'), a local path ('/models/llama'), or an s3:// URI"),
    servedName: z.string().min(1).max(256).optional().describe("Name clients put in 'model'; defaults to the Function's name"),
    runtime: z.enum(RUNTIMES),
    quantization: z.enum(QUANTIZATIONS).optional(),
    resources: z
      .strictObject({
        gpu: z.strictObject({ type: z.string().min(1).default('any').describe("GPU type (A100, H100, L4, ...), or 'any' to use the cluster's"), count: z.number().int().min(0).max(64).default(1) }).prefault({}),
        tensorParallelSize: z.number().int().min(1).max(64).default(1),
        cpu: z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?m?$/)]).optional(),
        memory: z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/, "memory looks like '32Gi'").optional(),
        maxModelLen: z.number().int().min(16).optional(),
      })
      .prefault({}),
    scaling: z
      .strictObject({
        minReplicas: z.number().int().min(0).max(1000).default(1),
        maxReplicas: z.number().int().min(1).max(1000).default(1),
        metric: z.enum(SCALING_METRICS).default('queue_depth'),
        target: z.number().positive().default(4),
        scaleToZeroAfter: zodDuration({ min: '1s' }).optional(),
      })
      .prefault({}),
    routing: z
      .strictObject({
        profile: z.string().min(1).default('default'),
        /** Two-layer routing: pick the cluster with this profile (e.g. cluster_score), then the replica with `profile`. */
        clusterProfile: z.string().min(1).optional(),
        /**
         * Two-layer routing: what the cluster layer's KV signal comes from. 'summary': the prefix
         * summaries clusters' agents report (ADR 0016); 'exact': the gateway's own index of every
         * worker's KV events. Absent: per cluster, its summary when there is one, else exact.
         */
        clusterKv: z.enum(['summary', 'exact']).optional(),
        sessionAffinity: z.boolean().default(true),
        tokenizer: z
          .union([z.enum(['sim', 'none']), z.strictObject({ path: z.string().min(1).describe('A local directory holding tokenizer.json (+ tokenizer_config.json / chat_template.jinja), or the tokenizer.json file') })])
          .optional()
          .describe(
            "How the gateway tokenizes prompts for exact KV-aware routing. Default: runtime 'sim' → the simulator's (or, when model is a local path, that directory's); other runtimes → the model's tokenizer.json when model is a local directory, else none (approximate routing). Tokenizers are never downloaded.",
          ),
      })
      .prefault({}),
    targetClusters: z.array(ClusterSelectorSchema).default([]),
    tenant: zName('tenant').optional().describe("The Tenant whose GPU quota this Function's Deployments count against (copied to each Deployment's spec.tenant)"),
    args: z.array(z.string()).default([]),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string()).default({}),
    /** Command template for vllm/sglang/custom on the local provider, e.g. `vllm serve {model} --port {port}`. */
    command: z.string().min(1).optional(),
    /** Simulator settings (runtime: sim). */
    sim: z
      .strictObject({
        speedup: z.number().positive().max(10_000).default(1),
      })
      .optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.scaling.minReplicas > spec.scaling.maxReplicas) {
      ctx.addIssue({ code: 'custom', path: ['scaling', 'minReplicas'], message: `minReplicas (${spec.scaling.minReplicas}) must not exceed maxReplicas (${spec.scaling.maxReplicas})` });
    }
    if (spec.resources.gpu.count > 0 && spec.resources.tensorParallelSize > spec.resources.gpu.count) {
      ctx.addIssue({ code: 'custom', path: ['resources', 'tensorParallelSize'], message: `tensorParallelSize (${spec.resources.tensorParallelSize}) needs at least that many GPUs (gpu.count is ${spec.resources.gpu.count})` });
    }
    if (spec.runtime === 'custom' && !spec.command) {
      ctx.addIssue({ code: 'custom', path: ['command'], message: "runtime 'custom' needs a command template, e.g. 'my-server --port {port}'" });
    }
    if (spec.sim && spec.runtime !== 'sim') {
      ctx.addIssue({ code: 'custom', path: ['sim'], message: `'sim' settings apply only to runtime 'sim' (runtime is '${spec.runtime}')` });
    }
  });
export type FunctionSpec = z.infer<typeof FunctionSpecSchema>;

export const FunctionStatusSchema = z.object({
  /** Deployments this Function has, by cluster. */
  deployments: z.array(z.object({ name: z.string(), cluster: z.string(), phase: z.string(), readyReplicas: z.number().int() })),
  readyReplicas: z.number().int(),
  conditions: z.array(ConditionSchema),
  observedGeneration: z.number().int(),
});
export type FunctionStatus = z.infer<typeof FunctionStatusSchema>;

/** The local path a model URI names (`/abs`, `./rel`, `../rel`, `file://...`), or undefined (a Hugging Face id or a remote URI). */
export function localModelPath(model: string): string | undefined {
  if (model.startsWith('file://')) return model.slice('file://'.length);
  return model.startsWith('/') || model.startsWith('./') || model.startsWith('../') ? model : undefined;
}

/** The served model name of a Function. */
export function servedNameOf(name: string, spec: Pick<FunctionSpec, 'servedName'>): string {
  return spec.servedName ?? name;
}
