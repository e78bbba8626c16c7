/**
 * One replica process of the local provider: spawn, probe, restart with backoff, drain. The
 * decisions are made by the pure state machine (./replica-state.ts); this class performs them
 * through a ProcessHost and the injected Clock, and keeps the state file in step.
 */
import type { TimerHandle } from '../../core/index.js';
import type { DeploymentTarget, ReplicaStatus } from '../types.js';
import { kvEventsFromArgv, renderCommand, type KvEventEndpoints } from './command.js';
import { drainProcess } from './drain.js';
import type { CompiledLocalOptions } from './options.js';
import type { ProcessHost, ProcessIdentity } from './process-host.js';
import { initialRecord, transition, type ReplicaEvent, type ReplicaRecord } from './replica-state.js';
import { moveStateFile, removeStateFile, writeStateFile, type FoundStateFile, type ReplicaRole, type ReplicaStateFile, type StateLayout } from './state-files.js';

/** What a runner needs from its provider. */
export interface RunnerDeps {
  readonly opts: CompiledLocalOptions;
  readonly host: ProcessHost;
  readonly layout: StateLayout;
  /** Called when state, pid, endpoint or restarts change. */
  readonly onChange: () => void;
}

const PORT_CONFLICT = /EADDRINUSE|address already in use/i;
const MAX_PORT_RETRIES = 3;

/** Manages one process of one replica index. */
export class ReplicaRunner {
  private rec: ReplicaRecord;
  private target: DeploymentTarget | undefined;
  private identity: ProcessIdentity | undefined;
  private statePath: string;
  private probeTimer: TimerHandle | undefined;
  private restartTimer: TimerHandle | undefined;
  /** Incremented per process and on detach: callbacks of an older generation are ignored. */
  private gen = 0;
  private spawning: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private detached = false;
  private logOffset = 0;
  private portRetries = 0;
  /** Where the current process publishes KV events (from its argv), if it does. */
  private kvEvents: KvEventEndpoints | undefined;

  private constructor(
    private readonly deps: RunnerDeps,
    readonly deployment: string,
    readonly index: number,
    private roleName: ReplicaRole,
    readonly specHash: string,
    restarts: number,
  ) {
    this.rec = initialRecord(deps.opts.policy, restarts);
    this.statePath = deps.layout.statePath(deployment, index, roleName);
  }

  /** A new replica for `target`; call start() to spawn it. */
  static create(deps: RunnerDeps, target: DeploymentTarget, index: number, role: ReplicaRole): ReplicaRunner {
    const r = new ReplicaRunner(deps, target.deployment, index, role, target.specHash, 0);
    r.target = target;
    return r;
  }

  /** A replica from a state file: probed when its process is alive, `failed` (restarted on the next apply) when not. */
  static adopt(deps: RunnerDeps, found: FoundStateFile): ReplicaRunner {
    const s = found.state;
    const r = new ReplicaRunner(deps, s.deployment, s.index, found.role, s.specHash, s.restarts);
    r.statePath = found.path;
    r.identity = { command: s.command, startedAt: s.startedAt };
    r.kvEvents = kvEventsFromArgv(s.command);
    const pid = s.pid ?? deps.host.findByIdentity(r.identity);
    const now = deps.opts.clock.now();
    if (pid !== undefined && deps.host.isAlive(pid, r.identity)) {
      if (s.pid === null) writeStateFile(found.path, { ...s, pid }); // found by its command line
      r.apply({ type: 'adopted', now, pid, port: s.port, startedAt: s.startedAt });
      r.scheduleProbe(0);
    } else {
      const gone = pid === undefined ? 'its process was never recorded' : `process ${pid} is gone`;
      r.rec = { ...r.rec, state: 'failed', pid, port: s.port, startedAt: s.startedAt, message: `${gone}; it restarts on the next apply` };
    }
    return r;
  }

  get id(): string {
    return `${this.deployment}-${this.index}`;
  }
  get role(): ReplicaRole {
    return this.roleName;
  }
  get record(): ReplicaRecord {
    return this.rec;
  }
  /** Whether it knows its target (adopted replicas learn it on the next apply). */
  get attached(): boolean {
    return this.target !== undefined;
  }

