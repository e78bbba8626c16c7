/**
 * Shared by the provider tests (not exported from the module): polling, a marker that tags every
 * process a test starts (so cleanup can find and kill each one by pid, even ones the provider
 * lost track of), and small helpers to talk to replicas.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor as baseWaitFor } from '../../test/helpers/wait.js';
import type { Provider, ReplicaStatus } from './types.js';

/** `switchyard` as the tests run it. */
export const SWITCHYARD_BIN = [process.execPath, fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url))] as const;

/** test/helpers/wait.ts's waitFor with the longer defaults process tests need (30 s, 25 ms). */
export function waitFor<T>(cond: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  return baseWaitFor(cond, { timeoutMs: 30_000, intervalMs: 25, ...opts });
}

/** Wait until `deployment` has exactly `n` replicas, all ready; returns them. */
export async function waitForReady(provider: Provider, deployment: string, n: number, timeoutMs = 60_000): Promise<ReplicaStatus[]> {
  let last: ReplicaStatus[] = [];
  try {
    return await waitFor(
      () => {
        last = provider.status(deployment);
        return last.length === n && last.every((r) => r.state === 'ready') ? last : undefined;
      },
      { timeoutMs, what: `${n} ready replicas of ${deployment}` },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; status: ${JSON.stringify(last)}`);
  }
}

/** GET `${endpoint}/v1/models`: the status and the model ids (undefined when nothing answers). */
export async function listModels(endpoint: string): Promise<{ status: number; ids: string[] } | undefined> {
  try {
    const res = await fetch(`${endpoint}/v1/models`, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
    const body = (await res.json().catch(() => ({}))) as { data?: { id: string }[] };
    return { status: res.status, ids: (body.data ?? []).map((m) => m.id) };
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/**
 * A marker for one test run: put `env` into every target, and `killMarked()` finds the processes
 * whose environment carries it (/proc/<pid>/environ) and SIGKILLs each by pid.
 */
export function processMarker(): { env: Record<string, string>; pids(): number[]; killMarked(): number[] } {
  const value = randomUUID();
  const needle = `SWITCHYARD_TEST_MARKER=${value}`;
  const pids = (): number[] => {
    const out: number[] = [];
    for (const d of safeReaddir('/proc')) {
      if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(needle) && pidAlive(Number(d))) out.push(Number(d));
      } catch {
        // gone, or not ours
      }
    }
    return out;
  };
  return {
    env: { SWITCHYARD_TEST_MARKER: value },
    pids,
    killMarked() {
      const found = pids();
      for (const pid of found) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return found;
    },
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
