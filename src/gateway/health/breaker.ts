/**
 * A circuit breaker as a pure state machine: no clock, no timers; every call takes `now` (ms).
 *
 * Trips (closed → open) when either
 * - `consecutiveFailures` failures arrive in a row, or
 * - the rolling window of the last `window` outcomes holds ≥ `minRequests` outcomes and
 *   failures / outcomes > `failureRatio`.
 *
 * Open period of the k-th opening in a streak: `min(openDuration × 2^(k−1), maxOpenDuration)`.
 * The streak grows when a half-open trial fails, or when the circuit re-trips soon after
 * closing; it decays by one step for every `openDuration` the circuit spends closed
 * (`k ← max(0, k − ⌊closedFor / openDuration⌋)` before counting a new opening).
 *
 * 429 is neutral (busy, not broken): it is not counted, but it releases a half-open trial slot.
 * Outcomes that arrive while open, or in half_open with no trial in flight, are late answers
 * to requests sent before the trip and are ignored.
 */
import type { CircuitConfig } from './config.js';

/** Circuit breaker lifecycle. */
export type CircuitState =
  /** Normal operation: every request is admitted and its outcome counted. */
  | 'closed'
  /** Tripped: no request is admitted until `openUntil`; then it turns half_open. */
  | 'open'
  /** Probing: at most `halfOpenMaxRequests` trials at once; a success closes, a failure re-opens. */
  | 'half_open';

/** Gauge encoding of CircuitState (`switchyard_upstream_circuit_state`). */
export const CIRCUIT_STATE_CODE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private openUntilMs = 0;
  private streak = 0;
  private closedSince: number;
  private consecutive = 0;
  private trials = 0;
  /** Ring buffer of outcomes (1 = failure) of the last `window` counted requests. */
  private readonly ring: Uint8Array;
  private ringPos = 0;
  private ringCount = 0;
  private ringFailures = 0;

  constructor(
    private readonly cfg: CircuitConfig,
    now = 0,
  ) {
    this.ring = new Uint8Array(cfg.window);
    this.closedSince = now;
  }

  /** The stored state (open → half_open happens in `advance`). */
  get state(): CircuitState {
    return this.current;
  }
  /** The state at `now`, without changing anything. */
  peek(now: number): CircuitState {
    return this.current === 'open' && now >= this.openUntilMs ? 'half_open' : this.current;
  }
  /** End of the open period, or null when not open. */
  get openUntil(): number | null {
    return this.current === 'open' ? this.openUntilMs : null;
  }
  /** Openings in the current streak (1 after a first trip). */
  get timesOpened(): number {
    return this.streak;
  }
  get consecutiveFailures(): number {
    return this.consecutive;
  }
  get trialsInFlight(): number {
    return this.trials;
  }
  get windowRequests(): number {
    return this.ringCount;
  }
  get windowFailures(): number {
    return this.ringFailures;
  }

  /** Apply the open → half_open timeout. Returns the time of the transition, or null if none. */
  advance(now: number): number | null {
    if (this.current !== 'open' || now < this.openUntilMs) return null;
    this.current = 'half_open';
    this.trials = 0;
    return this.openUntilMs;
  }

  /** Whether tryAcquire would succeed at `now` (side-effect free). */
  canAdmit(now: number): boolean {
    const s = this.peek(now);
    if (s === 'closed') return true;
    if (s === 'open') return false;
    return (this.current === 'open' ? 0 : this.trials) < this.cfg.halfOpenMaxRequests;
  }

  /** Admit a request: always when closed; in half_open reserve a trial slot if one is free. */
  tryAcquire(now: number): boolean {
    this.advance(now);
    if (this.current === 'closed') return true;
    if (this.current === 'half_open' && this.trials < this.cfg.halfOpenMaxRequests) {
      this.trials++;
      return true;
    }
    return false;
  }

  /** Give back a trial slot without a verdict (request cancelled before an outcome). */
  release(): void {
    if (this.trials > 0) this.trials--;
  }

  onSuccess(now: number): void {
    this.advance(now);
    if (this.current === 'closed') {
      this.consecutive = 0;
      this.push(0);
    } else if (this.current === 'half_open' && this.trials > 0) {
      this.close(now);
    }
  }

  onFailure(now: number): void {
    this.advance(now);
    if (this.current === 'closed') {
      this.consecutive++;
      this.push(1);
      const ratioTrip = this.ringCount >= this.cfg.minRequests && this.ringFailures / this.ringCount > this.cfg.failureRatio;
      if (this.consecutive >= this.cfg.consecutiveFailures || ratioTrip) this.trip(now, true);
    } else if (this.current === 'half_open' && this.trials > 0) {
      this.trip(now, false);
    }
  }

  /** A 429: neutral for the breaker, but it ends a half-open trial. */
  onNeutral(now: number): void {
    this.advance(now);
    if (this.current === 'half_open') this.release();
  }

  private trip(now: number, fromClosed: boolean): void {
    if (fromClosed) this.streak = Math.max(0, this.streak - Math.floor((now - this.closedSince) / this.cfg.openDuration));
    this.streak++;
    const duration = Math.min(this.cfg.openDuration * 2 ** (this.streak - 1), this.cfg.maxOpenDuration);
    this.current = 'open';
    this.openUntilMs = now + duration;
    this.resetCounts();
  }

  private close(now: number): void {
    this.current = 'closed';
    this.closedSince = now;
    this.resetCounts();
  }

  private resetCounts(): void {
    this.trials = 0;
    this.consecutive = 0;
    this.ring.fill(0);
    this.ringPos = 0;
    this.ringCount = 0;
    this.ringFailures = 0;
  }

  private push(failed: 0 | 1): void {
    if (this.ringCount === this.ring.length) this.ringFailures -= this.ring[this.ringPos]!;
    else this.ringCount++;
    this.ring[this.ringPos] = failed;
    this.ringFailures += failed;
    this.ringPos = (this.ringPos + 1) % this.ring.length;
  }
}
