import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/index.js';
import { ActiveCheckConfigSchema, OutlierConfigSchema, resolveHealthConfig } from './config.js';
import type { ActiveCheckConfig, OutlierConfig } from './config.js';
import { ActiveCheckState, OutlierDetector } from './detectors.js';

const outlier = (over: Partial<OutlierConfig> = {}): OutlierConfig => ({ ...OutlierConfigSchema.parse({}), ...over });
const active = (over: Partial<ActiveCheckConfig> = {}): ActiveCheckConfig => ({ ...ActiveCheckConfigSchema.parse({}), ...over });
const yes = (): boolean => true;

/** Eject `d` at `now` with a streak of errors; returns the ejection length. */
function ejectAt(d: OutlierDetector, now: number, threshold = 5): number {
  for (let i = 0; i < threshold - 1; i++) expect(d.onError(now, yes)).toBe('counted');
  expect(d.onError(now, yes)).toBe('ejected');
  return d.ejectedUntil! - now;
}

describe('OutlierDetector', () => {
  it('ejects after consecutive5xx errors; a success resets the streak', () => {
    const d = new OutlierDetector(outlier());
    for (let i = 0; i < 4; i++) d.onError(0, yes);
    d.onSuccess();
    expect(d.consecutiveErrors).toBe(0);
    expect(ejectAt(d, 0)).toBe(10_000);
    expect(d.isEjected(9_999)).toBe(true);
    expect(d.isEjected(10_000)).toBe(false);
    expect(d.onError(5_000, yes)).toBe('ignored');
  });

  it('grows base × n and caps at maxEjectionTime when ejections follow each other', () => {
    const d = new OutlierDetector(outlier({ maxEjectionTime: 35_000 }));
    const lengths: number[] = [];
    let now = 0;
    for (let i = 0; i < 5; i++) {
      lengths.push(ejectAt(d, now));
      now = d.ejectedUntil!; // errors again the moment it returns
    }
    expect(lengths).toEqual([10_000, 20_000, 30_000, 35_000, 35_000]);
    expect(d.timesEjected).toBe(5);
  });

  it('decays n by one per baseEjectionTime back in service', () => {
    const d = new OutlierDetector(outlier());
    ejectAt(d, 0); // n=1, back at 10s
    ejectAt(d, 10_000); // n=2, 20s, back at 30s
    expect(ejectAt(d, 55_000)).toBe(10_000); // 25s in service: n = 2 − 2 + 1 = 1
  });

  it('a refused ejection keeps the streak so the next error asks again', () => {
    const d = new OutlierDetector(outlier({ consecutive5xx: 2 }));
    let allow = false;
    const gate = (): boolean => allow;
    expect(d.onError(0, gate)).toBe('counted');
    expect(d.onError(0, gate)).toBe('refused');
    expect(d.onError(0, gate)).toBe('refused');
    expect(d.ejectionsRefused).toBe(2);
    allow = true;
    expect(d.onError(0, gate)).toBe('ejected');
  });
});

describe('ActiveCheckState', () => {
  const cases: { name: string; cfg: Partial<ActiveCheckConfig>; checks: string; healthy: boolean[] }[] = [
    { name: 'defaults: 2 fails → unhealthy, 1 pass → healthy', cfg: {}, checks: 'FFP', healthy: [true, false, true] },
    { name: 'a pass between fails resets the count', cfg: {}, checks: 'FPFPF', healthy: [true, true, true, true, true] },
    { name: 'healthyThreshold 3', cfg: { unhealthyThreshold: 1, healthyThreshold: 3 }, checks: 'FPPFPPP', healthy: [false, false, false, false, false, false, true] },
    { name: 'startHealthy false needs a pass first', cfg: { startHealthy: false }, checks: 'FP', healthy: [false, true] },
  ];
  it.each(cases)('$name', ({ cfg, checks, healthy }) => {
    const s = new ActiveCheckState(active(cfg));
    const seen = [...checks].map((c) => {
      s.record(c === 'P');
      return s.healthy;
    });
    expect(seen).toEqual(healthy);
  });
});

describe('HealthConfigSchema', () => {
  it('fills defaults and parses durations', () => {
    const c = resolveHealthConfig({ circuit: { openDuration: '3s' }, slowStart: { duration: '1m' } });
    expect(c.circuit).toMatchObject({ consecutiveFailures: 5, window: 20, minRequests: 10, failureRatio: 0.5, openDuration: 3_000, maxOpenDuration: 120_000, halfOpenMaxRequests: 1 });
    expect(c.outlier).toEqual({ consecutive5xx: 5, baseEjectionTime: 10_000, maxEjectionTime: 300_000, maxEjectionPercent: 50 });
    expect(c.active).toEqual({ enabled: true, path: '/health', interval: 5_000, timeout: 2_000, jitter: 0.1, unhealthyThreshold: 2, healthyThreshold: 1, startHealthy: true });
    expect(c.slowStart).toEqual({ duration: 60_000, minFactor: 0.1 });
    expect(resolveHealthConfig(c)).toEqual(c);
  });

  it('rejects unknown keys and impossible combinations with ConfigError', () => {
    expect(() => resolveHealthConfig({ circuit: { windw: 5 } as never })).toThrow(ConfigError);
    expect(() => resolveHealthConfig({ circuit: { window: 5, minRequests: 10 } })).toThrow(/minRequests \(10\) must not exceed window \(5\)/);
    expect(() => resolveHealthConfig({ outlier: { baseEjectionTime: '1m', maxEjectionTime: '30s' } })).toThrow(/maxEjectionTime/);
  });
});
