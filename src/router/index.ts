/**
 * The router: a pure routing framework (pre-filter → filters → weighted scorers → picker) with
 * small plugins, named profiles compiled from config, and the built-in profiles.
 *
 *   const router = new Router(compileProfiles(config.profiles));
 *   const d = router.route('default', { now, random, request }, endpointViews);   // Decision
 *   // KV-aware profiles: request.tokenIds = () => ids (lazy), and ctx.kvIndex = a KvBlockIndex
 *   router.route('kv_default', { now, random, request, kvIndex }, endpointViews);
 */
export type * from './types.js';
export type { PluginKind, PluginInstance, PluginOfKind, PluginType, PluginSpec, ScorerSpec, ProfileSpec } from './plugin.js';
export { definePlugin } from './plugin.js';
export { PluginRegistry } from './registry.js';
export { BUILTIN_PLUGIN_TYPES, defaultRegistry, createRegistry } from './builtins.js';
export { CompiledProfile, Router, routeWith } from './framework.js';
export type { CompiledProfileInit, ProfileStats, RouteOptions, ScorerSlot } from './framework.js';
export { BUILTIN_PROFILES, RoutingProfilesSchema, compileProfiles, routingProfilesSchema } from './profile.js';
export type { CompileOptions, PluginEntryInput, ProfileInput, RoutingProfilesSpec } from './profile.js';
export { SESSION_HEADER, sessionKeyOf } from './session-key.js';
export { promptPrefixHashes, promptTokenIds } from './prompt.js';
export { durationParam, hash32 } from './util.js';
export { estimatedQueue } from './plugins/queue_depth.js';
export { liveLoad } from './plugins/power_of_two.js';
export * as routerTesting from './testing.js';
export * from './kvindex/index.js';
export { aggregateLoads, ClusterKvView, ClusterSummaryView, emptyLoad } from './cluster-layer.js';
export type { ClusterKvSource, ClusterPrefixSummaries, SummaryMember } from './cluster-layer.js';
