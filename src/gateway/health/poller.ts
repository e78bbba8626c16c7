/**
 * EndpointPoller: run one async task per endpoint, repeatedly, on an injected Clock.
 * Shared by the active health checker and the load-view scraper.
 *
 * - A new endpoint is polled after `initialDelay` (default 0: at once), then each next poll
 *   starts `interval × (1 + jitter × u)` after the previous one finished, u uniform in [-1, 1).
 * - Polls of one endpoint never overlap: the next is scheduled only when the current one ends.
 *   A poll that outlives `timeout` (measured on the Clock) is aborted and reported as a failure;
 *   if the task ignores the abort and is still running at the next tick, that tick is skipped.
 * - setTargets adds/removes endpoints without disturbing the others; a changed url is used
 *   from the next poll on. Results of polls of removed endpoints, or from before stop(), are
 *   dropped.
 */
import { SwitchyardError } from '../../core/index.js';
import type { Clock, TimerHandle } from '../../core/index.js';

export interface PollTarget {
  readonly id: string;
  /** Base URL, e.g. 'http://127.0.0.1:8001'. */
  readonly url: string;
}

export type PollResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export interface EndpointPollerOptions<T> {
  readonly clock: Clock;
  readonly interval: number;
  readonly timeout: number;
  /** Fraction in [0, 1); default 0.1. */
  readonly jitter?: number;
  /** Delay before the first poll of an endpoint; default 0. */
  readonly initialDelay?: number;
  /** Uniform [0, 1) source for jitter; default Math.random. */
  readonly random?: () => number;
  /** One poll. Should settle soon after `signal` aborts. */
  readonly run: (target: PollTarget, timeoutMs: number, signal: AbortSignal) => Promise<T>;
  /** Called once per poll (a timeout counts as an error, code 'timeout'). Must not throw. */
  readonly onResult: (id: string, result: PollResult<T>) => void;
}

interface Entry {
  target: PollTarget;
  timer: TimerHandle | undefined;
  deadline: TimerHandle | undefined;
  pending: AbortController | null;
}

export class EndpointPoller<T> {
  private readonly entries = new Map<string, Entry>();
  private running = false;
  /** Bumped by stop(): callbacks from an older epoch are dropped. */
  private epoch = 0;

  constructor(private readonly opts: EndpointPollerOptions<T>) {}

  get isRunning(): boolean {
    return this.running;
  }
  /** Known endpoint ids. */
  ids(): IterableIterator<string> {
    return this.entries.keys();
  }
  /** Whether a poll of `id` is in flight. */
  isPolling(id: string): boolean {
    return this.entries.get(id)?.pending != null;
  }

  setTargets(targets: readonly PollTarget[]): void {
    const want = new Map(targets.map((t) => [t.id, t]));
    for (const [id, e] of this.entries) {
      if (!want.has(id)) {
        this.cancel(e);
        this.entries.delete(id);
      }
    }
    for (const [id, target] of want) {
      const e = this.entries.get(id);
      if (e) {
        e.target = target;
        continue;
      }
      const entry: Entry = { target, timer: undefined, deadline: undefined, pending: null };
      this.entries.set(id, entry);
      if (this.running) this.schedule(entry, this.opts.initialDelay ?? 0);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.epoch++;
    for (const e of this.entries.values()) this.schedule(e, this.opts.initialDelay ?? 0);
  }

  /** Cancel every timer and abort polls in flight. start() resumes. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.epoch++;
    for (const e of this.entries.values()) this.cancel(e);
  }

  private nextDelay(): number {
    const jitter = this.opts.jitter ?? 0.1;
    const u = 2 * (this.opts.random ?? Math.random)() - 1;
    return Math.max(0, this.opts.interval * (1 + jitter * u));
  }

  private schedule(e: Entry, delay: number): void {
    const epoch = this.epoch;
    e.timer = this.opts.clock.setTimeout(() => {
      e.timer = undefined;
      if (this.isCurrent(e, epoch)) this.tick(e, epoch);
    }, delay);
  }

  private isCurrent(e: Entry, epoch: number): boolean {
    return this.running && epoch === this.epoch && this.entries.get(e.target.id) === e;
  }

  private tick(e: Entry, epoch: number): void {
    if (e.pending) {
      this.schedule(e, this.nextDelay());
      return;
    }
    const { clock, timeout, run } = this.opts;
    const ac = new AbortController();
    e.pending = ac;
    const target = e.target;
    let done = false;
    const finish = (result: PollResult<T>): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(e.deadline);
      e.deadline = undefined;
      if (!this.isCurrent(e, epoch)) return;
      this.opts.onResult(target.id, result);
      this.schedule(e, this.nextDelay());
    };
    e.deadline = clock.setTimeout(() => {
      e.deadline = undefined;
      ac.abort();
      finish({ ok: false, error: new SwitchyardError('timeout', `poll of ${target.url} timed out after ${timeout}ms`) });
    }, timeout);
    let p: Promise<T>;
    try {
      p = run(target, timeout, ac.signal);
    } catch (error) {
      p = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    p.then(
      (value) => finish({ ok: true, value }),
      (error: unknown) => finish({ ok: false, error }),
    ).finally(() => {
      if (e.pending === ac) e.pending = null;
    }).catch(() => undefined);
  }

  private cancel(e: Entry): void {
    this.opts.clock.clearTimeout(e.timer);
    this.opts.clock.clearTimeout(e.deadline);
    e.timer = undefined;
    e.deadline = undefined;
    e.pending?.abort();
  }
}
