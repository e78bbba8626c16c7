/**
 * Resource schemas (Function, Deployment, Cluster, Tenant, ApiKey): the one source for validation, the
 * TypeScript types, the OpenAPI document and the rendered API reference. Also usage records, the
 * price table and audit entries, and the client side of the admin API (SwitchyardClient,
 * RemoteUsageSink).
 */
export * from './meta.js';
export * from './function.js';
export * from './deployment.js';
export * from './cluster.js';
export * from './tenant.js';
export * from './apikey.js';
export * from './token.js';
export * from './kinds.js';
export * from './usage.js';
export * from './audit.js';
export * from './prefix-summary.js';
export { BatchBuffer, type BatchBufferOptions, type DropReason } from './batch-buffer.js';
export { RemoteUsageSink, type RemoteUsageSinkOptions } from './usage-client.js';
export { parseManifests, validateManifests, ManifestError, type Manifest, type ManifestDocumentError } from './manifest.js';
export { buildOpenApiDocument } from './openapi.js';
export { renderApiReference } from './reference.js';
export { SwitchyardClient, type ClientOptions, type ListResult, type ApplyResult, type HistoryEntry, type ApiWatchEvent, type MintedApiKey, type CreatedToken, type UsageRequest, type AuditRequest } from './client.js';
export { ResourceFollower, type FollowSource, type ResourceFollowerOptions } from './follower.js';
