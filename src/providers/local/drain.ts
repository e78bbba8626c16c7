/** Stopping one process gracefully: SIGTERM to its group, wait (on the Clock) up to a timeout, then SIGKILL. */
import type { Clock } from '../../core/index.js';
import type { ProcessHost, ProcessIdentity } from './process-host.js';

/** What `drainProcess` needs. */
export interface DrainRequest {
  readonly host: ProcessHost;
  readonly clock: Clock;
  readonly pid: number;
  readonly identity: ProcessIdentity | undefined;
  readonly timeoutMs: number;
  /** Give up waiting (the provider was closed without stopping replicas). */
  readonly abandoned: () => boolean;
}

/** How it ended: exited after SIGTERM, killed after the timeout, or abandoned while waiting. */
export type DrainOutcome = 'exited' | 'killed' | 'abandoned';

/** How long to wait for the exit after SIGKILL before reporting it killed anyway. */
const KILL_WAIT_MS = 5000;
const POLL_MS = 50;

/** SIGTERM, wait up to `timeoutMs` for the exit, then SIGKILL. */
export async function drainProcess(req: DrainRequest): Promise<DrainOutcome> {
  req.host.signal(req.pid, 'SIGTERM');
  if (await waitForExit(req, req.timeoutMs)) return 'exited';
  if (req.abandoned()) return 'abandoned';
  req.host.signal(req.pid, 'SIGKILL');
  await waitForExit(req, KILL_WAIT_MS);
  return req.abandoned() ? 'abandoned' : 'killed';
}

/** Poll until the process is gone; false on timeout or when abandoned. */
async function waitForExit(req: DrainRequest, timeoutMs: number): Promise<boolean> {
  const { clock } = req;
  const deadline = clock.now() + timeoutMs;
  while (req.host.isAlive(req.pid, req.identity)) {
    if (req.abandoned() || clock.now() >= deadline) return false;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - clock.now()))));
  }
  return true;
}
