import { describe, expect, it } from 'vitest';
import { RealClock, ScaledClock, VirtualClock, type Clock } from './clock.js';

describe('VirtualClock', () => {
  it('fires timers in time order, ties in scheduling order, without real waiting', () => {
    const c = new VirtualClock();
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b@20'), 20);
    c.setTimeout(() => fired.push('a@10'), 10);
    c.setTimeout(() => fired.push('c@20'), 20);
    c.advance(15);
    expect(fired).toEqual(['a@10']);
    expect(c.now()).toBe(15);
    c.runUntilIdle();
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(c.now()).toBe(20);
  });

  it('supports cancellation and timers scheduled from timers', () => {
    const c = new VirtualClock(100);
    const fired: number[] = [];
    const h = c.setTimeout(() => fired.push(-1), 5);
    c.clearTimeout(h);
    c.setTimeout(() => {
      fired.push(c.now());
      c.setTimeout(() => fired.push(c.now()), 7);
    }, 3);
    expect(c.runUntilIdle()).toBe(2);
    expect(fired).toEqual([103, 110]);
    expect(c.nextAt()).toBeUndefined();
  });

  it('cancelling a timer that already fired changes nothing', () => {
    const c = new VirtualClock();
    const fired = c.setTimeout(() => undefined, 10);
    c.advance(10);
    c.clearTimeout(fired);
    c.clearTimeout(fired);
    expect(c.pending).toBe(0);
    c.setTimeout(() => undefined, 5);
    expect(c.pending).toBe(1);
  });
  it('runUntil moves time even when no timers are due', () => {
    const c = new VirtualClock();
    c.runUntil(1234);
    expect(c.now()).toBe(1234);
    expect(c.epochMs()).toBe(Date.UTC(2026, 0, 1) + 1234);
  });

  it('keeps heap order over many random timers', () => {
    const c = new VirtualClock();
    const times: number[] = [];
    for (let i = 0; i < 500; i++) {
      const at = (i * 7919) % 1000;
      c.setTimeout(() => times.push(c.now()), at);
    }
    c.runUntilIdle();
    expect(times).toHaveLength(500);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

describe('ScaledClock', () => {
  it('rejects a non-positive speedup', () => {
    expect(() => new ScaledClock(0)).toThrow(/speedup/);
    expect(() => new ScaledClock(Number.NaN)).toThrow(/speedup/);
  });
  it('reports simulated time that is at least real elapsed × speedup', async () => {
    const c = new ScaledClock(1000);
    const t0 = c.now();
    await new Promise<void>((resolve) => c.setTimeout(resolve, 2000)); // 2 s simulated = 2 ms real
    expect(c.now() - t0).toBeGreaterThanOrEqual(2000);
  });
  it('never fires a timer before its simulated due time, even for sub-millisecond real waits', async () => {
    const early = await earlyFirings(new ScaledClock(1000), Array.from({ length: 40 }, (_, i) => 50 + i * 137)); // 0.05 ms to 5.4 ms of real time
    expect(early).toEqual([]);
  });
  it('cancels a pending timer', async () => {
    const c = new ScaledClock(1000);
    let fired = false;
    const h = c.setTimeout(() => (fired = true), 1500);
    c.clearTimeout(h);
    await new Promise<void>((resolve) => c.setTimeout(resolve, 3000));
    expect(fired).toBe(false);
  });
});

describe('RealClock', () => {
  it('never fires a timer before performance.now() reaches its due time', async () => {
    const early = await earlyFirings(new RealClock(), Array.from({ length: 20 }, (_, i) => 1 + (i % 4)));
    expect(early).toEqual([]);
  });
});

/** Arm one timer per delay; resolves with how early (ms of the clock) each one that fired before its due time was. */
async function earlyFirings(c: Clock, delays: readonly number[]): Promise<number[]> {
  const early: number[] = [];
  await Promise.all(
    delays.map((ms) => {
      const due = c.now() + ms;
      return new Promise<void>((resolve) =>
        c.setTimeout(() => {
          if (c.now() < due) early.push(due - c.now());
          resolve();
        }, ms),
      );
    }),
  );
  return early;
}