  /** The replica as the Provider interface reports it. */
  status(): ReplicaStatus {
    const r = this.rec;
    return {
      index: this.index,
      id: this.id,
      state: r.state,
      restarts: r.restarts,
      ...(r.port !== undefined ? { endpoint: `http://127.0.0.1:${r.port}` } : {}),
      ...(r.port !== undefined && this.kvEvents !== undefined ? { kvEvents: this.kvEvents } : {}),
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      ...(r.message !== undefined ? { message: r.message } : {}),
      ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
    };
  }

  /** Spawn the process; resolves once it is spawned (or has failed to). */
  start(): Promise<void> {
    this.spawning ??= this.spawnProcess().finally(() => (this.spawning = undefined));
    return this.spawning;
  }

  /** Give an adopted replica its target (same specHash); a failed one is restarted at once. */
  attach(target: DeploymentTarget): void {
    this.target = target;
    if (this.rec.state === 'failed' && this.restartTimer === undefined) this.restartDue();
  }

  /** Rename its state file to the one of `role` (surge → current on promotion, → retiring on retirement). */
  moveTo(role: ReplicaRole): void {
    if (role === this.roleName) return;
    const to = this.deps.layout.statePath(this.deployment, this.index, role);
    moveStateFile(this.statePath, to);
    this.statePath = to;
    this.roleName = role;
  }

  /** Drain: SIGTERM, wait up to drainTimeout for the exit, then SIGKILL; delete the state file. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  /** Stop watching without touching the process or its state file (another provider may adopt it). */
  detach(): void {
    this.detached = true;
    this.gen++;
    this.clearTimers();
  }

  private async spawnProcess(): Promise<void> {
    const gen = ++this.gen;
    const target = this.target;
    if (!target || this.stopping || this.detached) return;
    const { host, opts, layout } = this.deps;
    let port: number;
    let argv: string[];
    try {
      port = await host.freePort();
    } catch (e) {
      this.apply({ type: 'spawn-failed', now: opts.clock.now(), message: `no free port: ${errorMessage(e)}`, retry: true });
      return;
    }
    try {
      argv = renderCommand(target, { port, replica: this.index, switchyardBin: opts.switchyardBin, kvEventsDir: layout.kvEventsDir() });
    } catch (e) {
      // A configuration error: retrying cannot help; a new apply (new specHash) replaces the replica.
      this.apply({ type: 'spawn-failed', now: opts.clock.now(), message: errorMessage(e), retry: false });
      return;
    }
    if (gen !== this.gen) return;
    this.kvEvents = kvEventsFromArgv(argv);
    const startedAt = new Date(opts.clock.epochMs()).toISOString();
    const file = (pid: number | null): ReplicaStateFile => ({
      deployment: this.deployment,
      index: this.index,
      pid,
      port,
      specHash: this.specHash,
      command: argv,
      startedAt,
      restarts: this.rec.restarts,
    });
    const logPath = layout.logPath(this.deployment, this.index);
    try {
      writeStateFile(this.statePath, file(null));
      this.logOffset = host.fileSize(logPath);
      const env = { ...process.env, ...target.env };
      const { pid } = await host.spawn({ argv, env, logPath, cwd: opts.cwd, onExit: (code, signal) => this.exited(gen, code, signal) });
      this.identity = { command: argv, startedAt };
      writeStateFile(this.statePath, file(pid));
      this.apply({ type: 'spawned', now: opts.clock.now(), pid, port, startedAt });
      this.scheduleProbe(opts.probeStartingMs);
    } catch (e) {
      this.apply({ type: 'spawn-failed', now: opts.clock.now(), message: errorMessage(e), retry: true });
    }
  }

