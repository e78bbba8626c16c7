/** Test support: a ProcessHost without processes, and a helper that runs a VirtualClock with async work in between. */
import type { VirtualClock } from '../../core/index.js';
import type { ProbeResult } from '../http-probe.js';
import type { ProcessHost, ProcessIdentity, SpawnRequest } from './process-host.js';

/** A pretend process. */
export interface FakeProcess {
  readonly pid: number;
  readonly port: number;
  readonly req: SpawnRequest;
  /** Answers /health with 200. */
  healthy: boolean;
  /** Exits on SIGTERM (default true). */
  exitOnTerm: boolean;
  alive: boolean;
  signals: string[];
  /** Text the "log" shows for this process. */
  output: string;
}

/** A ProcessHost whose processes are objects: tests decide when they are healthy, crash or exit. */
export class FakeHost implements ProcessHost {
  readonly procs: FakeProcess[] = [];
  private nextPid = 1000;
  private nextPort = 20_000;
  /** Processes become healthy as soon as they are spawned when true. */
  autoHealthy = true;

  async freePort(): Promise<number> {
    return this.nextPort++;
  }
  async spawn(req: SpawnRequest): Promise<{ pid: number }> {
    const portArg = req.argv.indexOf('--port');
    const port = Number(req.argv[portArg + 1]);
    const p: FakeProcess = { pid: this.nextPid++, port, req, healthy: this.autoHealthy, exitOnTerm: true, alive: true, signals: [], output: '' };
    this.procs.push(p);
    return { pid: p.pid };
  }
  isAlive(pid: number, _identity?: ProcessIdentity): boolean {
    return this.byPid(pid)?.alive ?? false;
  }
  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): void {
    const p = this.byPid(pid);
    if (!p?.alive) return;
    p.signals.push(signal);
    if (signal === 'SIGKILL' || p.exitOnTerm) this.exit(p, signal === 'SIGKILL' ? null : 0, signal === 'SIGKILL' ? 'SIGKILL' : null);
  }
  async probe(url: string, _timeoutMs: number): Promise<ProbeResult> {
    const port = Number(new URL(url).port);
    const p = this.procs.find((x) => x.port === port && x.alive);
    return p?.healthy ? { ok: true, status: 200 } : { ok: false, error: 'ECONNREFUSED' };
  }
  fileSize(): number {
    return 0;
  }
  readFrom(): string {
    return this.procs.at(-1)?.output ?? '';
  }
  findByIdentity(): number | undefined {
    return undefined;
  }

  /** The process exits (a crash unless it was asked to stop). */
  exit(p: FakeProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (!p.alive) return;
    p.alive = false;
    p.req.onExit(code, signal);
  }
  byPid(pid: number): FakeProcess | undefined {
    return this.procs.find((p) => p.pid === pid);
  }
  live(): FakeProcess[] {
    return this.procs.filter((p) => p.alive);
  }
}

/** Let promises and I/O callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advance `clock` by `ms`, timer by timer, letting async work run after each. */
export async function advance(clock: VirtualClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  await flush();
  for (;;) {
    const at = clock.nextAt();
    if (at === undefined || at > target) break;
    clock.runUntil(at);
    await flush();
  }
  clock.runUntil(target);
  await flush();
}
