/**
 * Two-layer routing in the gateway: pick the cluster first, from one aggregate view per cluster
 * (Σ loads of its untried endpoints, healthy if any is, its labels), with the model's cluster
 * profile (e.g. `cluster_score`: cache 0.35, session 0.25, load headroom 0.25, latency 0.15);
 * then the endpoint inside that cluster with the model's profile. The cluster layer sees the
 * exact KV index through a ClusterKvView (a cluster holds what its best endpoint holds) and pins
 * sessions to clusters; the worker layer works as in one-layer routing.
 *
 * With endpoints in fewer than two clusters this is one-layer routing. The decision's profile
 * reads `cluster->worker` and its reason names the cluster and why, then the worker and why.
 */
import { aggregateLoads, ClusterKvView, emptyLoad, type Decision, type EndpointView, type KvOverlapIndex, type RoutingContext } from '../router/index.js';
import type { RouterPort } from './ports.js';

const PANIC = { panic: true } as const;
const CLUSTER_ID = 'cluster:';

export function routeTwoLayer(router: RouterPort, clusterProfile: string, profile: string, ctx: RoutingContext, views: readonly EndpointView[]): Decision {
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
  const members: { id: string; workerIds: string[] }[] = [];
  for (const [name, eps] of groups) {
    const live = eps.filter((e) => !excluded.has(e.id));
    if (live.length === 0) continue; // every endpoint there was tried: the cluster is out for this request
    const healthy = live.filter((e) => e.healthy);
    let wf = 0;
    for (const e of healthy.length > 0 ? healthy : live) wf = Math.max(wf, e.weightFactor);
    const id = CLUSTER_ID + name;
    clusterViews.push({ id, url: '', model: live[0]!.model, labels: live[0]!.labels, weight: Math.max(1, healthy.length), healthy: healthy.length > 0, weightFactor: wf, load: aggregateLoads(live.map((e) => e.load), emptyLoad()) });
    members.push({ id, workerIds: live.map((e) => e.id) });
  }
  const kv: KvOverlapIndex | undefined = ctx.kvIndex === undefined ? undefined : new ClusterKvView(ctx.kvIndex, members);
  const clusterCtx: RoutingContext = kv === undefined ? ctx : { ...ctx, kvIndex: kv };
  const c = router.route(clusterProfile, clusterCtx, clusterViews, PANIC);
  if (c.endpoint === null) return c;
  const name = c.endpoint.id.slice(CLUSTER_ID.length);
  const w = router.route(profile, ctx, groups.get(name)!, PANIC);
  return {
    endpoint: w.endpoint,
    profile: `${c.profile}->${w.profile}`,
    reason: `cluster ${name} (${c.reason}); ${w.reason}`,
    candidates: w.candidates,
    scores: w.scores,
    timings: [...c.timings, ...w.timings],
    panic: c.panic || w.panic,
  };
}
