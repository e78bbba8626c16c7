/**
 * Two-layer routing in the gateway: pick the cluster first, from one aggregate view per cluster
 * (Σ loads of its untried endpoints, healthy if any is, its labels), with the model's cluster
 * profile (e.g. `cluster_score`: cache 0.35, session 0.25, load headroom 0.25, latency 0.15);
 * then the endpoint inside that cluster with the model's profile. The cluster layer pins sessions
 * to clusters; the worker layer works as in one-layer routing (the exact index).
 *
 * The cluster layer's KV signal (ClusterSummaryView, ADR 0016): each cluster's prefix summary,
 * reported by its agent through the control plane, when there is one (mode 'summary': only
 * those); otherwise the gateway's exact index, a cluster holding what its best endpoint holds
 * (mode 'exact': always). Summaries with another block size than the index's are not used.
 *
 * With endpoints in fewer than two clusters this is one-layer routing. The decision's profile
 * reads `cluster->worker` and its reason names the cluster, where its KV signal came from and
 * what it found (`kv summary 12/14`), why it won, then the worker and why.
 */
import { aggregateLoads, ClusterSummaryView, emptyLoad, type ClusterPrefixSummaries, type Decision, type EndpointView, type RoutingContext, type SummaryMember } from '../router/index.js';
import type { RouterPort } from './ports.js';

/** How the cluster layer gets its KV signal. */
export interface ClusterKvOptions {
  /** 'summary': agents' prefix summaries only; 'exact': the gateway's index; absent: per cluster, its summary when there is one. */
  readonly mode?: 'summary' | 'exact' | undefined;
  readonly summaries?: ClusterPrefixSummaries | undefined;
}

const PANIC = { panic: true } as const;
const CLUSTER_ID = 'cluster:';

export function routeTwoLayer(router: RouterPort, clusterProfile: string, profile: string, ctx: RoutingContext, views: readonly EndpointView[], clusterKv: ClusterKvOptions = {}): Decision {
  const groups = new Map<string, EndpointView[]>();
  for (const v of views) {
    const c = v.labels.cluster ?? '';
    let g = groups.get(c);
    if (g === undefined) groups.set(c, (g = []));
    g.push(v);
  }
  if (groups.size < 2) return router.route(profile, ctx, views, PANIC);

  const excluded = ctx.request.excluded;
  const clusterViews: EndpointView[] = [];
  const members: SummaryMember[] = [];
  const summaries = clusterKv.mode === 'exact' ? undefined : clusterKv.summaries;
  const blockSize = ctx.kvIndex?.blockSize;
  for (const [name, eps] of groups) {
    const live = eps.filter((e) => !excluded.has(e.id));
    if (live.length === 0) continue; // every endpoint there was tried: the cluster is out for this request
    const healthy = live.filter((e) => e.healthy);
    let wf = 0;
    for (const e of healthy.length > 0 ? healthy : live) wf = Math.max(wf, e.weightFactor);
    const id = CLUSTER_ID + name;
    clusterViews.push({ id, url: '', model: live[0]!.model, labels: live[0]!.labels, weight: Math.max(1, healthy.length), healthy: healthy.length > 0, weightFactor: wf, load: aggregateLoads(live.map((e) => e.load), emptyLoad()) });
    const summary = summaries?.summary(name);
    members.push({ id, workerIds: live.map((e) => e.id), summary: summary !== undefined && (blockSize === undefined || summary.blockSize === blockSize) ? summary : undefined });
  }
  const size = blockSize ?? members.find((m) => m.summary !== undefined)?.summary?.blockSize;
  const exact = clusterKv.mode === 'summary' ? undefined : ctx.kvIndex;
  const kv = size === undefined ? undefined : new ClusterSummaryView(size, members, exact);
  const clusterCtx: RoutingContext = kv === undefined ? ctx : { ...ctx, kvIndex: kv };
  const c = router.route(clusterProfile, clusterCtx, clusterViews, PANIC);
  if (c.endpoint === null) return c;
  const name = c.endpoint.id.slice(CLUSTER_ID.length);
  const w = router.route(profile, ctx, groups.get(name)!, PANIC);
  const held = kv?.lastHeld(c.endpoint.id);
  const source = kv === undefined ? 'none' : kv.source;
  return {
    endpoint: w.endpoint,
    profile: `${c.profile}->${w.profile}`,
    reason: `cluster ${name} (kv ${source}${held ? ` ${held.held}/${held.blocks}` : ''}; ${c.reason}); ${w.reason}`,
    candidates: w.candidates,
    scores: w.scores,
    timings: [...c.timings, ...w.timings],
    panic: c.panic || w.panic,
  };
}
