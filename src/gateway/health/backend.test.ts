import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/index.js';
import { BackendHealth } from './backend.js';
import type { HealthState } from './backend.js';
import { resolveHealthConfig } from './config.js';
import type { HealthConfigInput } from './config.js';

function setup(config: HealthConfigInput = {}) {
  const clock = new VirtualClock();
  const b = new BackendHealth({ id: 'a', clock, config: resolveHealthConfig(config) });
  const changes: { at: number; prev: HealthState; next: HealthState }[] = [];
  b.onChange((prev, next) => changes.push({ at: clock.now(), prev, next }));
  return { clock, b, changes };
}

const fail = (b: BackendHealth, n: number, kind: 'connect' | 'timeout' | '5xx' | '429' | 'reset' = '5xx'): void => {
  for (let i = 0; i < n; i++) b.recordFailure(kind);
};

describe('BackendHealth', () => {
  it('opens the circuit, reports it, and turns half_open on time via the clock', () => {
    const { clock, b, changes } = setup({ outlier: { consecutive5xx: 100 } });
    expect(b.allowRequest()).toBe(true);
    fail(b, 5, 'connect');
    expect(b.allowRequest()).toBe(false);
    expect(b.available).toBe(false);
    expect(b.state()).toMatchObject({ circuit: 'open', openUntil: 10_000, inService: false, available: false });
    expect(changes.map((c) => [c.at, c.prev.circuit, c.next.circuit])).toEqual([[0, 'closed', 'open']]);
    clock.advance(10_000);
    expect(changes.map((c) => [c.at, c.next.circuit])).toEqual([[0, 'open'], [10_000, 'half_open']]);
    expect(b.available).toBe(true);
    expect(b.allowRequest()).toBe(true); // takes the only trial slot
    expect(b.available).toBe(false);
    expect(b.allowRequest()).toBe(false);
    b.recordSuccess();
    expect(b.state().circuit).toBe('closed');
    expect(b.allowRequest()).toBe(true);
  });

  it('a failed trial re-opens for twice as long; releaseTrial frees the slot', () => {
    const { clock, b } = setup({ outlier: { consecutive5xx: 100 } });
    fail(b, 5, 'timeout');
    clock.advance(10_000);
    expect(b.allowRequest()).toBe(true);
    b.releaseTrial();
    expect(b.allowRequest()).toBe(true);
    b.recordFailure('reset');
    expect(b.state()).toMatchObject({ circuit: 'open', openUntil: 30_000, timesOpened: 2 });
  });

  it('429 never ejects and never trips', () => {
    const { b, changes } = setup();
    fail(b, 100, '429');
    expect(b.state()).toMatchObject({ circuit: 'closed', ejected: false, rateLimited: 100, consecutiveFailures: 0, consecutive5xx: 0 });
    expect(changes).toEqual([]);
  });

  it('ejects after consecutive 5xx and returns when the ejection ends', () => {
    const { clock, b, changes } = setup({ circuit: { consecutiveFailures: 100, window: 200 } });
    fail(b, 5);
    expect(b.state()).toMatchObject({ circuit: 'closed', ejected: true, ejectedUntil: 10_000 });
    expect(b.allowRequest()).toBe(false);
    clock.advance(9_999);
    expect(b.ejected).toBe(true);
    clock.advance(1);
    expect(b.ejected).toBe(false);
    expect(changes.map((c) => [c.at, c.next.ejected])).toEqual([[0, true], [10_000, false]]);
  });

  it('active checks: unhealthy after 2 failures, healthy after 1 pass; independent of ejection', () => {
    const { clock, b } = setup({ circuit: { consecutiveFailures: 100, window: 200 } });
    b.recordCheck(false);
    expect(b.available).toBe(true);
    b.recordCheck(false);
    expect(b.state().activeHealthy).toBe(false);
    expect(b.allowRequest()).toBe(false);
    b.recordCheck(true);
    expect(b.available).toBe(true);
    fail(b, 5);
    b.recordCheck(true); // passing checks do not end an ejection
    expect(b.state()).toMatchObject({ activeHealthy: true, ejected: true });
    clock.advance(10_000);
    expect(b.available).toBe(true);
  });

  it('slow start ramps linearly from minFactor to 1 after a return to service', () => {
    const { clock, b } = setup({ outlier: { consecutive5xx: 1 }, circuit: { consecutiveFailures: 100, window: 200 } });
    expect(b.weightFactor()).toBe(1); // never out: full weight
    clock.advance(1_000);
    b.recordFailure('5xx'); // ejected 1s → 11s
    expect(b.weightFactor()).toBe(0.1);
    const at = (t: number): number => {
      clock.runUntil(t);
      return b.weightFactor();
    };
    const ramp = [11_000, 13_500, 16_000, 18_500, 21_000, 30_000].map(at);
    expect(ramp.map((x) => Math.round(x * 1000) / 1000)).toEqual([0.1, 0.325, 0.55, 0.775, 1, 1]);
    expect(b.state().weightFactor).toBe(1);
  });

  it('slow start restarts after an active-check outage and counts from the recovery time', () => {
    const { clock, b } = setup({ slowStart: { duration: '4s', minFactor: 0.2 } });
    b.recordCheck(false);
    b.recordCheck(false);
    expect(b.weightFactor()).toBe(0.2);
    clock.advance(5_000);
    b.recordCheck(true);
    expect(b.weightFactor()).toBe(0.2);
    clock.advance(2_000);
    expect(b.weightFactor()).toBeCloseTo(0.6);
    expect(b.weightFactor(clock.now() + 2_000)).toBe(1);
  });

  it('slow start off: weightFactor is always 1', () => {
    const { b } = setup({ slowStart: { duration: 0 }, outlier: { consecutive5xx: 1 } });
    b.recordFailure('5xx');
    expect(b.weightFactor()).toBe(1);
  });

  it('dispose cancels the deadline timer', () => {
    const { clock, b, changes } = setup();
    fail(b, 5);
    b.dispose();
    clock.advance(60_000);
    expect(changes).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});
