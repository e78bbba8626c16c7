/**
 * The control plane: resources (Functions, Deployments, Clusters) with validation, optimistic
 * concurrency and git history; the reconciler that turns them into replicas through providers;
 * cluster heartbeats; tokens; and the admin HTTP API with its watch stream.
 */
export { ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { handleAdminRequest } from './http-api.js';
export { ResourceService, manifestOf, toResource, type Actor, type ApplyOutcome, type SpecChange } from './resources.js';
export { GitHistory, type HistoryEntry } from './history.js';
export { Reconciler } from './reconciler.js';
export { ClusterMonitor } from './clusters.js';
export { Tokens, type Principal } from './tokens.js';
export { deploymentName, LABEL_CLUSTER, LABEL_FUNCTION } from './targets.js';
export { unifiedDiff } from './diff.js';
export { DEMO_CLUSTERS, DEMO_FUNCTION, demoManifests, type DemoCluster } from './demo.js';
