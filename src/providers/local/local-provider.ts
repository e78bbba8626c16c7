/**
 * LocalProvider: replicas are OS processes on this machine (simulated workers, vLLM, SGLang, or
 * any command). They are spawned detached and recorded in state files, so they survive the
 * control plane; a new LocalProvider on the same stateDir adopts them instead of starting more.
 */
import { SwitchyardError } from '../../core/index.js';
import { ChangeListeners } from '../listeners.js';
import type { DeploymentTarget, LogOptions, Provider, ReplicaStatus } from '../types.js';
import { readLogLines } from './log-reader.js';
import { compileLocalOptions, type CompiledLocalOptions, type LocalProviderOptions } from './options.js';
import { realProcessHost, type ProcessHost } from './process-host.js';
import { ReplicaRunner, type RunnerDeps } from './replica-runner.js';
import { planRollout, type RolloutAction, type SlotView } from './rollout.js';
import { removeDeploymentDir, scanStateFiles, StateLayout } from './state-files.js';

interface Slot {
  current?: ReplicaRunner;
  surge?: ReplicaRunner;
}

interface Entry {
  target: DeploymentTarget | undefined;
  readonly slots: Map<number, Slot>;
  /** Replicas being drained, until they have stopped. */
  readonly retiring: Map<ReplicaRunner, Promise<void>>;
  reconcileQueued: boolean;
}

const ROLE_ORDER = { current: 0, surge: 1, retiring: 2 } as const;

/** The local-process Provider. See src/providers/README.md for the replica lifecycle. */
export class LocalProvider implements Provider {
  readonly kind = 'local';
  private readonly opts: CompiledLocalOptions;
  private readonly layout: StateLayout;
  private readonly host: ProcessHost;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new ChangeListeners();
  private closed = false;

  /** Adopts the replicas recorded in `options.stateDir` whose processes are still alive. */
  constructor(options: LocalProviderOptions, host: ProcessHost = realProcessHost) {
    this.opts = compileLocalOptions(options);
    this.layout = new StateLayout(this.opts.stateDir);
    this.host = host;
    this.adopt();
  }

  async apply(target: DeploymentTarget): Promise<void> {
    this.assertOpen();
    if (!Number.isInteger(target.replicas) || target.replicas < 0) {
      throw new SwitchyardError('invalid_argument', `deployment '${target.deployment}': replicas must be a non-negative integer, got ${target.replicas}`, {
        param: 'replicas',
      });
    }
    const entry = this.entry(target.deployment);
    entry.target = target;
    await Promise.all(this.reconcile(target.deployment));
  }

  async remove(deployment: string): Promise<void> {
    this.assertOpen();
    await this.removeEntry(deployment);
  }

  status(deployment: string): ReplicaStatus[] {
    const entry = this.entries.get(deployment);
    if (!entry) return [];
    return this.runners(entry)
      .sort((a, b) => a.index - b.index || ROLE_ORDER[a.role] - ROLE_ORDER[b.role])
      .map((r) => r.status());
  }

  deployments(): string[] {
    return [...this.entries.keys()].sort();
  }

  onChange(cb: (deployment: string) => void): () => void {
    return this.listeners.add(cb);
  }

  logs(deployment: string, replica: number, options: LogOptions = {}): AsyncIterable<string> {
    const path = this.layout.logPath(deployment, replica);
    if (this.host.fileSize(path) === 0 && !this.status(deployment).some((r) => r.index === replica)) {
      throw new SwitchyardError('not_found', `no logs for replica ${replica} of deployment '${deployment}'`, { param: 'replica' });
    }
    return readLogLines(path, { ...options, clock: this.opts.clock });
  }

  async close(options: { stopReplicas: boolean }): Promise<void> {
    if (this.closed) return;
    if (options.stopReplicas) {
      await Promise.all([...this.entries.keys()].map(async (d) => this.removeEntry(d)));
    } else {
      for (const entry of this.entries.values()) for (const r of this.runners(entry)) r.detach();
      this.entries.clear();
    }
    this.closed = true;
    this.listeners.clear();
  }

  private adopt(): void {
    const found = scanStateFiles(this.opts.stateDir, (path, error) => this.opts.logger.warn({ path, error }, 'ignoring unreadable replica state file'));
    for (const f of found) {
      const runner = ReplicaRunner.adopt(this.deps(f.state.deployment), f);
      const entry = this.entry(f.state.deployment);
      const slot = this.slot(entry, f.state.index);
      if (f.role === 'retiring' || slot[f.role]) {
        this.retire(entry, runner);
        continue;
      }
      slot[f.role] = runner;
      this.opts.logger.info({ deployment: f.state.deployment, replica: f.state.index, pid: runner.record.pid, state: runner.record.state }, 'adopted replica');
    }
  }

