/** Cluster agent: GPU discovery, heartbeats with inventory and endpoint health. */
export { ClusterAgent, DEFAULT_HEARTBEAT_INTERVAL_MS, PROBE_TIMEOUT_MS, gpusInUse, httpHealthProbe } from './agent.js';
export type { AgentClient, ClusterAgentOptions, Probe, ProbeResult } from './agent.js';
export { KNOWN_GPU_MEMORY_GIB, NVIDIA_SMI_ARGS, describeGpus, discoverGpus, groupGpus, nodeInventory, normalizeGpuType, parseDeclaredGpus, parseNvidiaSmi } from './gpus.js';
export type { DiscoverOptions, ExecFn, GpuDiscovery, GpuGroup, GpuSource, NvidiaSmiGpu } from './gpus.js';
