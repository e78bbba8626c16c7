/**
 * `npm run bench:sim`: how much streaming output one `switchyard worker sim` process can emit.
 *
 * For each --speedup in the sweep: spawn one worker, hold N streaming chat requests in flight,
 * measure output tok/s, latency, errors, and the worker's CPU; then find the speedup where output
 * stops growing (the worker's single thread is saturated). See bench/sim/report.ts for the output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBenchArgs, USAGE, type BenchOptions } from './args.js';
import { measurePoint, type PointResult } from './measure.js';
import { killAllWorkers, REPO_ROOT, workerArgs } from './proc.js';
import { renderSection, writeSection } from './doc.js';
import { findSaturation, heldAllStreams, interpretation, machineInfo, type MachineInfo, markdownTable } from './report.js';

const MODEL = 'bench-sim';

function installCleanup(): void {
  process.on('exit', killAllWorkers);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllWorkers();
      process.stderr.write(`bench:sim: ${sig}, workers killed\n`);
      process.exit(130);
    });
  }
}

async function sweep(opts: BenchOptions): Promise<PointResult[]> {
  const points: PointResult[] = [];
  for (const speedup of opts.speedups) {
    points.push(
      await measurePoint({
        speedup,
        concurrency: opts.concurrency,
        maxTokens: opts.maxTokens,
        maxNumSeqs: opts.maxNumSeqs,
        warmupMs: opts.warmupMs,
        maxWarmupMs: opts.maxWarmupMs,
        durationMs: opts.durationMs,
        model: MODEL,
        workerRoot: opts.workerRoot,
        log: (line) => process.stderr.write(`bench:sim: ${line}\n`),
      }),
    );
  }
  return points;
}

/** What `--json` prints, and what `--from-json` reads back. */
interface SavedRun {
  benchmark: 'sim';
  date: string;
  command: string;
  machine: MachineInfo;
  options: BenchOptions;
  saturation: ReturnType<typeof findSaturation>;
  heldAllStreams: boolean;
  points: PointResult[];
}

function loadSaved(path: string): SavedRun {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<SavedRun>;
  if (raw.benchmark !== 'sim' || !Array.isArray(raw.points) || !raw.options || !raw.machine || typeof raw.date !== 'string' || typeof raw.command !== 'string') {
    throw new Error(`${path} is not the --json output of bench:sim`);
  }
  return raw as SavedRun;
}

async function measure(opts: BenchOptions, argv: string[]): Promise<SavedRun> {
  installCleanup();
  const date = new Date().toISOString();
  const points = await sweep(opts);
  return {
    benchmark: 'sim',
    date,
    command: `npm run bench:sim${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    machine: machineInfo(),
    options: opts,
    saturation: findSaturation(points),
    heldAllStreams: heldAllStreams(points, opts.concurrency),
    points,
  };
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`bench:sim: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const run = opts.fromJson ? loadSaved(opts.fromJson) : await measure(opts, argv);
  const o = run.options;
  // Recomputed so that a re-render applies the current verdict rules.
  run.saturation = findSaturation(run.points);
  run.heldAllStreams = heldAllStreams(run.points, o.concurrency);

  if (opts.write) {
    const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
    const workerCommand = `node ${workerArgs({ speedup: 0, maxNumSeqs: o.maxNumSeqs, model: MODEL }).join(' ')}`;
    writeSection(path, renderSection({ points: run.points, concurrency: o.concurrency, command: run.command, workerCommand, durationMs: o.durationMs, warmupMs: o.warmupMs, maxTokens: o.maxTokens, date: new Date(run.date), machine: run.machine }));
    process.stderr.write(`bench:sim: wrote ${path}\n`);
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${markdownTable(run.points)}\n\n${interpretation(run.points, o.concurrency)}\n`);
  }
  return run.heldAllStreams ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    killAllWorkers();
    process.stderr.write(`bench:sim: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
