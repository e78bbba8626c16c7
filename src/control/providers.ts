/** Which Provider runs a cluster's Deployments, by the cluster's spec.provider. */
import type { ClusterResource } from '../api/index.js';
import type { Provider } from '../providers/index.js';

export class ProviderRegistry {
  private readonly byKind = new Map<string, Provider>();

  constructor(providers: readonly Provider[]) {
    for (const p of providers) this.byKind.set(p.kind, p);
  }

  /** The provider for a cluster, or undefined when that provider kind is not available here. */
  forCluster(cluster: ClusterResource): Provider | undefined {
    return this.byKind.get(cluster.spec.provider);
  }

  all(): Provider[] {
    return [...this.byKind.values()];
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }
}
