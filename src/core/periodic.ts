/**
 * A task run now and then every `intervalMs` on a Clock.
 * - `rate` (default): the next run is armed before this one starts, and a tick that comes while
 *   the previous run is still in flight is skipped (`onSkip`). The cluster agent's heartbeat and
 *   its prefix-summary reporter.
 * - `delay`: the next run is armed `intervalMs` after this one ended. The gateway's
 *   prefix-summary poll.
 */
import type { Clock, TimerHandle } from './clock.js';

export interface PeriodicTaskOptions {
  mode?: 'rate' | 'delay';
  /** A `rate` tick found the previous run still in flight (and skipped). */
  onSkip?: () => void;
}

export class PeriodicTask {
  private timer: TimerHandle | undefined;
  private inflight: Promise<unknown> | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    private readonly opts: PeriodicTaskOptions = {},
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Run now and every interval (no-op when already started). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  /** Stop the timer and wait for a run in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  /** Resolves when no run is in flight. */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  private tick(): void {
    if (!this.running) return;
    const delay = this.opts.mode === 'delay';
    if (!delay) this.timer = this.clock.setTimeout(() => this.tick(), this.intervalMs);
    if (this.inflight) {
      this.opts.onSkip?.();
      return;
    }
    this.inflight = this.run().finally(() => {
      this.inflight = undefined;
      if (delay && this.running) this.timer = this.clock.setTimeout(() => this.tick(), this.intervalMs);
    });
  }
}
