import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/index.js';
import { HealthPool } from './pool.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `e${i}`);

/** Only ejection matters here: keep the breaker out of the way. */
const config = (maxEjectionPercent: number) => ({ outlier: { consecutive5xx: 1, maxEjectionPercent }, circuit: { consecutiveFailures: 1000, window: 1000 } });

describe('HealthPool: max ejection percent', () => {
  const cases: { size: number; percent: number; maxEjected: number }[] = [
    { size: 1, percent: 50, maxEjected: 0 },
    { size: 2, percent: 50, maxEjected: 1 },
    { size: 3, percent: 50, maxEjected: 1 },
    { size: 4, percent: 50, maxEjected: 2 },
    { size: 10, percent: 50, maxEjected: 5 },
    { size: 3, percent: 100, maxEjected: 3 },
    { size: 5, percent: 0, maxEjected: 0 },
    { size: 10, percent: 10, maxEjected: 1 },
  ];
  it.each(cases)('size $size at $percent% ejects at most $maxEjected', ({ size, percent, maxEjected }) => {
    const pool = new HealthPool({ clock: new VirtualClock(), config: config(percent), ids: ids(size) });
    for (const b of pool.values()) b.recordFailure('5xx');
    expect(pool.ejectedCount()).toBe(maxEjected);
    const refused = [...pool.values()].filter((b) => b.state().ejectionsRefused > 0).length;
    expect(refused).toBe(size - maxEjected);
  });

  it('a refused backend is ejected on its next error once another returns', () => {
    const clock = new VirtualClock();
    const pool = new HealthPool({ clock, config: config(50), ids: ['a', 'b'] });
    pool.get('a')!.recordFailure('connect');
    pool.get('b')!.recordFailure('connect');
    expect([pool.get('a')!.ejected, pool.get('b')!.ejected]).toEqual([true, false]);
    clock.advance(10_000);
    expect(pool.get('a')!.ejected).toBe(false);
    pool.get('b')!.recordFailure('connect');
    expect(pool.get('b')!.ejected).toBe(true);
    pool.get('a')!.recordFailure('connect');
    expect(pool.get('a')!.ejected).toBe(false);
  });
});

describe('HealthPool: membership and events', () => {
  it('setIds keeps known backends, adds fresh ones, disposes removed ones', () => {
    const clock = new VirtualClock();
    const pool = new HealthPool({ clock, config: config(100), ids: ['a', 'b'] });
    const a = pool.get('a')!;
    a.recordFailure('5xx');
    pool.setIds(['a', 'c']);
    expect([...pool.ids()].sort()).toEqual(['a', 'c']);
    expect(pool.get('a')).toBe(a);
    expect(a.ejected).toBe(true);
    expect(pool.get('c')!.state().ejected).toBe(false);
    expect(pool.add('a')).toBe(a);
    expect(pool.remove('zzz')).toBe(false);
  });

  it('onChange reports the endpoint id and prev/next states', () => {
    const clock = new VirtualClock();
    const pool = new HealthPool({ clock, config: config(100), ids: ['a', 'b'] });
    const seen: string[] = [];
    const off = pool.onChange((id, prev, next) => seen.push(`${id}:${prev.ejected}->${next.ejected}@${clock.now()}`));
    pool.get('b')!.recordFailure('5xx');
    clock.advance(10_000);
    off();
    pool.get('a')!.recordFailure('5xx');
    expect(seen).toEqual(['b:false->true@0', 'b:true->false@10000']);
    expect(pool.snapshot().a!.ejected).toBe(true);
    pool.dispose();
    expect(pool.size).toBe(0);
  });
});
