/** The built-in plugin types and the shared, frozen default registry. */
import type { PluginType } from './plugin.js';
import { consistentHashPicker } from './plugins/consistent_hash.js';
import { kvUsageScorer } from './plugins/kv_usage.js';
import { labelMatchFilter } from './plugins/label_match.js';
import { leastRequestScorer } from './plugins/least_request.js';
import { maxScorePicker } from './plugins/max_score.js';
import { powerOfTwoPicker } from './plugins/power_of_two.js';
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
  maxScorePicker,
  roundRobinPicker,
  randomPicker,
  powerOfTwoPicker,
  consistentHashPicker,
];

/** The built-in types; frozen. Extend a copy: `createRegistry().register(myPlugin)`. */
export const defaultRegistry: PluginRegistry = new PluginRegistry(BUILTIN_PLUGIN_TYPES).freeze();

/** A new, mutable registry holding the built-in types. */
export function createRegistry(): PluginRegistry {
  return defaultRegistry.clone();
}
