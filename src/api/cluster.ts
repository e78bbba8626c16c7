/** Cluster: where replicas run (local processes, Kubernetes, SkyPilot, static endpoints), and its agent's reports. */
import { z } from 'zod';
import { zodHttpUrl } from '../config/index.js';
import { ConditionSchema } from './meta.js';

export const PROVIDERS = ['local', 'kubernetes', 'skypilot', 'static'] as const;
export type ProviderKind = (typeof PROVIDERS)[number];

export const ClusterSpecSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS),
    region: z.string().optional(),
    cloud: z.string().optional(),
    /** Extra labels for routing and selection (merged with metadata.labels). */
    labels: z.record(z.string(), z.string()).default({}),
    latency: z
      .strictObject({
        /** Typical gateway → cluster round trip, a routing hint. */
        hintMs: z.number().min(0).optional(),
        /** Simulated clusters: network delay injected in front of every replica (labelled simulated). */
        injectMs: z.number().min(0).max(10_000).optional(),
      })
      .prefault({}),
    /** provider: static — endpoints that already exist, by served model name. */
    static: z
      .strictObject({
        endpoints: z.array(z.strictObject({ url: zodHttpUrl(), model: z.string().min(1) })).min(1),
      })
      .optional(),
    /** Heartbeats missed before the cluster is marked unhealthy. */
    maxMissedHeartbeats: z.number().int().min(1).max(100).default(3),
  })
  .superRefine((spec, ctx) => {
    if (spec.provider === 'static' && !spec.static) ctx.addIssue({ code: 'custom', path: ['static'], message: "provider 'static' needs static.endpoints: [{url, model}]" });
    if (spec.provider !== 'static' && spec.static) ctx.addIssue({ code: 'custom', path: ['static'], message: `'static' applies only to provider 'static' (provider is '${spec.provider}')` });
  });
export type ClusterSpec = z.infer<typeof ClusterSpecSchema>;

export const GpuInventorySchema = z.strictObject({
  type: z.string(),
  count: z.number().int().min(0),
  memoryMiB: z.number().min(0),
  inUse: z.number().int().min(0),
});
export const NodeInventorySchema = z.strictObject({
  name: z.string(),
  cpus: z.number().min(0),
  memoryBytes: z.number().min(0),
  gpus: z.array(GpuInventorySchema),
  /** How the GPUs were found: nvidia-smi, declared (simulated cluster), kubernetes. */
  source: z.enum(['nvidia-smi', 'declared', 'kubernetes', 'none']),
});
export type NodeInventory = z.infer<typeof NodeInventorySchema>;

/** What an agent sends every heartbeat. */
export const HeartbeatSchema = z.strictObject({
  agentVersion: z.string(),
  nodes: z.array(NodeInventorySchema),
  endpoints: z.array(z.strictObject({ url: z.string(), healthy: z.boolean(), message: z.string().optional() })).default([]),
  simulated: z.boolean().default(false),
  /** How often this agent heartbeats (ms); default 10 s. */
  intervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
});
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export const ClusterStatusSchema = z.object({
  health: z.enum(['Healthy', 'Unhealthy', 'Unknown']),
  message: z.string().optional(),
  agentVersion: z.string().optional(),
  lastHeartbeat: z.string().optional(),
  /** The agent's heartbeat interval; the cluster turns Unhealthy after maxMissedHeartbeats of them. */
  heartbeatIntervalMs: z.number().optional(),
  /** Simulated inventory (declared, not discovered). */
  simulated: z.boolean().optional(),
  nodes: z.array(NodeInventorySchema),
  endpoints: z.array(z.object({ url: z.string(), healthy: z.boolean(), message: z.string().optional() })),
  conditions: z.array(ConditionSchema),
});
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;

/** Labels of a cluster for selection and routing: metadata.labels + spec.labels + name/provider/region/cloud. */
export function clusterLabels(c: { metadata: { name: string; labels: Record<string, string> }; spec: ClusterSpec }): Record<string, string> {
  return {
    ...c.spec.labels,
    ...c.metadata.labels,
    cluster: c.metadata.name,
    provider: c.spec.provider,
    ...(c.spec.region ? { region: c.spec.region } : {}),
    ...(c.spec.cloud ? { cloud: c.spec.cloud } : {}),
  };
}
