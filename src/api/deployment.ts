/** Deployment: one Function on one cluster (optionally for one tenant), and its replicas. */
import { z } from 'zod';
import { ConditionSchema, EventSchema, zName } from './meta.js';

export const DEPLOYMENT_PHASES = ['Pending', 'Provisioning', 'Ready', 'Degraded', 'Failed', 'Terminating'] as const;
/**
 * - Pending:      accepted, nothing started yet (e.g. cluster unknown or unhealthy)
 * - Provisioning: replicas starting, none ready yet
 * - Ready:        every desired replica is ready
 * - Degraded:     some, not all, replicas are ready
 * - Failed:       no replica is ready and they are failing (crash loop, bad command)
 * - Terminating:  being deleted; replicas draining
 */
export type DeploymentPhase = (typeof DEPLOYMENT_PHASES)[number];

export const REPLICA_STATES = ['pending', 'starting', 'ready', 'draining', 'stopped', 'failed'] as const;

export const DeploymentSpecSchema = z.strictObject({
  function: zName('function'),
  cluster: zName('cluster'),
  tenant: zName('tenant').optional(),
  /** Desired replicas; defaults to the Function's scaling.minReplicas (at least 1). */
  replicas: z.number().int().min(0).max(1000).optional(),
  cloud: z.string().optional(),
  region: z.string().optional(),
  spot: z.boolean().optional(),
});
export type DeploymentSpec = z.infer<typeof DeploymentSpecSchema>;

export const ReplicaStatusSchema = z.object({
  index: z.number().int(),
  id: z.string(),
  state: z.enum(REPLICA_STATES),
  endpoint: z.string().optional(),
  /** Where the replica publishes vLLM KV events (ZMQ PUB) and serves their replay (ROUTER). */
  kvEvents: z.object({ endpoint: z.string(), replayEndpoint: z.string().optional() }).optional(),
  pid: z.number().int().optional(),
  restarts: z.number().int(),
  message: z.string().optional(),
  startedAt: z.string().optional(),
});

export const DeploymentStatusSchema = z.object({
  phase: z.enum(DEPLOYMENT_PHASES),
  desiredReplicas: z.number().int(),
  readyReplicas: z.number().int(),
  replicas: z.array(ReplicaStatusSchema),
  conditions: z.array(ConditionSchema),
  events: z.array(EventSchema),
  observedGeneration: z.number().int(),
  /** The served model name and cluster labels, copied here so routing tables need only Deployments. */
  servedName: z.string().optional(),
});
export type DeploymentStatus = z.infer<typeof DeploymentStatusSchema>;
