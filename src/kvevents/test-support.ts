/** Shared by the kvevents socket tests (not exported from the module). */
import { afterEach } from 'vitest';
import { waitFor as waitForTruthy } from '../../test/helpers/wait.js';

/** Returns `track(x)`: every tracked socket or publisher is closed after each test. */
export function useCleanup(): <T extends { close(): unknown }>(x: T) => T {
  const closers: { close(): unknown }[] = [];
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map(async (c) => c.close()));
  });
  return (x) => {
    closers.push(x);
    return x;
  };
}

/** Poll `cond` every 3 ms until true; throw after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  await waitForTruthy(cond, { timeoutMs, intervalMs: 3 });
}
