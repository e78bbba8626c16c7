/** Command-line flags of `npm run bench:sim -- [flags]`. */
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Streaming requests kept in flight (closed loop). */
  concurrency: number;
  /** Worker --speedup values, one fresh worker per value. */
  speedups: number[];
  /** Measured window per speedup, ms. */
  durationMs: number;
  /** Minimum warm-up before each window, ms; it also waits until every stream produced a token. */
  warmupMs: number;
  /** Cap on the warm-up, ms. */
  maxWarmupMs: number;
  /** max_tokens of every request after the ramp. */
  maxTokens: number;
  /** Worker --max-num-seqs. */
  maxNumSeqs: number;
  /** Checkout whose bin/switchyard.js runs the worker (default: this repository). */
  workerRoot: string | null;
  /** Re-render a previous `--json` output instead of measuring. */
  fromJson: string | null;
  json: boolean;
  write: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run bench:sim -- [flags]

Spawns one \`switchyard worker sim\` per speedup and keeps N streaming chat requests in flight
against it (closed loop) for a measured window; reports output tokens/s, latency, errors and the
worker's CPU use.

Flags:
  --concurrency <n>     streams kept in flight (default 500)
  --speedups <list>     comma-separated --speedup values (default 1,10,100,1000)
  --duration <dur>      measured window per speedup, e.g. 15s, 9000ms (default 15s)
  --warmup <dur>        minimum warm-up before each window; it also lasts until every stream has
                        produced a token, plus 1 s (default 3s)
  --max-warmup <dur>    measure anyway after this much warm-up (default 30s)
  --max-tokens <n>      max_tokens per request (default 128)
  --max-num-seqs <n>    worker --max-num-seqs (default 1024)
  --worker-root <dir>   run the worker from another checkout's bin/switchyard.js (default: this one)
  --from-json <file>    do not measure: re-render the table, paragraph and (with --write) the docs
                        section from a file saved from --json
  --json                print one JSON object on stdout and nothing else (use npm run -s)
  --write               rewrite the "## Simulated worker (bench/sim)" section of docs/benchmarks.md
  -h, --help            show this help
`;

/** '15s' | '1500ms' | '2m' | '15' (seconds) → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration '${text}' (expected e.g. 15s, 1500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000);
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${text}'`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      concurrency: { type: 'string', default: '500' },
      speedups: { type: 'string', default: '1,10,100,1000' },
      duration: { type: 'string', default: '15s' },
      warmup: { type: 'string', default: '3s' },
      'max-warmup': { type: 'string', default: '30s' },
      'max-tokens': { type: 'string', default: '128' },
      'max-num-seqs': { type: 'string', default: '1024' },
      'worker-root': { type: 'string' },
      'from-json': { type: 'string' },
      json: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const speedups = values.speedups.split(',').map((s) => {
    const n = Number(s.trim());
    if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--speedups: '${s}' is not a positive number`);
    return n;
  });
  const durationMs = parseDuration(values.duration);
  if (durationMs < 1000) throw new Error('--duration must be at least 1s');
  return {
    concurrency: positiveInt('concurrency', values.concurrency),
    speedups,
    durationMs,
    warmupMs: parseDuration(values.warmup),
    maxWarmupMs: parseDuration(values['max-warmup']),
    maxTokens: positiveInt('max-tokens', values['max-tokens']),
    maxNumSeqs: positiveInt('max-num-seqs', values['max-num-seqs']),
    workerRoot: values['worker-root'] ?? null,
    fromJson: values['from-json'] ?? null,
    json: values.json,
    write: values.write,
    help: values.help,
  };
}
