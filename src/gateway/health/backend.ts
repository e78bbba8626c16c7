/**
 * BackendHealth: everything the gateway knows about one endpoint's health, driven by a Clock.
 *
 * Three independent signals, all of which must pass for traffic:
 * - the circuit breaker (breaker.ts) — admits requests unless open (half_open: trials only);
 * - passive outlier ejection (detectors.ts) — out for a while after a streak of errors;
 * - active health checks (detectors.ts) — out while the last checks failed.
 * Active checks do not end an ejection and ejection does not touch active state (as in
 * Envoy): an ejected backend whose /health passes stays ejected until its time is up.
 *
 * "In service" = circuit closed ∧ not ejected ∧ actively healthy. When a backend comes back
 * into service at time t₀ (it was out for any reason), slow start ramps its weight:
 *   weightFactor(t) = minFactor + (1 − minFactor) × min(1, (t − t₀) / slowStart.duration)
 * It is minFactor while out of service or half_open, and 1 for a backend never out.
 *
 * Open and ejection periods end at known deadlines: a timer on the Clock fires then, so change
 * listeners hear of recovery on time; reads also re-check `now`, so they never depend on it.
 */
import type { Clock, TimerHandle } from '../../core/index.js';
import { CIRCUIT_STATE_CODE, CircuitBreaker } from './breaker.js';
import type { CircuitState } from './breaker.js';
import { resolveHealthConfig } from './config.js';
import type { HealthConfig } from './config.js';
import { ActiveCheckState, OutlierDetector } from './detectors.js';

/** How an upstream request failed, as the gateway observed it. 429 means busy, not broken. */
export type FailureKind = 'connect' | 'timeout' | '5xx' | '429' | 'reset';

/** A snapshot for metrics, debug endpoints and change listeners. */
export interface HealthState {
  readonly circuit: CircuitState;
  /** End of the open period (circuit 'open' only). */
  readonly openUntil: number | null;
  readonly ejected: boolean;
  /** End of the current ejection (when ejected). */
  readonly ejectedUntil: number | null;
  readonly activeHealthy: boolean;
  /** allowRequest() would admit a request now (half_open: a trial slot is free). */
  readonly available: boolean;
  /** circuit closed ∧ ¬ejected ∧ activeHealthy. */
  readonly inService: boolean;
  readonly weightFactor: number;
  readonly consecutiveFailures: number;
  readonly consecutive5xx: number;
  readonly windowRequests: number;
  readonly windowFailures: number;
  readonly trialsInFlight: number;
  /** Openings in the current breaker streak (sets the open period). */
  readonly timesOpened: number;
  /** Ejection multiplier used by the latest ejection. */
  readonly timesEjected: number;
  readonly ejectionsRefused: number;
  /** 429 responses seen (never eject, never trip). */
  readonly rateLimited: number;
}

/** Called when circuit, ejection or active health changes (not on counter updates). Must not throw. */
export type HealthChangeListener = (prev: HealthState, next: HealthState) => void;

export interface BackendHealthOptions {
  readonly id: string;
  readonly clock: Clock;
  /** Compiled config (resolveHealthConfig); defaults when omitted. */
  readonly config?: HealthConfig;
  /** Asked before each ejection; HealthPool enforces maxEjectionPercent here. Default: allow. */
  readonly canEject?: (backend: BackendHealth) => boolean;
}

export class BackendHealth {
  readonly id: string;
  readonly config: HealthConfig;
  private readonly clock: Clock;
  private readonly breaker: CircuitBreaker;
  private readonly outlier: OutlierDetector;
  private readonly active: ActiveCheckState;
  private readonly ejectGate: () => boolean;
  private readonly listeners = new Set<HealthChangeListener>();
  private key: number;
  private last: HealthState;
  private slowStartFrom: number | null = null;
  private rateLimited = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private disposed = false;

  constructor(opts: BackendHealthOptions) {
    this.id = opts.id;
    this.clock = opts.clock;
    this.config = opts.config ?? resolveHealthConfig();
    const now = this.clock.now();
    this.breaker = new CircuitBreaker(this.config.circuit, now);
    this.outlier = new OutlierDetector(this.config.outlier);
    this.active = new ActiveCheckState(this.config.active);
    const canEject = opts.canEject;
    this.ejectGate = canEject ? () => canEject(this) : () => true;
    this.key = this.computeKey(now);
    this.last = this.snapshot(now);
  }

  /**
   * May a request go to this backend now? False when ejected, actively unhealthy, open, or
   * half_open with every trial slot taken. In half_open a true reserves a trial slot, freed by
   * the next recordSuccess/recordFailure, or by releaseTrial() when the request ends without one.
   */
  allowRequest(): boolean {
    const now = this.clock.now();
    this.refresh(now);
    if (this.outlier.isEjected(now) || !this.active.healthy) return false;
    const ok = this.breaker.tryAcquire(now);
    this.settle(now, now);
    return ok;
  }

  /** Free a half-open trial slot without a verdict (e.g. the client cancelled). */
  releaseTrial(): void {
    this.breaker.release();
  }