  private exited(gen: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (gen !== this.gen) return;
    const { host, opts, layout } = this.deps;
    const output = host.readFrom(layout.logPath(this.deployment, this.index), this.logOffset, 64 * 1024);
    const now = opts.clock.now();
    if (this.rec.state === 'starting' && this.rec.port !== undefined && PORT_CONFLICT.test(output) && this.portRetries < MAX_PORT_RETRIES) {
      this.portRetries++;
      this.apply({ type: 'port-conflict', now, port: this.rec.port });
      void this.start();
      return;
    }
    const lastLine = output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('[switchyard]')).pop();
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.apply({ type: 'exited', now, message: `process ${this.rec.pid} ${how}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}` });
  }

  private scheduleProbe(ms: number): void {
    this.deps.opts.clock.clearTimeout(this.probeTimer);
    const gen = this.gen;
    this.probeTimer = this.deps.opts.clock.setTimeout(() => void this.probe(gen), ms);
  }

  private async probe(gen: number): Promise<void> {
    this.probeTimer = undefined;
    const { host, opts } = this.deps;
    const { pid, port } = this.rec;
    const live = (): boolean => gen === this.gen && (this.rec.state === 'starting' || this.rec.state === 'ready');
    if (!live() || pid === undefined || port === undefined) return;
    if (!host.isAlive(pid, this.identity)) {
      this.apply({ type: 'exited', now: opts.clock.now(), message: `process ${pid} is gone` });
      return;
    }
    const res = await host.probe(`http://127.0.0.1:${port}/health`, opts.probeTimeoutMs).catch((e: unknown) => ({ ok: false, status: undefined, error: errorMessage(e) }));
    if (!live()) return;
    const now = opts.clock.now();
    this.apply(res.ok ? { type: 'probe-ok', now } : { type: 'probe-failed', now, message: res.error ?? `HTTP ${res.status}` });
    const spawnedAt = this.rec.spawnedAt ?? now;
    if (this.rec.state === 'starting' && now - spawnedAt >= opts.readyTimeoutMs) this.apply({ type: 'ready-timeout', now, timeoutMs: opts.readyTimeoutMs });
    if (live()) this.scheduleProbe(this.rec.state === 'ready' ? opts.probeReadyMs : opts.probeStartingMs);
  }

  private restartDue(): void {
    this.restartTimer = undefined;
    if (this.stopping || this.detached || this.rec.state !== 'failed') return;
    if (!this.target) {
      this.rec = { ...this.rec, message: `${this.rec.message ?? 'failed'}; it restarts on the next apply` };
      return;
    }
    this.apply({ type: 'restart', now: this.deps.opts.clock.now() });
    void this.start();
  }

  /** Run one event through the state machine and perform its effects. */
  private apply(event: ReplicaEvent): void {
    const before = this.rec;
    const { record, effects } = transition(before, event, this.deps.opts.policy);
    this.rec = record;
    for (const effect of effects) {
      if (effect.kind === 'kill' && before.pid !== undefined) this.deps.host.signal(before.pid, 'SIGKILL');
      if (effect.kind === 'schedule-restart') {
        this.deps.opts.clock.clearTimeout(this.restartTimer);
        this.restartTimer = this.deps.opts.clock.setTimeout(() => this.restartDue(), effect.delayMs);
      }
    }
    if (record.state !== 'starting' && record.state !== 'ready') {
      this.deps.opts.clock.clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
    }
    if (record.state === 'ready') this.portRetries = 0;
    const changed = before.state !== record.state || before.pid !== record.pid || before.port !== record.port || before.restarts !== record.restarts;
    if (changed) this.deps.onChange();
  }

  private clearTimers(): void {
    this.deps.opts.clock.clearTimeout(this.probeTimer);
    this.deps.opts.clock.clearTimeout(this.restartTimer);
    this.probeTimer = this.restartTimer = undefined;
  }

  private async drain(): Promise<void> {
    await this.spawning?.catch(() => undefined);
    this.clearTimers();
    this.gen++;
    const { host, opts } = this.deps;
    const pid = this.rec.pid;
    const alive = pid !== undefined && host.isAlive(pid, this.identity);
    this.apply({ type: 'drain', now: opts.clock.now() });
    const outcome = alive
      ? await drainProcess({ host, clock: opts.clock, pid, identity: this.identity, timeoutMs: opts.drainTimeoutMs, abandoned: () => this.detached })
      : 'exited';
    if (outcome === 'abandoned' || this.detached) return;
    removeStateFile(this.statePath);
    const message = outcome === 'killed' ? `killed (SIGKILL) after the ${opts.drainTimeoutMs} ms drain timeout` : 'stopped';
    this.apply({ type: 'stopped', now: opts.clock.now(), message });
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
