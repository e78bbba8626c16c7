import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './breaker.js';
import { CircuitConfigSchema } from './config.js';
import type { CircuitConfig } from './config.js';

const cfg = (over: Partial<CircuitConfig> = {}): CircuitConfig => ({ ...CircuitConfigSchema.parse({}), ...over });

/** Feed outcomes at t=0: F failure, S success, N neutral (429). */
function feed(b: CircuitBreaker, events: string, now = 0): void {
  for (const ch of events) {
    if (ch === 'F') b.onFailure(now);
    else if (ch === 'S') b.onSuccess(now);
    else if (ch === 'N') b.onNeutral(now);
  }
}

describe('CircuitBreaker: closed → open', () => {
  const cases: { name: string; events: string; state: 'closed' | 'open' }[] = [
    { name: '4 failures in a row stay closed', events: 'FFFF', state: 'closed' },
    { name: '5 failures in a row open', events: 'FFFFF', state: 'open' },
    { name: 'a success resets the streak (ratio needs 10 outcomes)', events: 'FFFFSFFFF', state: 'closed' },
    { name: '429s are neutral: they neither count nor break the streak', events: 'FFNNNFFNF', state: 'open' },
    { name: 'ratio 7/10 > 0.5 opens at the 10th outcome', events: 'FFSFFSFFSF', state: 'open' },
    { name: 'ratio 6/9 below minRequests stays closed', events: 'FFSFFSFFS', state: 'closed' },
    { name: 'ratio exactly 0.5 does not open', events: 'SF'.repeat(10), state: 'closed' },
    { name: 'the window rolls: old failures fall out', events: 'FFFFS' + 'S'.repeat(15) + 'FSFSFSFSFS', state: 'closed' },
    { name: 'a full window turning > 50% failures opens (11 of 20)', events: 'S'.repeat(20) + 'FFS'.repeat(6), state: 'open' },
  ];
  it.each(cases)('$name', ({ events, state }) => {
    const b = new CircuitBreaker(cfg());
    feed(b, events);
    expect(b.state).toBe(state);
  });

  it('counts the window ring correctly', () => {
    const b = new CircuitBreaker(cfg({ window: 4, minRequests: 4, consecutiveFailures: 100 }));
    feed(b, 'SSSSF');
    expect([b.windowRequests, b.windowFailures]).toEqual([4, 1]);
    feed(b, 'SSSS');
    expect([b.windowRequests, b.windowFailures]).toEqual([4, 0]);
  });
});

describe('CircuitBreaker: open period growth', () => {
  it('doubles on each failed trial, capped at maxOpenDuration', () => {
    const b = new CircuitBreaker(cfg());
    let now = 0;
    feed(b, 'FFFFF', now);
    const periods: number[] = [];
    for (let i = 0; i < 6; i++) {
      const until = b.openUntil!;
      periods.push(until - now);
      expect(b.peek(until - 1)).toBe('open');
      expect(b.tryAcquire(until - 1)).toBe(false);
      now = until;
      expect(b.tryAcquire(now)).toBe(true);
      expect(b.state).toBe('half_open');
      b.onFailure(now);
      expect(b.state).toBe('open');
    }
    expect(periods).toEqual([10_000, 20_000, 40_000, 80_000, 120_000, 120_000]);
  });

  it('keeps the streak when it re-trips soon after closing, and decays it while closed', () => {
    const b = new CircuitBreaker(cfg(), 0);
    feed(b, 'FFFFF', 0); // open 10s
    b.tryAcquire(10_000);
    b.onFailure(10_000); // open 20s (streak 2)
    expect(b.tryAcquire(30_000)).toBe(true);
    b.onSuccess(30_000);
    expect(b.state).toBe('closed');
    feed(b, 'FFFFF', 35_000); // closed 5s: no decay → streak 3 → 40s
    expect(b.openUntil).toBe(75_000);
    b.tryAcquire(75_000);
    b.onSuccess(75_000);
    feed(b, 'FFFFF', 100_000); // closed 25s: streak 3 − 2 = 1 → 2 → 20s
    expect(b.timesOpened).toBe(2);
    expect(b.openUntil).toBe(120_000);
  });
});

describe('CircuitBreaker: half-open trials', () => {
  it('admits at most halfOpenMaxRequests trials; release frees a slot; success closes', () => {
    const b = new CircuitBreaker(cfg({ halfOpenMaxRequests: 2 }));
    feed(b, 'FFFFF');
    expect(b.canAdmit(10_000)).toBe(true);
    expect(b.state).toBe('open'); // canAdmit is side-effect free
    expect(b.tryAcquire(10_000)).toBe(true);
    expect(b.tryAcquire(10_000)).toBe(true);
    expect(b.tryAcquire(10_000)).toBe(false);
    expect(b.canAdmit(10_000)).toBe(false);
    b.release();
    expect(b.trialsInFlight).toBe(1);
    expect(b.tryAcquire(10_000)).toBe(true);
    b.onSuccess(10_001);
    expect(b.state).toBe('closed');
    expect(b.trialsInFlight).toBe(0);
  });

  it('a 429 ends a trial without a verdict', () => {
    const b = new CircuitBreaker(cfg());
    feed(b, 'FFFFF');
    expect(b.tryAcquire(10_000)).toBe(true);
    expect(b.tryAcquire(10_000)).toBe(false);
    b.onNeutral(10_000);
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire(10_000)).toBe(true);
  });

  it('ignores late outcomes while open and in half_open without trials', () => {
    const b = new CircuitBreaker(cfg());
    feed(b, 'FFFFF', 0);
    feed(b, 'FFFFFFFFFF', 5_000);
    expect(b.openUntil).toBe(10_000);
    b.advance(10_000);
    b.onSuccess(10_000);
    b.onFailure(10_000);
    expect(b.state).toBe('half_open');
  });
});
