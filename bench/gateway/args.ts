/** Command-line flags of `npm run bench:gateway -- [flags]`. */
import { parseArgs } from 'node:util';
import { MODES, type Mode } from './fixtures.js';
import { TARGETS, type TargetName } from './target.js';

export interface BenchOptions {
  json: boolean;
  write: boolean;
  /** Re-render from a saved `--json` output instead of measuring. */
  render: string | null;
  help: boolean;
  targets: TargetName[];
  modes: Mode[];
  /** wrk connection counts; with several, each target keeps its best. */
  connections: number[];
  wrkWarmupS: number;
  wrkDurationS: number;
  rateWarmupS: number;
  rateDurationS: number;
  /** Latency runs at this fraction of the measured maximum. */
  rateFraction: number;
  /** Also run Portkey at a fraction of its own maximum (with direct at the same rate): it cannot sustain the common rate. */
  ownRate: boolean;
  /** Concurrent idle streams for the memory test (0 = skip). */
  streams: number;
  /** Also hold the streams through nginx (default) and Portkey (opt-in: slow), for comparison. */
  streamsNginx: boolean;
  streamsPortkey: boolean;
}

export const USAGE = `Usage: npm run bench:gateway -- [flags]

Requests/s, added latency and streams held by the Switchyard gateway, against nginx proxy_pass,
the Portkey gateway and the upstream itself (a fixed nginx answer), on this machine.

  --json                 print the results as one JSON object (nothing else on stdout; use
                         npm run -s, so that npm does not print its own banner there)
  --write                rewrite the "Gateway overhead" section of docs/benchmarks.md
  --render FILE          do not measure: re-render the table (and with --write, the docs section)
                         from a results file saved with --json
  --targets LIST         comma list of ${TARGETS.join(',')} (default: all)
  --modes LIST           comma list of ${MODES.join(',')} (default: all)
  --connections LIST     wrk connections, comma list; best per target is kept (default 64)
  --wrk-warmup S         wrk warm-up run before each measurement (default 2)
  --duration S           wrk measurement (default 10)
  --rate-warmup S        constant-rate warm-up (default 1)
  --rate-duration S      constant-rate measurement (default 3)
  --rate-fraction F      latency runs at F x the maximum (default 0.5)
  --no-own-rate          skip the Portkey runs at F x its own maximum
  --streams N            concurrent idle streams for the memory test (default 5000, 0 = skip)
  --no-streams-nginx     do not hold the streams through nginx for comparison
  --streams-portkey      also hold them through Portkey (adds ~1 min)
  -h, --help
`;

function list<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T[] {
  if (value === undefined) return [...allowed];
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const i of items) if (!(allowed as readonly string[]).includes(i)) throw new Error(`${flag}: unknown value '${i}' (allowed: ${allowed.join(', ')})`);
  return items as T[];
}

function num(value: string | undefined, def: number, flag: string, min: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`${flag}: expected a number >= ${min}, got '${value}'`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      render: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      targets: { type: 'string' },
      modes: { type: 'string' },
      connections: { type: 'string' },
      'wrk-warmup': { type: 'string' },
      duration: { type: 'string' },
      'rate-warmup': { type: 'string' },
      'rate-duration': { type: 'string' },
      'rate-fraction': { type: 'string' },
      'no-own-rate': { type: 'boolean', default: false },
      streams: { type: 'string' },
      'no-streams-nginx': { type: 'boolean', default: false },
      'streams-portkey': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const targets = list(values.targets, TARGETS, '--targets');
  if (!targets.includes('direct')) targets.unshift('direct'); // the baseline for added latency
  const connections = (values.connections ?? '64').split(',').map((s) => num(s, 64, '--connections', 1));
  const rateFraction = num(values['rate-fraction'], 0.5, '--rate-fraction', 0.01);
  if (rateFraction > 1) throw new Error('--rate-fraction: must be at most 1');
  return {
    json: values.json,
    write: values.write,
    render: values.render ?? null,
    help: values.help,
    targets: TARGETS.filter((t) => targets.includes(t)),
    modes: list(values.modes, MODES, '--modes'),
    connections,
    wrkWarmupS: num(values['wrk-warmup'], 2, '--wrk-warmup', 0),
    wrkDurationS: num(values.duration, 10, '--duration', 1),
    rateWarmupS: num(values['rate-warmup'], 1, '--rate-warmup', 0),
    rateDurationS: num(values['rate-duration'], 3, '--rate-duration', 1),
    rateFraction,
    ownRate: !values['no-own-rate'],
    streams: Math.round(num(values.streams, 5000, '--streams', 0)),
    streamsNginx: !values['no-streams-nginx'],
    streamsPortkey: values['streams-portkey'],
  };
}
