/**
 * Cluster health from agent heartbeats. A heartbeat marks the cluster Healthy and records its
 * inventory; a cluster whose agent missed `maxMissedHeartbeats` heartbeats in a row (3 by
 * default) turns Unhealthy, and gateways stop routing to it; the next heartbeat readmits it.
 * A cluster that never had an agent stays Unknown (and is routed to: static clusters need no agent).
 */
import type { ClusterStatus, Heartbeat } from '../api/index.js';
import { SwitchyardError, type Clock, type TimerHandle } from '../core/index.js';
import type { Logger } from '../observability/index.js';
import type { ResourceService } from './resources.js';

export class ClusterMonitor {
  /** Last heartbeat per cluster on this control plane's clock (epoch ms), seeded from status on start. */
  private readonly last = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(
    private readonly service: ResourceService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly checkEveryMs = 1000,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.check().then(
        () => this.schedule(),
        (e: unknown) => {
          this.logger.warn({ err: e }, 'cluster health check failed');
          this.schedule();
        },
      );
    }, this.checkEveryMs);
  }

  /** Record a heartbeat. @throws not_found when the cluster does not exist. */
  async heartbeat(cluster: string, hb: Heartbeat): Promise<void> {
    const nowMs = this.clock.epochMs();
    this.last.set(cluster, nowMs);
    const now = new Date(nowMs).toISOString();
    let wasUnhealthy = false;
    const found = await this.service.updateStatus('Cluster', cluster, (cur) => {
      wasUnhealthy = cur.status?.health === 'Unhealthy';
      const status: ClusterStatus = {
        health: 'Healthy',
        message: `agent ${hb.agentVersion} reporting${hb.simulated ? ' (simulated inventory)' : ''}`,
        agentVersion: hb.agentVersion,
        lastHeartbeat: now,
        heartbeatIntervalMs: hb.intervalMs,
        simulated: hb.simulated,
        nodes: hb.nodes,
        endpoints: hb.endpoints,
        conditions: [{ type: 'Ready', status: 'True', reason: 'HeartbeatReceived', message: 'agent heartbeats arrive on time', lastTransitionTime: cur.status?.health === 'Healthy' ? (cur.status.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime ?? now) : now }],
      };
      return status;
    });
    if (!found) {
      throw new SwitchyardError('not_found', `Cluster '${cluster}' not found; create it first (switchyard apply -f cluster.yaml)`, { param: 'name' });
    }
    if (wasUnhealthy) this.logger.info({ cluster }, 'cluster readmitted: heartbeats resumed');
  }

  /** Mark clusters whose heartbeats stopped as Unhealthy. */
  async check(): Promise<void> {
    const nowMs = this.clock.epochMs();
    for (const c of (await this.service.list('Cluster')).items) {
      const st = c.status;
      if (!st || st.health !== 'Healthy' || !st.lastHeartbeat) continue;
      const last = this.last.get(c.metadata.name) ?? Date.parse(st.lastHeartbeat);
      const interval = st.heartbeatIntervalMs ?? 10_000;
      const missed = Math.floor((nowMs - last) / interval);
      if (missed < c.spec.maxMissedHeartbeats) continue;
      const agoS = Math.round((nowMs - last) / 1000);
      this.logger.warn({ cluster: c.metadata.name, missed, lastHeartbeat: st.lastHeartbeat }, 'cluster unhealthy: heartbeats missed');
      await this.service.updateStatus('Cluster', c.metadata.name, (cur) =>
        cur.status && cur.status.lastHeartbeat === st.lastHeartbeat
          ? {
              ...cur.status,
              health: 'Unhealthy',
              message: `missed ${missed} heartbeats (last ${agoS}s ago); not routed until its agent reports again`,
              conditions: [{ type: 'Ready', status: 'False', reason: 'HeartbeatsMissed', message: `no heartbeat for ${agoS}s`, lastTransitionTime: new Date(nowMs).toISOString() }],
            }
          : undefined,
      );
    }
  }
}
