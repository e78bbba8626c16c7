import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { PeriodicTask } from './periodic.js';

/** A task whose runs stay in flight until released. */
function gatedTask() {
  const starts: number[] = [];
  let release: (() => void) | undefined;
  return {
    starts,
    release: () => release?.(),
    run: (clock: VirtualClock) => () => {
      starts.push(clock.now());
      return new Promise<void>((r) => (release = r));
    },
  };
}

describe('PeriodicTask', () => {
  it('rate: runs now and every interval, skipping ticks while a run is in flight; stop waits for it', async () => {
    const clock = new VirtualClock();
    const t = gatedTask();
    let skipped = 0;
    const p = new PeriodicTask(clock, 100, t.run(clock), { onSkip: () => skipped++ });
    p.start();
    clock.advance(250); // ticks at 100 and 200 find the first run in flight
    expect(t.starts).toEqual([0]);
    expect(skipped).toBe(2);
    t.release();
    await p.idle();
    clock.advance(50); // the tick at 300
    expect(t.starts).toEqual([0, 300]);
    const stopped = p.stop();
    t.release();
    await stopped;
    clock.advance(1000);
    expect(t.starts).toEqual([0, 300]);
    expect(clock.pending).toBe(0);
  });

  it('delay: the next run comes an interval after the previous one ended', async () => {
    const clock = new VirtualClock();
    const t = gatedTask();
    const p = new PeriodicTask(clock, 100, t.run(clock), { mode: 'delay' });
    p.start();
    clock.advance(250);
    t.release();
    await p.idle();
    clock.advance(99);
    expect(t.starts).toEqual([0]);
    clock.advance(1);
    expect(t.starts).toEqual([0, 350]);
    const stopped = p.stop();
    t.release();
    await stopped;
    expect(clock.pending).toBe(0);
  });
});
