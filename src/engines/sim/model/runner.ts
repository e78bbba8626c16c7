/**
 * Drives an EngineCore on a Clock: schedule a step, wait its simulated duration, complete it,
 * repeat while there is work. On a VirtualClock this is a discrete-event simulation (no real
 * waiting); on a ScaledClock it runs `speedup`× faster than real time; on a RealClock it is a
 * real-time engine. New requests join at the next step boundary (continuous batching).
 */
import type { Clock, TimerHandle } from '../../../core/index.js';
import type { KvCacheEvent } from '../../../kvevents/index.js';
import type { EngineCore, StepPlan } from './engine-core.js';
import type { EngineRequest } from './types.js';

export interface RunnerHooks {
  /** KV events produced by a step, with the step's wall-clock timestamp in seconds. */
  onKvEvents?(events: KvCacheEvent[], tsSeconds: number): void;
}

export class EngineRunner {
  private timer: TimerHandle | undefined;
  private current: StepPlan | null = null;
  private stopped = false;
  /** When set, steps stall until this clock time (fault injection: a hung engine). */
  private stallUntil = 0;

  constructor(readonly core: EngineCore, readonly clock: Clock, private readonly hooks: RunnerHooks = {}) {}

  /** Enqueue a request; throws (400-class) if it can never run. */
  submit(req: EngineRequest): void {
    if (this.stopped) throw new Error('engine stopped');
    this.core.add(req, this.clock.now());
    this.kick();
  }

  abort(id: string): boolean {
    const ok = this.core.abort(id, this.clock.now());
    this.flush();
    return ok;
  }

  /** Pause all stepping for `ms` (of engine time) — simulates a hung GPU / stalled engine. */
  stall(ms: number): void {
    this.stallUntil = Math.max(this.stallUntil, this.clock.now() + ms);
  }

  get busy(): boolean {
    return this.current !== null || this.timer !== undefined;
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (!this.busy && !this.stopped) this.loop();
  }

  private loop(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    if (this.stallUntil > now) {
      this.timer = this.clock.setTimeout(() => this.loop(), this.stallUntil - now);
      return;
    }
    const plan = this.core.schedule(now);
    this.flush();
    if (!plan) return;
    this.current = plan;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.current = null;
      this.core.complete(plan, this.clock.now());
      this.flush();
      this.loop();
    }, plan.durationMs);
  }

  private flush(): void {
    if (!this.hooks.onKvEvents) return;
    const events = this.core.drainEvents();
    if (events.length > 0) this.hooks.onKvEvents(events, this.clock.epochMs() / 1000);
  }
}
