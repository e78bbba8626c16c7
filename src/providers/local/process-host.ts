/**
 * The operating-system side of the local provider, behind a small interface so the replica
 * runner can be tested with a fake host and a VirtualClock. The real host spawns detached
 * processes (their own process group, stdio to a log file, unref'd) that outlive this process.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname } from 'node:path';
import { httpProbe, type ProbeResult } from '../http-probe.js';

/** What a spawn needs. */
export interface SpawnRequest {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logPath: string;
  readonly cwd?: string;
  /** Called once when a spawned child exits (only while this process is its parent). */
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** OS operations used by the replica runner. */
export interface ProcessHost {
  /** A port that was free a moment ago on 127.0.0.1. */
  freePort(): Promise<number>;
  /** Start a detached process; rejects when it cannot start (e.g. ENOENT). */
  spawn(req: SpawnRequest): Promise<{ pid: number }>;
  /** Whether `pid` is a live process (not a zombie) that matches `identity` when given (guards against pid reuse). */
  isAlive(pid: number, identity?: ProcessIdentity): boolean;
  /** Signal the process group of `pid` (falls back to the pid alone); no-op when it is gone. */
  signal(pid: number, signal: 'SIGTERM' | 'SIGKILL'): void;
  /** GET `url`; ok on 200. */
  probe(url: string, timeoutMs: number): Promise<ProbeResult>;
  /** Current size of a file (0 when missing). */
  fileSize(path: string): number;
  /** Text of `path` from byte `offset` (at most `max` bytes, the last ones). */
  readFrom(path: string, offset: number, max: number): string;
  /** Find a live process matching `identity` (Linux only; undefined elsewhere). */
  findByIdentity(identity: ProcessIdentity): number | undefined;
}

/**
 * How a replica process is recognised after a restart of the control plane: its argv (as
 * /proc/<pid>/cmdline shows it; a `#!` interpreter in front is allowed), or, for servers that
 * rename themselves (setproctitle), a start time within a few seconds of the recorded one.
 */
export interface ProcessIdentity {
  readonly command: readonly string[];
  /** ISO time recorded just before the spawn. */
  readonly startedAt?: string;
}

/** The real host: node:child_process, /proc, node:http. */
export const realProcessHost: ProcessHost = {
  freePort,
  async spawn(req) {
    mkdirSync(dirname(req.logPath), { recursive: true });
    const fd = openSync(req.logPath, 'a');
    try {
      writeSync(fd, `[switchyard] ${new Date().toISOString()} starting: ${req.argv.map(quoteArg).join(' ')}\n`);
      const [cmd, ...args] = req.argv;
      if (cmd === undefined) throw new Error('empty command');
      const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: req.env, cwd: req.cwd, windowsHide: true });
      if (child.pid === undefined) {
        const err = await new Promise<Error>((resolve) => child.once('error', resolve));
        throw new Error(`cannot run '${cmd}': ${err.message}`);
      }
      child.once('exit', (code, signal) => req.onExit(code, signal));
      child.unref();
      return { pid: child.pid };
    } finally {
      closeSync(fd);
    }
  },
  isAlive,
  signal(pid, signal) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, signal);
        return;
      } catch {
        // no such group (or no permission): try the pid itself
      }
    }
  },
  probe: httpProbe,
  fileSize(path) {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  },
  readFrom(path, offset, max) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      const start = Math.max(offset, size - max);
      if (start >= size) return '';
      const buf = Buffer.alloc(size - start);
      const n = readSync(fd, buf, 0, buf.length, start);
      return buf.subarray(0, n).toString('utf8');
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  },
  findByIdentity(identity) {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    } catch {
      return undefined;
    }
    for (const p of pids) {
      const pid = Number(p);
      if (pid !== process.pid && matchesCommand(readCmdline(pid), identity.command) && isAlive(pid, identity)) return pid;
    }
    return undefined;
  },
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the port of a probe socket'))));
    });
  });
}

function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').slice(0, raw.endsWith('\0') ? -1 : undefined);
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, identity?: ProcessIdentity): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // No /proc (not Linux): trust kill(0). With /proc, the process just went away.
    return !procAvailable();
  }
  // Fields after "(comm)": state is the 1st, starttime the 20th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return false;
  if (!identity) return true;
  if (matchesCommand(readCmdline(pid), identity.command)) return true;
  const recorded = identity.startedAt === undefined ? NaN : Date.parse(identity.startedAt);
  const started = processStartEpochMs(Number(fields[19]));
  return Number.isFinite(recorded) && started !== undefined && Math.abs(started - recorded) <= START_TOLERANCE_MS;
}

const START_TOLERANCE_MS = 3000;
const CLOCK_TICKS_PER_SECOND = 100;

/** argv equal to `command`, or `command` run through an interpreter (`#!`): same tail, argv0 basename present in the head. */
export function matchesCommand(argv: readonly string[] | undefined, command: readonly string[]): boolean {
  if (!argv || command.length === 0 || argv.length < command.length) return false;
  const extra = argv.length - command.length;
  for (let i = 1; i < command.length; i++) if (argv[extra + i] !== command[i]) return false;
  const name = basename(command[0] ?? '');
  return argv.slice(0, extra + 1).some((a) => basename(a) === name);
}

function processStartEpochMs(startTicks: number): number | undefined {
  if (!Number.isFinite(startTicks)) return undefined;
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return btime ? Number(btime[1]) * 1000 + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

let procChecked: boolean | undefined;
function procAvailable(): boolean {
  if (procChecked === undefined) {
    try {
      readFileSync('/proc/self/stat');
      procChecked = true;
    } catch {
      procChecked = false;
    }
  }
  return procChecked;
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
