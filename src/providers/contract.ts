/**
 * The Provider contract: one test suite every provider runs (`describeProviderContract(name, setup)`
 * in its own test file). Test code, so it is not exported from the module's index.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listModels, waitFor, waitForReady } from './test-support.js';
import type { DeploymentTarget, Provider, ReplicaStatus } from './types.js';

/** What a provider's test file gives the contract suite, fresh for each test. */
export interface ContractHarness {
  readonly provider: Provider;
  /** A target for `deployment` with `replicas` replicas (static: the first `replicas` of its endpoints). */
  target(deployment: string, replicas: number): DeploymentTarget;
  /** The provider starts and stops the replicas' servers, so remove() makes their endpoints stop answering. */
  readonly ownsProcesses: boolean;
  /** Most replicas `target` can give (static: the number of endpoints it has). */
  readonly maxReplicas: number;
  /** After each test: close the provider and make sure nothing the test started is left running. */
  cleanup(): Promise<void>;
}

/** Options of the suite. */
export interface ContractOptions {
  /** Deadline for replicas to become ready (default 60 s: spawning workers is slow on a busy machine). */
  readonly readyTimeoutMs?: number;
  /** Per-test timeout (default 120 s). */
  readonly testTimeoutMs?: number;
}

const identity = (r: ReplicaStatus): Pick<ReplicaStatus, 'index' | 'id' | 'pid' | 'endpoint'> => ({ index: r.index, id: r.id, pid: r.pid, endpoint: r.endpoint });

/** Register the contract tests for one provider. */
export function describeProviderContract(name: string, setup: () => ContractHarness | Promise<ContractHarness>, options: ContractOptions = {}): void {
  const readyMs = options.readyTimeoutMs ?? 60_000;
  const timeout = options.testTimeoutMs ?? 120_000;

  describe(`Provider contract: ${name}`, () => {
    let h: ContractHarness;
    beforeEach(async () => {
      h = await setup();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('status and deployments are empty for an unknown deployment', () => {
      expect(h.provider.status('nope')).toEqual([]);
      expect(h.provider.deployments()).not.toContain('nope');
    });

    it('apply starts replicas that become ready with endpoints answering GET /v1/models; onChange fires', { timeout }, async () => {
      const changes: string[] = [];
      h.provider.onChange((d) => changes.push(d));
      await h.provider.apply(h.target('alpha', 2));
      expect(h.provider.deployments()).toContain('alpha');
      const ready = await waitForReady(h.provider, 'alpha', 2, readyMs);
      expect(ready.map((r) => [r.index, r.id])).toEqual([
        [0, 'alpha-0'],
        [1, 'alpha-1'],
      ]);
      expect(new Set(ready.map((r) => r.endpoint)).size).toBe(2);
      for (const r of ready) {
        expect(r.endpoint).toMatch(/^https?:\/\//);
        expect(r.startedAt).toBeDefined();
        expect((await listModels(r.endpoint!))?.status).toBe(200);
      }
      expect(changes).toContain('alpha');
      expect(changes.every((d) => d === 'alpha')).toBe(true);
    });

    it('apply is idempotent: repeated applies keep the same replicas', { timeout }, async () => {
      const t = h.target('idem', 1);
      await h.provider.apply(t);
      await h.provider.apply(t);
      await h.provider.apply(t);
      const first = (await waitForReady(h.provider, 'idem', 1, readyMs)).map(identity);
      await Promise.all([h.provider.apply(t), h.provider.apply(t), h.provider.apply(t)]);
      expect(h.provider.status('idem').map(identity)).toEqual(first);
      expect(h.provider.status('idem').every((r) => r.state === 'ready')).toBe(true);
      expect(h.provider.deployments().filter((d) => d === 'idem')).toHaveLength(1);
    });

    it('scales up and down, keeping the replicas that stay', { timeout }, async () => {
      await h.provider.apply(h.target('scale', 1));
      const [zero] = (await waitForReady(h.provider, 'scale', 1, readyMs)).map(identity);
      const up = Math.min(2, h.maxReplicas);
      await h.provider.apply(h.target('scale', up));
      const scaled = await waitForReady(h.provider, 'scale', up, readyMs);
      expect(identity(scaled[0]!)).toEqual(zero);
      const extra = scaled[1]!;
      await h.provider.apply(h.target('scale', 1));
      const down = await waitForReady(h.provider, 'scale', 1, readyMs);
      expect(down.map(identity)).toEqual([zero]);
      if (h.ownsProcesses) await waitFor(async () => (await listModels(extra.endpoint!)) === undefined, { timeoutMs: readyMs, what: 'the removed replica to stop answering' });
    });

    it('remove stops the deployment, forgets it and leaves other deployments alone', { timeout }, async () => {
      await Promise.all([h.provider.apply(h.target('keep', 1)), h.provider.apply(h.target('drop', 1))]);
      const [kept] = await waitForReady(h.provider, 'keep', 1, readyMs);
      const [dropped] = await waitForReady(h.provider, 'drop', 1, readyMs);
      const changes: string[] = [];
      h.provider.onChange((d) => changes.push(d));
      await h.provider.remove('drop');
      expect(h.provider.status('drop')).toEqual([]);
      expect(h.provider.deployments()).not.toContain('drop');
      expect(h.provider.deployments()).toContain('keep');
      expect(changes).toContain('drop');
      if (h.ownsProcesses) expect(await listModels(dropped!.endpoint!)).toBeUndefined();
      expect(h.provider.status('keep').map(identity)).toEqual([identity(kept!)]);
      expect((await listModels(kept!.endpoint!))?.status).toBe(200);
      await h.provider.remove('drop'); // removing twice is fine
    });
  });
}
