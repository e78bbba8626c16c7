/**
 * HealthPool: the BackendHealth objects of one pool (a model's endpoints), sharing one config,
 * and the pool-level rule of outlier ejection:
 *
 *   an ejection is allowed only if  (ejected + 1) × 100 ≤ maxEjectionPercent × size
 *
 * counting backends ejected right now (excluding the candidate). With the default 50%: a pool
 * of 1 never ejects (the circuit breaker still protects it), 2 → 1, 3 → 1, 4 → 2. A refused
 * ejection is retried on the backend's next error, so it happens once others return.
 */
import type { Clock } from '../../core/index.js';
import { BackendHealth } from './backend.js';
import type { HealthState } from './backend.js';
import { resolveHealthConfig } from './config.js';
import type { HealthConfig, HealthConfigInput } from './config.js';

export type PoolChangeListener = (id: string, prev: HealthState, next: HealthState) => void;

export interface HealthPoolOptions {
  readonly clock: Clock;
  /** Raw or compiled config; parsed once here. */
  readonly config?: HealthConfigInput;
  /** Endpoint ids to start with. */
  readonly ids?: Iterable<string>;
}

export class HealthPool {
  readonly config: HealthConfig;
  private readonly clock: Clock;
  private readonly backends = new Map<string, BackendHealth>();
  private readonly listeners = new Set<PoolChangeListener>();
  private readonly gate = (b: BackendHealth): boolean => this.canEject(b);

  constructor(opts: HealthPoolOptions) {
    this.clock = opts.clock;
    this.config = resolveHealthConfig(opts.config);
    for (const id of opts.ids ?? []) this.add(id);
  }

  get size(): number {
    return this.backends.size;
  }
  get(id: string): BackendHealth | undefined {
    return this.backends.get(id);
  }
  has(id: string): boolean {
    return this.backends.has(id);
  }
  ids(): IterableIterator<string> {
    return this.backends.keys();
  }
  values(): IterableIterator<BackendHealth> {
    return this.backends.values();
  }

  /** Add a backend (fresh state); returns the existing one if the id is known. */
  add(id: string): BackendHealth {
    const existing = this.backends.get(id);
    if (existing) return existing;
    const b = new BackendHealth({ id, clock: this.clock, config: this.config, canEject: this.gate });
    b.onChange((prev, next) => {
      for (const l of this.listeners) l(id, prev, next);
    });
    this.backends.set(id, b);
    return b;
  }

  /** Remove and dispose a backend. Returns false if unknown. No change is emitted. */
  remove(id: string): boolean {
    const b = this.backends.get(id);
    if (!b) return false;
    b.dispose();
    return this.backends.delete(id);
  }

  /** Make the pool hold exactly these ids: new ones start fresh, known ones keep their state. */
  setIds(ids: Iterable<string>): void {
    const want = new Set(ids);
    for (const id of [...this.backends.keys()]) if (!want.has(id)) this.remove(id);
    for (const id of want) this.add(id);
  }

  /** Backends ejected right now. O(size). */
  ejectedCount(): number {
    let n = 0;
    for (const b of this.backends.values()) if (b.ejected) n++;
    return n;
  }

  /** The max-ejection-percent rule (see the module comment); asked only at an error threshold. */
  canEject(candidate: BackendHealth): boolean {
    const others = this.ejectedCount() - (candidate.ejected ? 1 : 0);
    return (others + 1) * 100 <= this.config.outlier.maxEjectionPercent * this.backends.size;
  }

  /** Listen for health changes of any backend. Returns an unsubscribe function. */
  onChange(listener: PoolChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Per-backend snapshots, for metrics and debug endpoints. */
  snapshot(): Record<string, HealthState> {
    const out: Record<string, HealthState> = {};
    for (const [id, b] of this.backends) out[id] = b.state();
    return out;
  }

  dispose(): void {
    for (const b of this.backends.values()) b.dispose();
    this.backends.clear();
    this.listeners.clear();
  }
}