  recordSuccess(): void {
    const now = this.clock.now();
    this.breaker.onSuccess(now);
    this.outlier.onSuccess();
    this.settle(now, now);
  }

  recordFailure(kind: FailureKind): void {
    const now = this.clock.now();
    if (kind === '429') {
      this.rateLimited++;
      this.breaker.onNeutral(now);
    } else {
      this.breaker.onFailure(now);
      this.outlier.onError(now, this.ejectGate);
    }
    this.settle(now, now);
  }

  /** One active health check result. */
  recordCheck(ok: boolean): void {
    const now = this.clock.now();
    this.refresh(now);
    this.active.record(ok);
    this.settle(now, now);
  }

  /** Would allowRequest() admit a request now? Side-effect free (for routing views). */
  get available(): boolean {
    const now = this.clock.now();
    return !this.outlier.isEjected(now) && this.active.healthy && this.breaker.canAdmit(now);
  }

  /** Ejected right now (side-effect free). */
  get ejected(): boolean {
    return this.outlier.isEjected(this.clock.now());
  }

  /**
   * Slow-start factor in (0, 1] at `now` (default: the clock's now; see the module comment).
   * Applies deadlines expired by the clock's now first; a later `now` only evaluates the ramp.
   */
  weightFactor(now = this.clock.now()): number {
    this.refresh(this.clock.now());
    return this.ramp(now, this.inServiceAt(now));
  }

  /** A snapshot at `now`. Applies expired deadlines first (which may notify listeners). */
  state(): HealthState {
    const now = this.clock.now();
    this.refresh(now);
    return this.snapshot(now);
  }

  /** Listen for changes of circuit state, ejection or active health. Returns an unsubscribe function. */
  onChange(listener: HealthChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop the deadline timer and drop listeners (the backend left the pool). */
  dispose(): void {
    this.disposed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private ramp(now: number, inService: boolean): number {
    const { duration, minFactor } = this.config.slowStart;
    if (duration <= 0) return 1;
    if (!inService) return minFactor;
    if (this.slowStartFrom === null) return 1;
    return minFactor + (1 - minFactor) * Math.min(1, Math.max(0, (now - this.slowStartFrom) / duration));
  }

  private inServiceAt(now: number): boolean {
    return this.breaker.peek(now) === 'closed' && !this.outlier.isEjected(now) && this.active.healthy;
  }

  /** Bits: circuit code (0..2) | ejected << 2 | activeHealthy << 3. */
  private computeKey(now: number): number {
    return CIRCUIT_STATE_CODE[this.breaker.peek(now)] | (this.outlier.isEjected(now) ? 4 : 0) | (this.active.healthy ? 8 : 0);
  }

  /** Apply expired deadlines; the change (if any) is dated at the deadline itself. */
  private refresh(now: number): void {
    const opened = this.breaker.advance(now);
    const ejectionEnded = this.outlier.advance(now);
    if (opened !== null || ejectionEnded !== null) this.settle(now, Math.max(opened ?? -Infinity, ejectionEnded ?? -Infinity));
  }

  /** After any mutation: emit a change if the key moved, start slow start on return, re-arm the timer. */
  private settle(now: number, eventAt: number): void {
    if (this.disposed) return;
    const key = this.computeKey(now);
    if (key !== this.key) {
      const wasInService = (this.key & 7) === 0 && (this.key & 8) !== 0;
      const inService = (key & 7) === 0 && (key & 8) !== 0;
      if (!wasInService && inService) this.slowStartFrom = eventAt;
      this.key = key;
      const prev = this.last;
      this.last = this.snapshot(now);
      for (const listener of this.listeners) listener(prev, this.last);
    }
    this.armTimer(now);
  }

  private armTimer(now: number): void {
    const deadline = Math.min(this.breaker.openUntil ?? Infinity, this.outlier.ejectedUntil ?? Infinity);
    if (deadline === this.timerAt) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = deadline;
    if (deadline === Infinity) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      const t = this.clock.now();
      this.refresh(t);
      this.armTimer(t);
    }, deadline - now);
  }

  private snapshot(now: number): HealthState {
    const circuit = this.breaker.peek(now);
    const ejected = this.outlier.isEjected(now);
    const activeHealthy = this.active.healthy;
    const inService = circuit === 'closed' && !ejected && activeHealthy;
    return {
      circuit,
      openUntil: circuit === 'open' ? this.breaker.openUntil : null,
      ejected,
      ejectedUntil: ejected ? this.outlier.ejectedUntil : null,
      activeHealthy,
      available: !ejected && activeHealthy && this.breaker.canAdmit(now),
      inService,
      weightFactor: this.ramp(now, inService),
      consecutiveFailures: this.breaker.consecutiveFailures,
      consecutive5xx: this.outlier.consecutiveErrors,
      windowRequests: this.breaker.windowRequests,
      windowFailures: this.breaker.windowFailures,
      trialsInFlight: this.breaker.trialsInFlight,
      timesOpened: this.breaker.timesOpened,
      timesEjected: this.outlier.timesEjected,
      ejectionsRefused: this.outlier.ejectionsRefused,
      rateLimited: this.rateLimited,
    };
  }
}
