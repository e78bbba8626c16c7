/**
 * One coarse timer for many deadlines of the same length (the gateway's total request timeout):
 * instead of a setTimeout per request — a Timeout object, its arguments and a timer-list entry
 * for every open stream — entries are linked into one list through fields they carry themselves
 * (no allocation per entry), and one interval expires the due ones.
 *
 * All entries get the same timeout, so the list is in deadline order: adding appends, the tick
 * pops from the head, removing unlinks in O(1). An entry expires between `timeoutMs` and
 * `timeoutMs + tickMs` after it was added; the tick is a 20th of the timeout (at least 5 ms, at
 * most 1 s), so at most 5% late. The interval runs only while entries exist, and is unref'd.
 */

/** What an entry carries (a class of the caller implements it; Deadlines only links it). */
export interface DeadlineEntry {
  /** performance.now() at which it expires (set by add()). */
  deadlineAt: number;
  /** Links of the list (null when not in one). */
  dlPrev: DeadlineEntry | null;
  dlNext: DeadlineEntry | null;
  /** Called once when its deadline passed (it has been removed already). */
  expired(): void;
}

export class Deadlines {
  private head: DeadlineEntry | null = null;
  private tail: DeadlineEntry | null = null;
  private timer: NodeJS.Timeout | null = null;
  private size = 0;
  readonly tickMs: number;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tickMs = Math.min(1000, Math.max(5, Math.floor(timeoutMs / 20)));
  }

  /** Entries waiting for their deadline. */
  get pending(): number {
    return this.size;
  }

  add(e: DeadlineEntry): void {
    e.deadlineAt = this.now() + this.timeoutMs;
    e.dlNext = null;
    e.dlPrev = this.tail;
    if (this.tail === null) this.head = e;
    else this.tail.dlNext = e;
    this.tail = e;
    this.size++;
    if (this.timer === null) {
      this.timer = setInterval(tick, this.tickMs, this);
      this.timer.unref();
    }
  }

  /** Take an entry out (a no-op when it is not in the list). */
  remove(e: DeadlineEntry): void {
    if (e.dlPrev === null && this.head !== e) return;
    if (e.dlPrev === null) this.head = e.dlNext;
    else e.dlPrev.dlNext = e.dlNext;
    if (e.dlNext === null) this.tail = e.dlPrev;
    else e.dlNext.dlPrev = e.dlPrev;
    e.dlPrev = e.dlNext = null;
    this.size--;
  }

  /** Expire every entry whose deadline has passed (the interval calls it; tests may too). */
  expireDue(): void {
    const now = this.now();
    while (this.head !== null && this.head.deadlineAt <= now) {
      const e = this.head;
      this.remove(e);
      e.expired();
    }
    if (this.head === null) this.stop();
  }

  /** Stop the interval (entries stay; the next add() restarts it). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function tick(d: Deadlines): void {
  d.expireDue();
}
