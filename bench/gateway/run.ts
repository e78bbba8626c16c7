/**
 * `npm run bench:gateway`: the Switchyard gateway's overhead against nginx proxy_pass, the Portkey
 * gateway and the upstream itself, all in one run on this machine:
 *
 * 1. start a fixed upstream (nginx `return`), the proxies, and check each with one request;
 * 2. maximum requests/s with wrk (closed loop), non-streaming and streaming;
 * 3. latency at a constant rate (half of the gateway's maximum; open loop, own generator);
 * 4. concurrent idle streams held and memory per stream;
 * 5. print a table (or `--json`), optionally rewrite docs/benchmarks.md (`--write`).
 *
 * Every process it starts is killed on exit, error or signal; see bench/gateway/proc.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs, USAGE, type BenchOptions } from './args.js';
import { runIdleStreams } from './idle.js';
import { measureAll } from './measure.js';
import { CpuMeter, hasBinary, killAll, REPO_ROOT, sleep, trackedPids } from './proc.js';
import { machineInfo, renderSection, renderText, verdicts, writeSection, type Results } from './report.js';
import { startStack, type Failure, type Stack } from './stack.js';

const log = (line: string): void => {
  process.stderr.write(`bench:gateway: ${line}\n`);
};

function installCleanup(dir: string): void {
  process.on('exit', () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      log(`${sig}: every process started by the benchmark was killed`);
      process.exit(130);
    });
  }
}

function checkTools(): void {
  const missing = ['nginx', 'wrk'].filter((b) => !hasBinary(b));
  if (missing.length > 0) throw new Error(`missing ${missing.join(' and ')}: apt-get update && apt-get install -y ${missing.join(' ')}`);
}

/** CPU used by processes other than this one over `ms`, % of one core (nothing else of ours runs yet). */
async function othersCpu(ms: number): Promise<number> {
  const meter = new CpuMeter([], []);
  await sleep(ms);
  return meter.stop().other;
}

/** PIDs of ours still alive after teardown. */
function leftovers(): number[] {
  return trackedPids().filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

function output(results: Results, opts: BenchOptions): void {
  if (opts.write) {
    const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
    writeSection(path, renderSection(results));
    log(`wrote ${path}`);
  }
  process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : `\n${renderText(results)}`);
}

/** `--render FILE`: the tables and docs section from a saved `--json` output, verdicts recomputed. */
function renderSaved(opts: BenchOptions): number {
  const text = readFileSync(opts.render!, 'utf8');
  const saved = JSON.parse(text.slice(text.indexOf('{'))) as Results;
  const streamsTarget = Number(saved.options.streams) || 5000;
  output({ ...saved, verdicts: verdicts(saved, streamsTarget) }, opts);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`bench:gateway: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.render !== null) return renderSaved(opts);
  checkTools();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-gateway-'));
  installCleanup(dir);
  const startedAt = new Date();
  const command = `npm run bench:gateway${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const failures: Failure[] = [];
  const quiet = await othersCpu(2000);
  log(`before the run, other processes used ${quiet.toFixed(0)}% of a core${quiet > 20 ? ' — the machine is busy; results will be pessimistic and noisy' : ''}`);
  let stack: Stack | null = null;
  let results: Results;
  try {
    stack = await startStack({ dir, targets: opts.targets, modes: opts.modes, log });
    failures.push(...stack.failures);
    const measured = await measureAll(stack, opts.modes, { ...opts, log }, failures);
    const preflight = stack.preflight;
    await stack.stop();
    stack = null;
    await sleep(500);
    const streams = opts.streams > 0 ? await runIdleStreams({ dir, n: opts.streams, targets: opts.targets.filter((t) => t === 'switchyard' || t === 'node-minimal' || (t === 'nginx' && opts.streamsNginx) || (t === 'portkey' && opts.streamsPortkey)), log }, failures) : [];
    const partial = { ...measured, streams, failures };
    results = {
      benchmark: 'gateway',
      date: startedAt.toISOString(),
      command,
      machine: machineInfo(),
      options: { ...opts },
      othersCpuBeforePct: quiet,
      preflight,
      max: measured.max,
      latency: measured.latency,
      commonRate: measured.commonRate,
      streams,
      verdicts: verdicts(partial, opts.streams || 5000),
      failures,
      leftovers: [],
    };
  } finally {
    if (stack) await stack.stop().catch(() => undefined);
  }
  await sleep(300);
  results.leftovers = leftovers();
  if (results.leftovers.length > 0) {
    failures.push({ target: 'switchyard', stage: 'teardown', message: `processes still alive after teardown: ${results.leftovers.join(', ')} (killed)` });
    killAll();
  }
  output(results, opts);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    killAll();
    process.stderr.write(`bench:gateway: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
