/**
 * The replica state machine, pure: `transition(record, event, policy)` returns the next record and
 * the side effects the caller must perform (kill the process, schedule a restart). No I/O, no
 * timers: the caller passes `now` (Clock milliseconds) in events, so it is tested on plain values.
 *
 *   pending ──spawned──▶ starting ──probe-ok──▶ ready
 *      ▲                    │ exited / ready-timeout   │ exited / N probes failed
 *      │                    ▼                          ▼
 *      └────restart──── failed ◀───────────────────────┘     (restart after exponential backoff)
 *   any ──drain──▶ draining ──stopped──▶ stopped
 */
import type { ReplicaState } from '../types.js';

/** Everything the state machine knows about one replica process. */
export interface ReplicaRecord {
  readonly state: ReplicaState;
  readonly restarts: number;
  readonly pid?: number;
  readonly port?: number;
  readonly startedAt?: string;
  readonly message?: string;
  /** Clock time the current process was spawned (for the readiness timeout). */
  readonly spawnedAt?: number;
  /** Clock time it became ready. */
  readonly readyAt?: number;
  /** Consecutive failed probes while ready. */
  readonly probeFailures: number;
  /** Delay before the next restart; doubles per failure up to the policy's max. */
  readonly backoffMs: number;
  /** When failed: Clock time of the scheduled restart (absent: no automatic restart). */
  readonly restartAt?: number;
}

/** Restart and health policy. */
export interface ReplicaPolicy {
  /** Failed probes in a row that make a ready replica `failed`. */
  readonly failureThreshold: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** A replica ready for this long has its backoff reset to the initial delay. */
  readonly backoffResetMs: number;
}

/** The default policy: 3 probes, backoff 500 ms doubling to 30 s, reset after 60 s ready. */
export const DEFAULT_POLICY: ReplicaPolicy = { failureThreshold: 3, backoffInitialMs: 500, backoffMaxMs: 30_000, backoffResetMs: 60_000 };

/** What happened to a replica. `now` is Clock milliseconds. */
export type ReplicaEvent =
  | { readonly type: 'spawned'; readonly now: number; readonly pid: number; readonly port: number; readonly startedAt: string }
  | { readonly type: 'spawn-failed'; readonly now: number; readonly message: string; readonly retry: boolean }
  | { readonly type: 'adopted'; readonly now: number; readonly pid: number; readonly port: number; readonly startedAt: string }
  | { readonly type: 'probe-ok'; readonly now: number }
  | { readonly type: 'probe-failed'; readonly now: number; readonly message: string }
  | { readonly type: 'ready-timeout'; readonly now: number; readonly timeoutMs: number }
  | { readonly type: 'exited'; readonly now: number; readonly message: string }
  /** The process exited early because its port was taken: try again with another port, at once. */
  | { readonly type: 'port-conflict'; readonly now: number; readonly port: number }
  /** The backoff elapsed: about to spawn again. */
  | { readonly type: 'restart'; readonly now: number }
  | { readonly type: 'drain'; readonly now: number }
  | { readonly type: 'stopped'; readonly now: number; readonly message?: string };

/** Side effects for the caller. */
export type ReplicaEffect = { readonly kind: 'kill' } | { readonly kind: 'schedule-restart'; readonly delayMs: number };

/** Result of one transition. */
export interface Transition {
  readonly record: ReplicaRecord;
  readonly effects: readonly ReplicaEffect[];
}

/** A fresh record: pending, never started. */
export function initialRecord(policy: ReplicaPolicy = DEFAULT_POLICY, restarts = 0): ReplicaRecord {
  return { state: 'pending', restarts, probeFailures: 0, backoffMs: policy.backoffInitialMs };
}

const same = (record: ReplicaRecord): Transition => ({ record, effects: [] });

/** Apply one event. Events that make no sense in the current state leave it unchanged. */
export function transition(r: ReplicaRecord, e: ReplicaEvent, policy: ReplicaPolicy = DEFAULT_POLICY): Transition {
  if (e.type === 'stopped') return same({ ...r, state: 'stopped', message: e.message, restartAt: undefined });
  if (r.state === 'stopped') return same(r);
  if (e.type === 'drain') return same({ ...r, state: 'draining', message: 'draining', restartAt: undefined });
  if (r.state === 'draining') return e.type === 'exited' ? same({ ...r, state: 'stopped', message: e.message }) : same(r);

  switch (e.type) {
    case 'spawned':
    case 'adopted':
      if (e.type === 'spawned' && r.state !== 'pending') return same(r);
      return same({
        ...r,
        state: 'starting',
        pid: e.pid,
        port: e.port,
        startedAt: e.startedAt,
        spawnedAt: e.now,
        readyAt: undefined,
        probeFailures: 0,
        message: e.type === 'adopted' ? 'adopted; waiting for the readiness probe' : 'waiting for the readiness probe',
        restartAt: undefined,
      });
    case 'spawn-failed':
      return r.state === 'pending' ? fail(r, e.now, e.message, policy, e.retry, false) : same(r);
    case 'probe-ok':
      if (r.state === 'starting') return same({ ...r, state: 'ready', readyAt: e.now, probeFailures: 0, message: undefined });
      return r.state === 'ready' && r.probeFailures > 0 ? same({ ...r, probeFailures: 0, message: undefined }) : same(r);
    case 'probe-failed':
      if (r.state === 'starting') return same({ ...r, message: `waiting for the readiness probe: ${e.message}` });
      if (r.state !== 'ready') return same(r);
      if (r.probeFailures + 1 >= policy.failureThreshold) {
        return fail(r, e.now, `stopped answering health probes (${policy.failureThreshold} in a row): ${e.message}`, policy, true, true);
      }
      return same({ ...r, probeFailures: r.probeFailures + 1, message: `health probe failed: ${e.message}` });
    case 'ready-timeout':
      return r.state === 'starting' ? fail(r, e.now, `not ready after ${e.timeoutMs} ms (readiness timeout)`, policy, true, true) : same(r);
    case 'exited':
      return r.state === 'starting' || r.state === 'ready' ? fail(r, e.now, e.message, policy, true, false) : same(r);
    case 'port-conflict':
      if (r.state !== 'starting') return same(r);
      return same({ ...r, state: 'pending', pid: undefined, port: undefined, message: `port ${e.port} was taken; retrying with another port` });
    case 'restart':
      if (r.state !== 'failed') return same(r);
      return same({ ...r, state: 'pending', restarts: r.restarts + 1, pid: undefined, port: undefined, restartAt: undefined, probeFailures: 0 });
  }
}

/**
 * → failed. The restart delay is the current backoff, or the initial one when the replica had
 * been ready for `backoffResetMs`; the backoff for the failure after it doubles (capped).
 */
function fail(r: ReplicaRecord, now: number, message: string, policy: ReplicaPolicy, retry: boolean, kill: boolean): Transition {
  const stayedReady = r.readyAt !== undefined && now - r.readyAt >= policy.backoffResetMs;
  const delay = stayedReady ? policy.backoffInitialMs : r.backoffMs;
  const effects: ReplicaEffect[] = kill && r.pid !== undefined ? [{ kind: 'kill' }] : [];
  if (retry) effects.push({ kind: 'schedule-restart', delayMs: delay });
  const record: ReplicaRecord = {
    ...r,
    state: 'failed',
    message,
    readyAt: undefined,
    probeFailures: 0,
    backoffMs: Math.min(delay * 2, policy.backoffMaxMs),
    restartAt: retry ? now + delay : undefined,
  };
  return { record, effects };
}
