import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, initialRecord, transition, type ReplicaEvent, type ReplicaRecord } from './replica-state.js';

const policy = DEFAULT_POLICY;
const spawned = (now: number, pid = 100): ReplicaEvent => ({ type: 'spawned', now, pid, port: 4000, startedAt: '2026-01-01T00:00:00.000Z' });

/** Run events in order from a fresh record; returns every intermediate result. */
function run(events: ReplicaEvent[], from: ReplicaRecord = initialRecord(policy)) {
  let r = from;
  return events.map((e) => {
    const t = transition(r, e, policy);
    r = t.record;
    return t;
  });
}

describe('replica state machine', () => {
  it('pending → starting → ready', () => {
    const [a, b, c] = run([spawned(0), { type: 'probe-failed', now: 100, message: 'ECONNREFUSED' }, { type: 'probe-ok', now: 600 }]);
    expect(a!.record).toMatchObject({ state: 'starting', pid: 100, port: 4000, spawnedAt: 0 });
    expect(b!.record).toMatchObject({ state: 'starting', message: 'waiting for the readiness probe: ECONNREFUSED' });
    expect(c!.record).toMatchObject({ state: 'ready', readyAt: 600, message: undefined });
  });

  it('a crash while ready fails it and schedules a restart after the initial backoff', () => {
    const out = run([spawned(0), { type: 'probe-ok', now: 10 }, { type: 'exited', now: 20, message: 'killed by SIGKILL' }]);
    const t = out[2]!;
    expect(t.record).toMatchObject({ state: 'failed', message: 'killed by SIGKILL', restartAt: 520, backoffMs: 1000 });
    expect(t.effects).toEqual([{ kind: 'schedule-restart', delayMs: 500 }]);
  });

  it('restart counts restarts and goes back to pending', () => {
    const out = run([spawned(0), { type: 'exited', now: 5, message: 'x' }, { type: 'restart', now: 505 }, spawned(506, 101)]);
    expect(out[2]!.record).toMatchObject({ state: 'pending', restarts: 1, pid: undefined });
    expect(out[3]!.record).toMatchObject({ state: 'starting', restarts: 1, pid: 101 });
  });

  it('backoff doubles per failure up to the max', () => {
    let r = initialRecord(policy);
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 9; i++) {
      r = transition(r, spawned(now), policy).record;
      const t = transition(r, { type: 'exited', now: ++now, message: 'crash' }, policy);
      const effect = t.effects.find((e) => e.kind === 'schedule-restart');
      delays.push(effect?.kind === 'schedule-restart' ? effect.delayMs : -1);
      r = transition(t.record, { type: 'restart', now: (now += 1) }, policy).record;
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(r.restarts).toBe(9);
  });

  it('backoff resets after the replica stayed ready for backoffResetMs', () => {
    let r: ReplicaRecord = { ...initialRecord(policy), backoffMs: 16_000 };
    r = run([spawned(0), { type: 'probe-ok', now: 1000 }], r).at(-1)!.record;
    const early = transition(r, { type: 'exited', now: 1000 + 59_999, message: 'x' }, policy);
    expect(early.effects).toEqual([{ kind: 'schedule-restart', delayMs: 16_000 }]);
    const late = transition(r, { type: 'exited', now: 1000 + 60_000, message: 'x' }, policy);
    expect(late.effects).toEqual([{ kind: 'schedule-restart', delayMs: 500 }]);
    expect(late.record.backoffMs).toBe(1000);
  });

  it('a ready replica fails after failureThreshold probes in a row, and is killed', () => {
    const probeFail = (now: number): ReplicaEvent => ({ type: 'probe-failed', now, message: 'timeout' });
    const out = run([spawned(0), { type: 'probe-ok', now: 1 }, probeFail(2), { type: 'probe-ok', now: 3 }, probeFail(4), probeFail(5), probeFail(6)]);
    expect(out[2]!.record).toMatchObject({ state: 'ready', probeFailures: 1 });
    expect(out[3]!.record).toMatchObject({ state: 'ready', probeFailures: 0 });
    expect(out[5]!.record).toMatchObject({ state: 'ready', probeFailures: 2 });
    expect(out[6]!.record.state).toBe('failed');
    expect(out[6]!.record.message).toMatch(/stopped answering health probes \(3 in a row\): timeout/);
    expect(out[6]!.effects).toEqual([{ kind: 'kill' }, { kind: 'schedule-restart', delayMs: 500 }]);
  });

  it('a readiness timeout fails a starting replica and kills it', () => {
    const out = run([spawned(0), { type: 'ready-timeout', now: 1000, timeoutMs: 1000 }]);
    expect(out[1]!.record).toMatchObject({ state: 'failed', message: 'not ready after 1000 ms (readiness timeout)' });
    expect(out[1]!.effects.map((e) => e.kind)).toEqual(['kill', 'schedule-restart']);
  });

  it('a configuration error fails without a restart', () => {
    const out = run([{ type: 'spawn-failed', now: 0, message: 'needs command', retry: false }]);
    expect(out[0]!.record).toMatchObject({ state: 'failed', message: 'needs command', restartAt: undefined });
    expect(out[0]!.effects).toEqual([]);
  });

  it('a port conflict goes back to pending without counting a restart', () => {
    const out = run([spawned(0), { type: 'port-conflict', now: 5, port: 4000 }]);
    expect(out[1]!.record).toMatchObject({ state: 'pending', restarts: 0, port: undefined });
    expect(out[1]!.effects).toEqual([]);
  });

  it('draining ignores probes and crashes; exit or stop ends it', () => {
    const out = run([spawned(0), { type: 'drain', now: 1 }, { type: 'probe-failed', now: 2, message: 'x' }, { type: 'exited', now: 3, message: 'exit 0' }]);
    expect(out[1]!.record.state).toBe('draining');
    expect(out[2]!.record.state).toBe('draining');
    expect(out[3]!.record).toMatchObject({ state: 'stopped' });
    expect(out.flatMap((t) => t.effects)).toEqual([]);
  });

  it('a failed replica that is drained does not restart', () => {
    const out = run([spawned(0), { type: 'exited', now: 1, message: 'x' }, { type: 'drain', now: 2 }, { type: 'restart', now: 600 }]);
    expect(out[2]!.record).toMatchObject({ state: 'draining', restartAt: undefined });
    expect(out[3]!.record.state).toBe('draining');
  });

  it('stopped is final', () => {
    const out = run([{ type: 'stopped', now: 0 }, spawned(1), { type: 'restart', now: 2 }]);
    expect(out.map((t) => t.record.state)).toEqual(['stopped', 'stopped', 'stopped']);
  });
});