  /** Apply one step of the rollout plan; returns the spawns it started (apply awaits them). */
  private reconcile(deployment: string): Promise<void>[] {
    const entry = this.entries.get(deployment);
    const target = entry?.target;
    if (!entry || !target || this.closed) return [];
    const views: SlotView[] = [...entry.slots].map(([index, s]) => ({ index, current: s.current && view(s.current), surge: s.surge && view(s.surge) }));
    const starts: Promise<void>[] = [];
    for (const action of planRollout(views, target)) {
      const p = this.perform(entry, target, action);
      if (p) starts.push(p);
    }
    for (const [index, s] of entry.slots) if (!s.current && !s.surge) entry.slots.delete(index);
    return starts;
  }

  private perform(entry: Entry, target: DeploymentTarget, action: RolloutAction): Promise<void> | undefined {
    const slot = this.slot(entry, action.index);
    switch (action.kind) {
      case 'start': {
        const runner = ReplicaRunner.create(this.deps(target.deployment), target, action.index, action.role);
        slot[action.role] = runner;
        return runner.start();
      }
      case 'retire': {
        const runner = slot[action.role];
        slot[action.role] = undefined;
        if (runner) this.retire(entry, runner);
        return undefined;
      }
      case 'promote': {
        const old = slot.current;
        if (old) this.retire(entry, old);
        slot.current = slot.surge;
        slot.surge = undefined;
        slot.current?.moveTo('current');
        return undefined;
      }
      case 'attach':
        slot[action.role]?.attach(target);
        return undefined;
    }
  }

  /** Drain a runner in the background; it is listed (as draining) until it has stopped. */
  private retire(entry: Entry, runner: ReplicaRunner): void {
    runner.moveTo('retiring');
    const done = runner
      .stop()
      .catch((e: unknown) => this.opts.logger.error({ err: e, replica: runner.id }, 'stopping replica failed'))
      .finally(() => {
        entry.retiring.delete(runner);
        this.changed(runner.deployment);
      });
    entry.retiring.set(runner, done);
  }

  private async removeEntry(deployment: string): Promise<void> {
    const entry = this.entries.get(deployment);
    if (!entry) return;
    entry.target = undefined;
    for (const slot of entry.slots.values()) {
      for (const role of ['surge', 'current'] as const) {
        const runner = slot[role];
        slot[role] = undefined;
        if (runner) this.retire(entry, runner);
      }
    }
    entry.slots.clear();
    while (entry.retiring.size > 0) await Promise.all(entry.retiring.values());
    if (this.entries.get(deployment) === entry && !entry.target) {
      this.entries.delete(deployment);
      removeDeploymentDir(this.layout.dir(deployment), true);
      this.listeners.emit(deployment);
    }
  }

  private changed(deployment: string): void {
    this.listeners.emit(deployment);
    const entry = this.entries.get(deployment);
    if (!entry || entry.reconcileQueued || !entry.target) return;
    entry.reconcileQueued = true;
    queueMicrotask(() => {
      entry.reconcileQueued = false;
      if (this.entries.get(deployment) === entry) void Promise.all(this.reconcile(deployment));
    });
  }

  private deps(deployment: string): RunnerDeps {
    return { opts: this.opts, host: this.host, layout: this.layout, onChange: () => this.changed(deployment) };
  }

  private entry(deployment: string): Entry {
    let e = this.entries.get(deployment);
    if (!e) {
      e = { target: undefined, slots: new Map(), retiring: new Map(), reconcileQueued: false };
      this.entries.set(deployment, e);
    }
    return e;
  }

  private slot(entry: Entry, index: number): Slot {
    let s = entry.slots.get(index);
    if (!s) {
      s = {};
      entry.slots.set(index, s);
    }
    return s;
  }

  private runners(entry: Entry): ReplicaRunner[] {
    const out: ReplicaRunner[] = [];
    for (const s of entry.slots.values()) for (const r of [s.current, s.surge]) if (r) out.push(r);
    return [...out, ...entry.retiring.keys()];
  }

  private assertOpen(): void {
    if (this.closed) throw new SwitchyardError('unavailable', 'the local provider is closed', { retryable: false });
  }
}

function view(r: ReplicaRunner): { specHash: string; state: ReplicaRunner['record']['state']; attached: boolean } {
  return { specHash: r.specHash, state: r.record.state, attached: r.attached };
}
