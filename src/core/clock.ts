/**
 * Time, injectable.
 *
 * Everything time-driven (engine steps, autoscaler, heartbeats, simulators) takes a Clock,
 * so tests and trace replays run on a VirtualClock and skip time instead of sleeping.
 *
 * - RealClock: wall time.
 * - ScaledClock: simulated time running `speedup`× faster than wall time
 *   (`switchyard worker sim --speedup X`). now() is simulated ms; timers wait ms/speedup.
 * - VirtualClock: a discrete-event clock. Time only moves when advance()/runUntil() is called;
 *   timers fire in time order (ties in scheduling order).
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch (monotonic for Real/Scaled, virtual for Virtual). */
  now(): number;
  /** Wall-clock epoch milliseconds corresponding to now(); used for timestamps on the wire. */
  epochMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

let nextTimerId = 1;

/**
 * Wall-clock timers that never fire early.
 *
 * Node arms a timer from libuv's cached loop time, truncated to whole milliseconds, so a callback
 * can run up to ~1 ms before `performance.now()` reaches the requested time. Under a ScaledClock
 * that 1 ms is `speedup` simulated ms (a 2 s simulated wait ended at 1.67 s at 1000×). Each timer
 * keeps its due time and re-arms for the remainder when it wakes early.
 */
class WallTimers {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** `now` is in the caller's units; `scale` converts those units to real ms (1 / speedup). */
  constructor(
    private readonly now: () => number,
    private readonly scale: number,
  ) {}
  set(fn: () => void, ms: number): TimerHandle {
    const id = nextTimerId++;
    const due = this.now() + Math.max(0, ms);
    const arm = (waitMs: number): void => {
      const t = setTimeout(() => {
        const left = due - this.now();
        if (left > 0) {
          arm(left);
          return;
        }
        this.timers.delete(id);
        fn();
      }, waitMs * this.scale);
      this.timers.set(id, t);
    };
    arm(Math.max(0, ms));
    return { id };
  }
  clear(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }
}

export class RealClock implements Clock {
  private readonly timers = new WallTimers(() => performance.now(), 1);
  now(): number {
    return performance.now();
  }
  epochMs(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.timers.set(fn, ms);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.clear(handle);
  }
}

/** Simulated time that runs `speedup` times faster than real time. */
export class ScaledClock implements Clock {
  private readonly startReal = performance.now();
  private readonly startEpoch = Date.now();
  private readonly timers: WallTimers;
  constructor(readonly speedup: number) {
    if (!(speedup > 0) || !Number.isFinite(speedup)) throw new RangeError(`speedup must be a positive number, got ${speedup}`);
    this.timers = new WallTimers(() => this.now(), 1 / speedup);
  }
  now(): number {
    return (performance.now() - this.startReal) * this.speedup;
  }
  epochMs(): number {
    return this.startEpoch + this.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.timers.set(fn, ms);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.clear(handle);
  }
}

interface VirtualTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/** A binary min-heap on (at, seq). */
class TimerHeap {
  private readonly items: VirtualTimer[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): VirtualTimer | undefined {
    return this.items[0];
  }
  push(t: VirtualTimer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pi = a[p]!;
      if (less(pi, t)) break;
      a[i] = pi;
      i = p;
    }
    a[i] = t;
  }
  pop(): VirtualTimer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(a[r]!, a[l]!) ? r : l;
      if (less(last, a[c]!)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function less(x: VirtualTimer, y: VirtualTimer): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly heap = new TimerHeap();
  /** Ids in the heap that have not fired; cancelling anything else (e.g. a timer that already fired) is a no-op. */
  private readonly scheduled = new Set<number>();
  private readonly cancelled = new Set<number>();
  private readonly epochBase: number;

  constructor(startMs = 0, epochBase = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
    this.epochBase = epochBase;
  }
  now(): number {
    return this.t;
  }
  epochMs(): number {
    return this.epochBase + this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = nextTimerId++;
    this.heap.push({ id, at: this.t + Math.max(0, ms), seq: this.seq++, fn });
    this.scheduled.add(id);
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && this.scheduled.has(handle.id)) this.cancelled.add(handle.id);
  }
  /** Number of timers still scheduled (cancelled ones excluded lazily). */
  get pending(): number {
    return this.heap.size - this.cancelled.size;
  }
  /** Time of the next timer, or undefined when none is scheduled. */
  nextAt(): number | undefined {
    this.dropCancelledHead();
    return this.heap.peek()?.at;
  }
  /** Fire the next timer (advancing time to it). Returns false when none is left. */
  step(): boolean {
    this.dropCancelledHead();
    const next = this.heap.pop();
    if (!next) return false;
    this.scheduled.delete(next.id);
    if (next.at > this.t) this.t = next.at;
    next.fn();
    return true;
  }
  /** Run every timer due at or before `target`, then set the time to `target`. */
  runUntil(target: number): void {
    for (;;) {
      const at = this.nextAt();
      if (at === undefined || at > target) break;
      this.step();
    }
    if (target > this.t) this.t = target;
  }
  advance(ms: number): void {
    this.runUntil(this.t + ms);
  }
  /** Run until no timers remain, or `maxSteps` fired (guards against self-rescheduling loops). */
  runUntilIdle(maxSteps = 10_000_000): number {
    let n = 0;
    while (n < maxSteps && this.step()) n++;
    return n;
  }
  private dropCancelledHead(): void {
    for (;;) {
      const head = this.heap.peek();
      if (!head || !this.cancelled.has(head.id)) return;
      this.heap.pop();
      this.scheduled.delete(head.id);
      this.cancelled.delete(head.id);
    }
  }
}
