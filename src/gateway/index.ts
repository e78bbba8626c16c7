/** The gateway: the OpenAI-compatible data plane in front of many engines. */
export { Gateway, type GatewayOptions } from './gateway.js';
export { GatewayConfigSchema, loadGatewayConfig, type GatewayConfig, type GatewayConfigInput } from './config.js';
export { StaticRoutingTable, routesFromConfig, type RoutingTable, type ModelRoute } from './table.js';
export { SseRelay } from './relay.js';
export { ControlPlaneTable, routesFromResources, type ControlPlaneTableOptions } from './control-table.js';
export { ANONYMOUS, ApiKeyAuth, callerOf, type ApiKeyAuthOptions, type Caller, type CallerAuth } from './tenancy.js';
