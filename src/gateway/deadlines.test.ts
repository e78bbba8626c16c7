import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadlines, type DeadlineEntry } from './deadlines.js';

class Entry implements DeadlineEntry {
  deadlineAt = 0;
  dlPrev: DeadlineEntry | null = null;
  dlNext: DeadlineEntry | null = null;
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}
  expired(): void {
    this.log.push(this.name);
  }
}

describe('Deadlines', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires entries in the order added, once their timeout has passed, and not removed ones', () => {
    let now = 1000;
    const log: string[] = [];
    const d = new Deadlines(100, () => now);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => new Entry(n, log)) as [Entry, Entry, Entry];
    d.add(a);
    now = 1010;
    d.add(b);
    now = 1020;
    d.add(c);
    expect(d.pending).toBe(3);
    d.remove(b);
    d.remove(b); // twice is harmless
    expect(d.pending).toBe(2);
    now = 1099;
    d.expireDue();
    expect(log).toEqual([]);
    now = 1100;
    d.expireDue();
    expect(log).toEqual(['a']);
    now = 5000;
    d.expireDue();
    expect(log).toEqual(['a', 'c']);
    expect(d.pending).toBe(0);
    d.stop();
  });

  it('removing the head, the tail and the only entry keeps the list consistent', () => {
    let now = 0;
    const log: string[] = [];
    const d = new Deadlines(10, () => now);
    const es = ['a', 'b', 'c', 'd'].map((n) => new Entry(n, log));
    for (const e of es) d.add(e);
    d.remove(es[0]!);
    d.remove(es[3]!);
    d.remove(es[1]!);
    const e = new Entry('e', log);
    d.add(e);
    d.remove(es[2]!);
    now = 100;
    d.expireDue();
    expect(log).toEqual(['e']);
    d.stop();
  });

  it('an interval of a 20th of the timeout expires entries, and stops when none are left', () => {
    vi.useFakeTimers();
    const log: string[] = [];
    const d = new Deadlines(1000);
    expect(d.tickMs).toBe(50);
    d.add(new Entry('x', log));
    vi.advanceTimersByTime(999);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(51);
    expect(log).toEqual(['x']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the tick is between 5 ms and 1 s', () => {
    expect(new Deadlines(20).tickMs).toBe(5);
    expect(new Deadlines(600_000).tickMs).toBe(1000);
  });
});
