/**
 * The demo that `switchyard up --demo` (the default of `npm start`) creates: three SIMULATED
 * GPU clusters modelled on the seed scenario, each with its own agent and injected network
 * delay, and one simulated model deployed to all three. Everything here is a simulator: no
 * GPU, no model weights; the clusters' GPUs are declared, not discovered.
 */
import { API_VERSION, validateManifests, type Manifest } from '../api/index.js';

export interface DemoCluster {
  readonly name: string;
  /** Declared GPUs for the agent, e.g. `A100:8`. */
  readonly gpus: string;
  readonly gpuType: string;
  readonly region: string;
  readonly cloud: string;
  /** Simulated network delay in front of the cluster's replicas (ms). */
  readonly latencyMs: number;
}

export const DEMO_CLUSTERS: readonly DemoCluster[] = [
  { name: 'aws-us-east', gpus: 'A100:8', gpuType: 'A100', region: 'us-east-1', cloud: 'aws', latencyMs: 20 },
  { name: 'onprem-rack', gpus: 'H100:4', gpuType: 'H100', region: 'on-prem', cloud: 'onprem', latencyMs: 2 },
  { name: 'gcp-eu-west', gpus: 'A100:4', gpuType: 'A100', region: 'europe-west4', cloud: 'gcp', latencyMs: 45 },
];

export const DEMO_FUNCTION = 'demo-llama-8b';
export const DEMO_LABEL = 'switchyard.dev/demo';

export function demoManifests(speedup = 1): Manifest[] {
  const clusters = DEMO_CLUSTERS.map((c) => ({
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name: c.name, labels: { [DEMO_LABEL]: 'true', simulated: 'true' }, annotations: { 'switchyard.dev/description': `SIMULATED cluster: ${c.gpus.replace(':', ' x')} declared, ${c.latencyMs} ms injected network delay` } },
    spec: { provider: 'local', region: c.region, cloud: c.cloud, labels: { gpu: c.gpuType }, latency: { hintMs: c.latencyMs, injectMs: c.latencyMs }, maxMissedHeartbeats: 3 },
  }));
  const fn = {
    apiVersion: API_VERSION,
    kind: 'Function',
    metadata: { name: DEMO_FUNCTION, labels: { [DEMO_LABEL]: 'true' }, annotations: { 'switchyard.dev/description': 'SIMULATED Llama-3.1-8B (switchyard worker sim): deterministic filler text, real token counts' } },
    spec: {
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      runtime: 'sim',
      resources: { gpu: { type: 'any', count: 1 }, tensorParallelSize: 1 },
      scaling: { minReplicas: 1, maxReplicas: 1, metric: 'queue_depth', target: 4 },
      routing: { profile: 'default', sessionAffinity: true },
      targetClusters: [{ matchLabels: { [DEMO_LABEL]: 'true' } }],
      args: [],
      env: {},
      sim: { speedup },
    },
  };
  return validateManifests([...clusters, fn], 'demo');
}
