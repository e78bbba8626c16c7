/** LocalProvider options, compiled once: durations parsed, defaults filled, bad values rejected. */
import { parseDuration, RealClock, SwitchyardError, type Clock } from '../../core/index.js';
import { createNullLogger, type Logger } from '../../observability/index.js';
import type { ReplicaPolicy } from './replica-state.js';

/** A duration in milliseconds, or a string such as '500ms', '10s', '5m'. */
export type DurationInput = number | string;

/** Options of `new LocalProvider(...)`. */
export interface LocalProviderOptions {
  /** Directory for replica state files (`<deployment>/<index>.json`) and logs (`<deployment>/<index>.log`). */
  readonly stateDir: string;
  /** How to run `switchyard` (runtime `sim`), e.g. `[process.execPath, '/abs/bin/switchyard.js']`. */
  readonly switchyardBin: readonly string[];
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Probe interval while starting (default 500 ms) and once ready (default 5 s). */
  readonly probeInterval?: { readonly starting?: DurationInput; readonly ready?: DurationInput };
  /** Timeout of one health probe (default 2 s). */
  readonly probeTimeout?: DurationInput;
  /** Failed probes in a row that make a ready replica failed (default 3). */
  readonly failureThreshold?: number;
  /** Restart backoff: initial delay (500 ms), cap (30 s), reset once ready this long (60 s). */
  readonly restartBackoff?: { readonly initial?: DurationInput; readonly max?: DurationInput; readonly resetAfter?: DurationInput };
  /** How long a replica may take to exit after SIGTERM before SIGKILL (default 10 s). */
  readonly drainTimeout?: DurationInput;
  /** How long a replica may take to pass its first probe before it is failed (default 10 min: real engines load weights). */
  readonly readyTimeout?: DurationInput;
  /** Working directory of replica processes (default: this process's). */
  readonly cwd?: string;
}

/** The compiled form used internally. */
export interface CompiledLocalOptions {
  readonly stateDir: string;
  readonly switchyardBin: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly probeStartingMs: number;
  readonly probeReadyMs: number;
  readonly probeTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly policy: ReplicaPolicy;
  readonly cwd: string | undefined;
}

/** Fill defaults and validate. @throws SwitchyardError(invalid_argument) naming the option. */
export function compileLocalOptions(o: LocalProviderOptions): CompiledLocalOptions {
  if (!o.stateDir) throw new SwitchyardError('invalid_argument', 'local provider: stateDir is required', { param: 'stateDir' });
  if (o.switchyardBin.length === 0) {
    throw new SwitchyardError('invalid_argument', "local provider: switchyardBin must name a command, e.g. [process.execPath, '/abs/bin/switchyard.js']", {
      param: 'switchyardBin',
    });
  }
  const ms = (v: DurationInput | undefined, def: number, param: string): number => {
    const n = v === undefined ? def : parseDuration(v, param);
    if (!(n > 0)) throw new SwitchyardError('invalid_argument', `local provider: ${param} must be positive, got ${String(v)}`, { param });
    return n;
  };
  const failureThreshold = o.failureThreshold ?? 3;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new SwitchyardError('invalid_argument', `local provider: failureThreshold must be a positive integer, got ${failureThreshold}`, { param: 'failureThreshold' });
  }
  const backoffInitialMs = ms(o.restartBackoff?.initial, 500, 'restartBackoff.initial');
  const backoffMaxMs = ms(o.restartBackoff?.max, 30_000, 'restartBackoff.max');
  if (backoffMaxMs < backoffInitialMs) {
    throw new SwitchyardError('invalid_argument', 'local provider: restartBackoff.max must be at least restartBackoff.initial', { param: 'restartBackoff.max' });
  }
  return {
    stateDir: o.stateDir,
    switchyardBin: [...o.switchyardBin],
    clock: o.clock ?? new RealClock(),
    logger: o.logger ?? createNullLogger(),
    probeStartingMs: ms(o.probeInterval?.starting, 500, 'probeInterval.starting'),
    probeReadyMs: ms(o.probeInterval?.ready, 5000, 'probeInterval.ready'),
    probeTimeoutMs: ms(o.probeTimeout, 2000, 'probeTimeout'),
    drainTimeoutMs: ms(o.drainTimeout, 10_000, 'drainTimeout'),
    readyTimeoutMs: ms(o.readyTimeout, 600_000, 'readyTimeout'),
    policy: { failureThreshold, backoffInitialMs, backoffMaxMs, backoffResetMs: ms(o.restartBackoff?.resetAfter, 60_000, 'restartBackoff.resetAfter') },
    cwd: o.cwd,
  };
}
