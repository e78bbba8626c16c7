/**
 * The control plane: resources (Functions, Deployments, Clusters, Tenants, ApiKeys) with
 * validation, admission checks (GPU quotas), optimistic concurrency and git history; the
 * reconciler that turns them into replicas through providers; cluster heartbeats; tokens with
 * roles; API key minting, and the ApiKeyIndex gateways authenticate keys with; and the admin
 * HTTP API with its watch stream; usage metering (UsageMeter, the price table), the audit log, and
 * the clusters' prefix summaries (agents report them, gateways read them).
 */
export { ControlPlane, type ControlPlaneOptions, type UsageOptions } from './control-plane.js';
export { handleAdminRequest } from './http-api.js';
export { ResourceService, manifestOf, toResource, type Actor, type AdmissionCheck, type ApplyOutcome, type PendingWrite, type SpecChange } from './resources.js';
export { GitHistory, type HistoryEntry } from './history.js';
export { Reconciler } from './reconciler.js';
export { ClusterMonitor } from './clusters.js';
export { Tokens, type Principal } from './tokens.js';
export { authorize, permits, type Need } from './permissions.js';
export { ApiKeyIndex, type ApiKeyAuthError, type ApiKeyAuthResult } from './apikey-index.js';
export { ApiKeyService, apiKeyName, LABEL_TENANT, type MintedKey } from './apikeys.js';
export { checkGpuQuotas, deploymentGpus, gpuQuotaCheck, gpusByTenant } from './quota.js';
export { newApiKeySecret, sha256Hex } from './secrets.js';
export { deploymentName, LABEL_CLUSTER, LABEL_FUNCTION } from './targets.js';
export { unifiedDiff } from './diff.js';
export { DEMO_CLUSTERS, DEMO_FUNCTION, demoManifests, type DemoCluster } from './demo.js';
export { UsageMeter, type UsageMeterOptions } from './usage.js';
export { PriceBook } from './pricing.js';
export { AuditLog, scrub, type AuditWho, type AuditWhat } from './audit.js';
export { PrefixSummaryRegistry, PREFIX_SUMMARY_MISSED_RESENDS, type PrefixSummaryReport } from './prefix-summaries.js';
