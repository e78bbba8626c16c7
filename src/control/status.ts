/**
 * Pure status computation: replicas reported by a provider → a Deployment's status (phase,
 * conditions, events), and Deployments → a Function's status. No I/O; tested on its own.
 */
import type { Condition, DeploymentPhase, DeploymentStatus, FunctionStatus, ResourceEvent } from '../api/index.js';

export interface ReplicaView {
  readonly index: number;
  readonly id: string;
  readonly state: 'pending' | 'starting' | 'ready' | 'draining' | 'stopped' | 'failed';
  readonly endpoint?: string;
  readonly kvEvents?: { readonly endpoint: string; readonly replayEndpoint?: string };
  readonly pid?: number;
  readonly restarts: number;
  readonly message?: string;
  readonly startedAt?: string;
}

const MAX_EVENTS = 20;

export function phaseOf(desired: number, replicas: readonly ReplicaView[], blocked: string | undefined): DeploymentPhase {
  if (blocked) return 'Pending';
  const ready = replicas.filter((r) => r.state === 'ready').length;
  if (ready >= desired) return 'Ready';
  if (ready > 0) return 'Degraded';
  const failing = replicas.filter((r) => r.state === 'failed');
  if (failing.length > 0 && failing.every((r) => r.restarts >= 2 || /needs|invalid|not supported|unknown/i.test(r.message ?? ''))) return 'Failed';
  return 'Provisioning';
}

function condition(prev: readonly Condition[], type: string, ok: boolean, reason: string, message: string, now: string): Condition {
  const status = ok ? 'True' : 'False';
  const old = prev.find((c) => c.type === type);
  return { type, status, reason, message, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now };
}

/**
 * The next status of a Deployment. `blocked` explains why nothing can run (cluster missing,
 * provider not implemented, ...). Events are appended for phase changes and restarts.
 */
export function nextDeploymentStatus(args: {
  prev: DeploymentStatus | undefined;
  desired: number;
  replicas: readonly ReplicaView[];
  generation: number;
  servedName: string | undefined;
  blocked?: string;
  now: string;
}): DeploymentStatus {
  const { prev, desired, replicas, now, blocked } = args;
  const phase = phaseOf(desired, replicas, blocked);
  const ready = replicas.filter((r) => r.state === 'ready').length;
  const prevConds = prev?.conditions ?? [];
  const failed = replicas.filter((r) => r.state === 'failed');
  const conditions: Condition[] = [
    condition(prevConds, 'Available', ready > 0, ready > 0 ? 'ReplicasReady' : 'NoReadyReplicas', `${ready}/${desired} replicas ready`, now),
    condition(prevConds, 'Progressing', !blocked && phase !== 'Failed', blocked ? 'Blocked' : phase === 'Failed' ? 'CrashLoop' : 'Reconciling', blocked ?? (failed[0]?.message ? `replica ${failed[0].index}: ${failed[0].message}` : `phase ${phase}`), now),
  ];
  const events: ResourceEvent[] = [...(prev?.events ?? [])];
  if (!prev || prev.phase !== phase) {
    events.push({ time: now, type: phase === 'Failed' || phase === 'Degraded' ? 'Warning' : 'Normal', reason: `Phase${phase}`, message: prev ? `${prev.phase} → ${phase}${blocked ? `: ${blocked}` : ''}` : `${phase}${blocked ? `: ${blocked}` : ''}` });
  }
  for (const r of replicas) {
    const before = prev?.replicas.find((p) => p.index === r.index);
    if (before && r.restarts > before.restarts) events.push({ time: now, type: 'Warning', reason: 'ReplicaRestarted', message: `replica ${r.index} restarted (${r.restarts} restarts)${r.message ? `: ${r.message}` : ''}` });
  }
  return {
    phase,
    desiredReplicas: desired,
    readyReplicas: ready,
    replicas: replicas.map((r) => ({ ...r })),
    conditions,
    events: events.slice(-MAX_EVENTS),
    observedGeneration: args.generation,
    ...(args.servedName ? { servedName: args.servedName } : {}),
  };
}

export function nextFunctionStatus(args: {
  prev: FunctionStatus | undefined;
  deployments: readonly { name: string; cluster: string; status?: DeploymentStatus }[];
  generation: number;
  now: string;
  /** Why some wanted Deployments were not created (e.g. the tenant's GPU quota). */
  refused?: string;
}): FunctionStatus {
  const deployments = args.deployments.map((d) => ({ name: d.name, cluster: d.cluster, phase: d.status?.phase ?? 'Pending', readyReplicas: d.status?.readyReplicas ?? 0 }));
  const readyReplicas = deployments.reduce((s, d) => s + d.readyReplicas, 0);
  const readyClusters = deployments.filter((d) => d.readyReplicas > 0).length;
  return {
    deployments,
    readyReplicas,
    conditions: [
      condition(args.prev?.conditions ?? [], 'Available', readyReplicas > 0, readyReplicas > 0 ? 'Serving' : 'NoReadyReplicas', `${readyReplicas} ready replicas on ${readyClusters}/${deployments.length} clusters`, args.now),
      ...(args.refused ? [condition(args.prev?.conditions ?? [], 'Admitted', false, 'QuotaExceeded', args.refused, args.now)] : []),
    ],
    observedGeneration: args.generation,
  };
}
