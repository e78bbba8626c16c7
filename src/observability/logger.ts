/**
 * Structured logging (pino).
 *
 * JSON lines by default: `{"level":"info","time":"2026-01-01T00:00:00.000Z","name":"gateway","msg":"listening","port":8080}`.
 * With `pretty`, lines are rendered by pino-pretty *in-process and synchronously* (its
 * prettyFactory, not a worker-thread transport), so it works under tsx and exits cleanly.
 */
import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { SwitchyardError } from '../core/index.js';

export type Logger = PinoLogger;

/** Log levels, most verbose first; `silent` disables logging. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Paths whose values are replaced by '[redacted]' in every log line. */
export const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'api_key',
  'token',
  'password',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.password',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
];

export interface LoggerOptions {
  /** Component name, in every line as `name`. */
  name: string;
  /** Minimum level; default `$SWITCHYARD_LOG_LEVEL`, else 'info'. */
  level?: string;
  /** Human-readable lines; default: whether stdout is a TTY. */
  pretty?: boolean;
  /** Where lines go; default stdout (written synchronously, so nothing is lost on exit). */
  destination?: NodeJS.WritableStream;
  /** Fields added to every line. */
  bindings?: Record<string, unknown>;
  /** Environment to read SWITCHYARD_LOG_LEVEL / NO_COLOR from; default process.env. */
  env?: Record<string, string | undefined>;
}

/** Create a logger. @throws SwitchyardError(invalid_argument) for an unknown level. */
export function createLogger(opts: LoggerOptions): Logger {
  const env = opts.env ?? process.env;
  const level = resolveLevel(opts.level, env);
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const target: NodeJS.WritableStream | undefined = opts.destination;

  let stream: DestinationStream;
  if (pretty) {
    const out = target ?? process.stdout;
    const colorize = target === undefined && Boolean(process.stdout.isTTY) && env['NO_COLOR'] === undefined;
    const render = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
    stream = { write: (line: string) => void out.write(render(line)) };
  } else {
    stream = target ?? pino.destination({ dest: 1, sync: true });
  }

  const logger = pino(
    {
      name: opts.name,
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    stream,
  );
  return opts.bindings ? logger.child(opts.bindings) : logger;
}

/** A logger that drops everything (for tests and library defaults). */
export function createNullLogger(name = 'null'): Logger {
  return pino({ name, level: 'silent' });
}

function resolveLevel(given: string | undefined, env: Record<string, string | undefined>): LogLevel {
  const fromEnv = env['SWITCHYARD_LOG_LEVEL'];
  const raw = (given ?? (fromEnv === undefined || fromEnv === '' ? 'info' : fromEnv)).trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  const where = given === undefined ? 'SWITCHYARD_LOG_LEVEL' : 'log level';
  throw new SwitchyardError('invalid_argument', `${where}: '${raw}' is not a log level; use one of ${LOG_LEVELS.join(', ')}`, { param: where });
}
