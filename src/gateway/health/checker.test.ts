import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/index.js';
import { ActiveHealthChecker, healthUrl } from './checker.js';
import type { Probe } from './checker.js';
import { HealthPool } from './pool.js';

/** Let settled probe promises run their continuations (not a sleep: one macrotask turn). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Call {
  url: string;
  at: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  resolve: (ok: boolean) => void;
}

/** A probe whose answers the test controls: `auto` answers at once, otherwise calls stay pending. */
function fakeProbe(clock: VirtualClock, auto?: (url: string) => boolean) {
  const calls: Call[] = [];
  const probe: Probe = (url, timeoutMs, signal) =>
    new Promise<boolean>((resolve, reject) => {
      calls.push({ url, at: clock.now(), timeoutMs, signal, resolve });
      signal?.addEventListener('abort', () => reject(new Error('aborted')));
      if (auto) resolve(auto(url));
    });
  return { probe, calls };
}

function setup(auto?: (url: string) => boolean, endpoints = [{ id: 'a', url: 'http://a:1' }, { id: 'b', url: 'http://b:1/' }]) {
  const clock = new VirtualClock();
  const pool = new HealthPool({ clock, ids: endpoints.map((e) => e.id) });
  const { probe, calls } = fakeProbe(clock, auto);
  const checker = new ActiveHealthChecker({ clock, target: pool, probe, random: () => 0.5, endpoints });
  return { clock, pool, checker, calls };
}

let stopAll: (() => void)[] = [];
afterEach(() => {
  for (const s of stopAll) s();
  stopAll = [];
});

describe('ActiveHealthChecker', () => {
  it('probes each endpoint at once, then every interval, and feeds recordCheck', async () => {
    let bOk = false;
    const { clock, pool, checker, calls } = setup((url) => !url.startsWith('http://b') || bOk);
    stopAll.push(() => checker.stop());
    checker.start();
    for (const t of [0, 5_000, 10_000]) {
      clock.runUntil(t);
      await settle();
    }
    expect(calls.map((c) => `${c.at} ${c.url} ${c.timeoutMs}`)).toEqual([
      '0 http://a:1/health 2000',
      '0 http://b:1/health 2000',
      '5000 http://a:1/health 2000',
      '5000 http://b:1/health 2000',
      '10000 http://a:1/health 2000',
      '10000 http://b:1/health 2000',
    ]);
    expect(pool.get('a')!.state().activeHealthy).toBe(true);
    expect(pool.get('b')!.state().activeHealthy).toBe(false); // 3 failures ≥ unhealthyThreshold 2
    bOk = true;
    clock.runUntil(15_000);
    await settle();
    expect(pool.get('b')!.state().activeHealthy).toBe(true);
  });

  it('jitters the interval by ±10%', async () => {
    const clock = new VirtualClock();
    const pool = new HealthPool({ clock, ids: ['a'] });
    const { probe, calls } = fakeProbe(clock, () => true);
    const rs = [0, 0.999999];
    let i = 0;
    const checker = new ActiveHealthChecker({ clock, target: pool, probe, random: () => rs[i++ % 2]!, endpoints: [{ id: 'a', url: 'http://a' }] });
    checker.start();
    for (let k = 0; k < 3; k++) {
      clock.step();
      await settle();
    }
    checker.stop();
    expect(calls.map((c) => Math.round(c.at))).toEqual([0, 4_500, 10_000]);
  });

  it('never overlaps probes of one endpoint; a hung probe times out on the clock and is aborted', async () => {
    const { clock, pool, checker, calls } = setup(undefined, [{ id: 'a', url: 'http://a' }]);
    stopAll.push(() => checker.stop());
    checker.start();
    clock.runUntil(0);
    expect(calls).toHaveLength(1);
    clock.runUntil(1_999);
    await settle();
    expect(calls).toHaveLength(1);
    clock.runUntil(2_000); // timeout: counted as failed, probe aborted
    await settle();
    expect(calls[0]!.signal!.aborted).toBe(true);
    expect(pool.get('a')!.state().activeHealthy).toBe(true); // 1 of 2 failures
    clock.runUntil(7_000);
    await settle();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve(false); // answers before its timeout
    await settle();
    expect(pool.get('a')!.state().activeHealthy).toBe(false);
    clock.runUntil(11_999);
    await settle();
    expect(calls).toHaveLength(2);
    clock.runUntil(12_000);
    expect(calls).toHaveLength(3);
  });

  it('setEndpoints adds (probed at once) and removes (no more probes) without restarting', async () => {
    const { clock, checker, calls } = setup(() => true);
    stopAll.push(() => checker.stop());
    checker.start();
    clock.runUntil(0);
    await settle();
    clock.runUntil(1_000);
    checker.setEndpoints([{ id: 'a', url: 'http://a2' }, { id: 'c', url: 'http://c' }]);
    clock.runUntil(1_000);
    await settle();
    clock.runUntil(6_000);
    await settle();
    expect(calls.map((c) => `${c.at} ${c.url}`)).toEqual(['0 http://a:1/health', '0 http://b:1/health', '1000 http://c/health', '5000 http://a2/health', '6000 http://c/health']);
  });

  it('stop cancels timers and aborts probes in flight; start resumes; disabled start is a no-op', async () => {
    const { clock, checker, calls } = setup(undefined, [{ id: 'a', url: 'http://a' }]);
    checker.start();
    clock.runUntil(0);
    checker.stop();
    expect(calls[0]!.signal!.aborted).toBe(true);
    await settle();
    clock.advance(60_000);
    expect(calls).toHaveLength(1);
    checker.start();
    clock.advance(0);
    await settle();
    expect(calls).toHaveLength(2);
    checker.stop();

    const off = new ActiveHealthChecker({ clock, target: { get: () => undefined }, config: { enabled: false }, probe: () => Promise.resolve(true), endpoints: [{ id: 'a', url: 'http://a' }] });
    off.start();
    expect(off.running).toBe(false);
  });

  it('healthUrl joins base URL and path', () => {
    expect(healthUrl('http://x:1/', '/health')).toBe('http://x:1/health');
    expect(healthUrl('http://x:1/v1//', '/ready')).toBe('http://x:1/v1/ready');
  });
});
