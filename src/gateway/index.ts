/** The gateway: the OpenAI-compatible data plane in front of many engines. */
export { Gateway, type GatewayOptions } from './gateway.js';
export { GatewayConfigSchema, loadGatewayConfig, type GatewayConfig, type GatewayConfigInput } from './config.js';
export { StaticRoutingTable, routesFromConfig, type RoutingTable, type ModelRoute } from './table.js';
export { SseRelay } from './relay.js';
export { ControlPlaneTable, routesFromResources, type ControlPlaneTableOptions } from './control-table.js';
export { DEFAULT_PREFIX_SUMMARY_POLL_MS, PrefixSummaryFeed, type PrefixSummaryFeedOptions, type PrefixSummarySource } from './prefix-summaries.js';
export { ANONYMOUS, ApiKeyAuth, callerOf, tenantCaller, type ApiKeyAuthOptions, type Caller, type CallerAuth, type CallerGrant } from './tenancy.js';
export { JwtAuth, loadJwt, MAX_JWT_LENGTH, MIN_HS256_SECRET_BYTES, type JwtAlgorithm, type JwtAuthOptions, type JwtConfig, type JwtOptions, type LoadedJwt, type TenantLookup } from './jwt.js';
export { JwksSource, parseJwks, type JwkSet, type JwksProvider, type JwksSourceOptions } from './jwks.js';
export { GatewayPrimary, isGatewayWorker, WorkerLink, type PrimaryOptions, type WorkerHooks } from './cluster.js';
