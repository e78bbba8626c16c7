/**
 * `npm run bench:sim`: how much streaming output one `switchyard worker sim` process can emit.
 *
 * For each --speedup in the sweep: spawn one worker, hold N streaming chat requests in flight,
 * measure output tok/s, latency, errors, and the worker's CPU; then find the speedup where output
 * stops growing (the worker's single thread is saturated). See bench/sim/report.ts for the output.
 */
import { join } from 'node:path';
import { parseBenchArgs, USAGE, type BenchOptions } from './args.js';
import { measurePoint, type PointResult } from './measure.js';
import { killAllWorkers, REPO_ROOT, workerArgs } from './proc.js';
import { renderSection, writeSection } from './doc.js';
import { findSaturation, heldAllStreams, interpretation, machineInfo, markdownTable } from './report.js';

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
  installCleanup();
  const startedAt = new Date();
  const command = `npm run bench:sim${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const points = await sweep(opts);
  const saturation = findSaturation(points);
  const held = heldAllStreams(points, opts.concurrency);
  const workerCommand = `node ${workerArgs({ speedup: 0, maxNumSeqs: opts.maxNumSeqs, model: MODEL }).join(' ')}`;

  if (opts.write) {
    const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
    writeSection(path, renderSection({ points, concurrency: opts.concurrency, command, workerCommand, durationMs: opts.durationMs, warmupMs: opts.warmupMs, maxTokens: opts.maxTokens, date: startedAt }));
    process.stderr.write(`bench:sim: wrote ${path}\n`);
  }
  if (opts.json) {
    const out = { benchmark: 'sim', date: startedAt.toISOString(), command, machine: machineInfo(), options: { ...opts }, saturation, heldAllStreams: held, points };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${markdownTable(points)}\n\n${interpretation(points, opts.concurrency)}\n`);
  }
  return held ? 0 : 1;
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
