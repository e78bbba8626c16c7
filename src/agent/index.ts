/** Cluster agent: GPU discovery, heartbeats with inventory and endpoint health, prefix summaries of its cluster's KV caches. */
export { ClusterAgent, DEFAULT_HEARTBEAT_INTERVAL_MS, PROBE_TIMEOUT_MS, gpusInUse, httpHealthProbe, kvSourcesOf } from './agent.js';
export type { AgentClient, AgentPrefixSummaryOptions, ClusterAgentOptions, Probe, ProbeResult } from './agent.js';
export { DEFAULT_PREFIX_SUMMARY_INTERVAL_MS, DEFAULT_PREFIX_SUMMARY_REFRESH_MS, PrefixReporter } from './prefix-reporter.js';
export type { PrefixReporterOptions, PrefixSummaryClient } from './prefix-reporter.js';
export { KNOWN_GPU_MEMORY_GIB, NVIDIA_SMI_ARGS, describeGpus, discoverGpus, groupGpus, nodeInventory, normalizeGpuType, parseDeclaredGpus, parseNvidiaSmi } from './gpus.js';
export type { DiscoverOptions, ExecFn, GpuDiscovery, GpuGroup, GpuSource, NvidiaSmiGpu } from './gpus.js';
