/**
 * Two more pure health signals (no clock; every call takes `now` in ms):
 *
 * - OutlierDetector — passive, Envoy-style consecutive-5xx ejection. After `consecutive5xx`
 *   gateway-observed errors in a row (5xx, connect refused, reset, first-byte timeout) the
 *   backend is ejected for `min(baseEjectionTime × n, maxEjectionTime)`, n = times ejected.
 *   n decays by one for every `baseEjectionTime` spent back in service (Envoy decrements its
 *   multiplier each interval while the host is healthy). Whether an ejection may happen is the
 *   pool's call (max ejection percent): a refused ejection keeps the streak, so the next error
 *   asks again. 429 never ejects and does not touch the streak; a success resets it.
 *
 * - ActiveCheckState — the result of active health checks: `unhealthyThreshold` failed checks
 *   in a row mark the backend unhealthy, `healthyThreshold` passed checks in a row mark it
 *   healthy again.
 */
import type { ActiveCheckConfig, OutlierConfig } from './config.js';

/** What an error did to the ejection state. */
export type EjectionOutcome = 'counted' | 'ejected' | 'refused' | 'ignored';

export class OutlierDetector {
  private consecutive = 0;
  private times = 0;
  private until: number | null = null;
  private returnedAt = 0;
  private refused = 0;

  constructor(private readonly cfg: OutlierConfig) {}

  /** Ejected at `now` (side-effect free). */
  isEjected(now: number): boolean {
    return this.until !== null && now < this.until;
  }
  /** End of the current ejection as stored (may lie in the past until `advance`), or null. */
  get ejectedUntil(): number | null {
    return this.until;
  }
  get consecutiveErrors(): number {
    return this.consecutive;
  }
  /** The multiplier n used by the latest ejection (0 before any). */
  get timesEjected(): number {
    return this.times;
  }
  get ejectionsRefused(): number {
    return this.refused;
  }

  /** End an expired ejection. Returns the time it ended, or null when nothing changed. */
  advance(now: number): number | null {
    if (this.until === null || now < this.until) return null;
    const ended = this.until;
    this.until = null;
    this.returnedAt = ended;
    return ended;
  }

  onSuccess(): void {
    this.consecutive = 0;
  }

  /** A gateway-observed error. `canEject` is asked only when the streak reaches the threshold. */
  onError(now: number, canEject: () => boolean): EjectionOutcome {
    this.advance(now);
    if (this.until !== null) return 'ignored';
    this.consecutive++;
    if (this.consecutive < this.cfg.consecutive5xx) return 'counted';
    if (!canEject()) {
      this.refused++;
      return 'refused';
    }
    this.times = Math.max(0, this.times - Math.floor((now - this.returnedAt) / this.cfg.baseEjectionTime)) + 1;
    this.until = now + Math.min(this.cfg.baseEjectionTime * this.times, this.cfg.maxEjectionTime);
    this.consecutive = 0;
    return 'ejected';
  }
}

export class ActiveCheckState {
  private ok: boolean;
  private passes = 0;
  private fails = 0;

  constructor(
    private readonly cfg: ActiveCheckConfig,
    startHealthy = cfg.startHealthy,
  ) {
    this.ok = startHealthy;
  }

  get healthy(): boolean {
    return this.ok;
  }
  get consecutivePasses(): number {
    return this.passes;
  }
  get consecutiveFails(): number {
    return this.fails;
  }

  /** Record one check. Returns true when `healthy` flipped. */
  record(passed: boolean): boolean {
    if (passed) {
      this.passes++;
      this.fails = 0;
      if (!this.ok && this.passes >= this.cfg.healthyThreshold) return (this.ok = true);
    } else {
      this.fails++;
      this.passes = 0;
      if (this.ok && this.fails >= this.cfg.unhealthyThreshold) {
        this.ok = false;
        return true;
      }
    }
    return false;
  }
}
