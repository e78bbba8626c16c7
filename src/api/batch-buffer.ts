/**
 * BatchBuffer: a bounded in-memory queue that writes its items in batches, off the caller's
 * path. Both ends of usage metering use it: the control plane's UsageMeter (batches into the
 * store) and a remote gateway's RemoteUsageSink (batches over HTTP).
 *
 * - `push` is synchronous and O(1) (amortized); it never waits and never throws.
 * - A batch is written `flushIntervalMs` after the first unwritten item arrives, or at once when
 *   `maxBatch` items are waiting; at most `maxBatch` items per write, one write at a time.
 * - At most `maxBuffered` items are held (waiting and in flight): beyond that the oldest
 *   waiting items are dropped and reported to `onDrop`.
 * - A failed write keeps its batch (at the front) and is retried with exponential backoff
 *   (retryMinMs doubling to retryMaxMs). A write that fails with a non-retryable error
 *   (`retryable` says; by default a SwitchyardError that is not retryable, e.g. a 400) is
 *   dropped, since retrying it can only fail again.
 * - `close()` stops the timers, makes one last attempt to write everything, and drops (and
 *   reports) what it could not write; items pushed after close are dropped.
 *
 * So on a crash at most what arrived in the last `flushIntervalMs` (at most `maxBatch` items
 * per interval beyond one batch in flight) is lost while the destination is healthy, and at
 * most `maxBuffered` items while it is down.
 */
import { isSwitchyardError, RealClock, type Clock, type TimerHandle } from '../core/index.js';

export type DropReason = 'overflow' | 'rejected' | 'closed';

export interface BatchBufferOptions<T> {
  /** Write one batch (resolve when it is durable). */
  write(batch: readonly T[]): Promise<void>;
  clock?: Clock;
  /** Default 1000. */
  flushIntervalMs?: number;
  /** Default 500. */
  maxBatch?: number;
  /** Default 100,000. */
  maxBuffered?: number;
  /** Default 500. */
  retryMinMs?: number;
  /** Default 30,000. */
  retryMaxMs?: number;
  /** Whether a failed write should be retried; default: anything but a non-retryable SwitchyardError. */
  retryable?(e: unknown): boolean;
  /** Items given up on, and why. */
  onDrop?(count: number, reason: DropReason, error?: unknown): void;
  /** A write failed; `retryInMs` is undefined when the batch was dropped. */
  onError?(e: unknown, batchSize: number, retryInMs: number | undefined): void;
  /** A batch was written. */
  onWritten?(batch: readonly T[]): void;
}

const defaultRetryable = (e: unknown): boolean => !isSwitchyardError(e) || e.retryable;

/** FIFO with O(1) amortized push, drop-oldest and take-front. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  /** Remove the oldest `n` (or fewer) and return them. */
  take(n: number): T[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return out;
  }
  /** Put items back in front (a failed batch). */
  unshift(batch: readonly T[]): void {
    this.items = [...batch, ...this.items.slice(this.head)];
    this.head = 0;
  }
}

export class BatchBuffer<T> {
  private readonly queue = new Fifo<T>();
  private inFlight = 0;
  private readonly clock: Clock;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private backoffMs = 0;
  private draining: Promise<boolean> | undefined;
  private closed = false;
  private droppedTotal = 0;

  constructor(private readonly o: BatchBufferOptions<T>) {
    this.clock = o.clock ?? new RealClock();
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.maxBatch = o.maxBatch ?? 500;
    this.maxBuffered = o.maxBuffered ?? 100_000;
    this.retryMinMs = o.retryMinMs ?? 500;
    this.retryMaxMs = o.retryMaxMs ?? 30_000;
    const positive = (v: number, what: string): void => {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be an integer >= 1, got ${v}`);
    };
    positive(this.maxBatch, 'maxBatch');
    positive(this.maxBuffered, 'maxBuffered');
    if (this.maxBuffered < this.maxBatch) throw new RangeError(`maxBuffered (${this.maxBuffered}) must be at least maxBatch (${this.maxBatch})`);
    if (!(this.flushIntervalMs >= 0) || !(this.retryMinMs >= 0) || !(this.retryMaxMs >= this.retryMinMs)) throw new RangeError('flushIntervalMs, retryMinMs and retryMaxMs must be >= 0, with retryMaxMs >= retryMinMs');
  }

  /** Items held: waiting and in flight. */
  get size(): number {
    return this.queue.length + this.inFlight;
  }

  /** Items dropped so far (overflow, rejected writes, close). */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Queue an item. Never blocks, never throws. */
  push(item: T): void {
    if (this.closed) {
      this.drop(1, 'closed');
      return;
    }
    this.queue.push(item);
    const over = this.size - this.maxBuffered;
    if (over > 0) this.drop(this.queue.take(over).length, 'overflow');
    if (this.backoffMs > 0) return; // the retry timer is set
    this.schedule(this.queue.length >= this.maxBatch ? 0 : this.flushIntervalMs);
  }

  /**
   * Write everything queued now, in batches (a retry waiting on backoff is tried at once).
   * Resolves true when the queue was emptied, false when a write failed (it is retried later).
   */
  flush(): Promise<boolean> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** Stop the timers, try once to write everything, and drop what could not be written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    await this.flush();
    if (this.queue.length > 0) {
      // The last attempt failed; the next one would come after a crash-free restart only.
      this.drop(this.queue.take(this.queue.length).length, 'closed');
    }
  }

  private async drain(): Promise<boolean> {
    this.clearTimer();
    while (this.queue.length > 0) {
      const batch = this.queue.take(this.maxBatch);
      this.inFlight = batch.length;
      try {
        await this.o.write(batch);
      } catch (e) {
        this.inFlight = 0;
        if (!(this.o.retryable ?? defaultRetryable)(e)) {
          this.o.onError?.(e, batch.length, undefined);
          this.drop(batch.length, 'rejected', e);
          continue;
        }
        this.queue.unshift(batch);
        const over = this.size - this.maxBuffered;
        if (over > 0) this.drop(this.queue.take(over).length, 'overflow');
        this.backoffMs = Math.min(this.retryMaxMs, Math.max(this.retryMinMs, this.backoffMs * 2));
        this.o.onError?.(e, batch.length, this.closed ? undefined : this.backoffMs);
        if (!this.closed) this.schedule(this.backoffMs, true);
        return false;
      }
      this.inFlight = 0;
      this.backoffMs = 0;
      this.o.onWritten?.(batch);
    }
    return true;
  }

  /** Run a flush after `ms`, unless one is due sooner (`force`: replace the timer regardless). */
  private schedule(ms: number, force = false): void {
    if (this.closed) return;
    const at = this.clock.now() + ms;
    if (this.timer && !force && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.flush().then(() => {
        if (this.queue.length > 0 && this.backoffMs === 0) this.schedule(this.queue.length >= this.maxBatch ? 0 : this.flushIntervalMs);
      });
    }, ms);
  }

  private clearTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private drop(count: number, reason: DropReason, error?: unknown): void {
    if (count <= 0) return;
    this.droppedTotal += count;
    this.o.onDrop?.(count, reason, error);
  }
}
