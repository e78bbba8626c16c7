/** The built-in plugin types and the shared, frozen default registry. */
import type { PluginType } from './plugin.js';
import { approxPrefixScorer } from './plugins/approx_prefix.js';
import { cacheAwarePicker } from './plugins/cache_aware.js';
import { clusterScoreScorer } from './plugins/cluster_score.js';
import { consistentHashPicker } from './plugins/consistent_hash.js';
import { kvOverlapScorer } from './plugins/kv_overlap.js';
import { kvUsageScorer } from './plugins/kv_usage.js';
import { labelMatchFilter } from './plugins/label_match.js';
import { leastRequestScorer } from './plugins/least_request.js';
import { maxScorePicker } from './plugins/max_score.js';
import { powerOfTwoPicker } from './plugins/power_of_two.js';
import { prefillCostPicker } from './plugins/prefill_cost.js';
import { queueDepthScorer } from './plugins/queue_depth.js';
import { randomPicker } from './plugins/random.js';
import { roundRobinPicker } from './plugins/round_robin.js';
import { sessionAffinityScorer } from './plugins/session_affinity.js';
import { PluginRegistry } from './registry.js';

export const BUILTIN_PLUGIN_TYPES: readonly PluginType[] = [
  labelMatchFilter,
  leastRequestScorer,
  queueDepthScorer,
  kvUsageScorer,
  sessionAffinityScorer,
  kvOverlapScorer,
  approxPrefixScorer,
  clusterScoreScorer,
  maxScorePicker,
  roundRobinPicker,
  randomPicker,
  powerOfTwoPicker,
  consistentHashPicker,
  cacheAwarePicker,
  prefillCostPicker,
];

/** The built-in types; frozen. Extend a copy: `createRegistry().register(myPlugin)`. */
export const defaultRegistry: PluginRegistry = new PluginRegistry(BUILTIN_PLUGIN_TYPES).freeze();

/** A new, mutable registry holding the built-in types. */
export function createRegistry(): PluginRegistry {
  return defaultRegistry.clone();
}
