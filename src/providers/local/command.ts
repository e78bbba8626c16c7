/**
 * Command rendering for local replicas: a pure function from a DeploymentTarget (plus the port and
 * replica index the provider chose) to an argv. No shell is involved anywhere: templates are
 * tokenized here (whitespace-separated, with '...' and "..." quoting and backslash escapes) and
 * placeholders are substituted inside each token, so a value with spaces stays one argument.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localModelPath } from '../../api/index.js';
import { SwitchyardError } from '../../core/index.js';
import type { DeploymentTarget } from '../types.js';

/** What the provider decided for one replica process, besides the target. */
export interface RenderContext {
  readonly port: number;
  readonly replica: number;
  /** How to run `switchyard` itself (runtime `sim`), e.g. `[process.execPath, '/abs/bin/switchyard.js']`. */
  readonly switchyardBin: readonly string[];
  /**
   * Directory for the replica's KV-event sockets (runtime `sim`: ZMQ over ipc://, named by port,
   * so no second port has to be found and an adopted replica's endpoints are known from its argv).
   */
  readonly kvEventsDir?: string;
}

/** Where a replica publishes vLLM KV events (ZMQ PUB) and answers replay requests (ROUTER). */
export interface KvEventEndpoints {
  readonly endpoint: string;
  readonly replayEndpoint: string;
}

/** Unix socket paths are limited to ~107 bytes: long data directories fall back to the temp dir. */
const MAX_IPC_PATH = 100;

/** The ipc:// endpoints of the replica on `port` (unique among live replicas, so are the paths). */
export function kvEventEndpoints(dir: string, port: number): KvEventEndpoints {
  const base = join(dir, `kv-${port}`);
  const path = base.length + 8 <= MAX_IPC_PATH ? base : join(tmpdir(), `switchyard-kv-${port}`);
  return { endpoint: `ipc://${path}.pub`, replayEndpoint: `ipc://${path}.replay` };
}

/** The KV-event endpoints named in a replica's argv (`--kv-events-endpoint`, `--kv-events-replay-endpoint`). */
export function kvEventsFromArgv(argv: readonly string[]): KvEventEndpoints | undefined {
  const at = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const endpoint = at('--kv-events-endpoint');
  const replayEndpoint = at('--kv-events-replay-endpoint');
  return endpoint !== undefined && replayEndpoint !== undefined ? { endpoint, replayEndpoint } : undefined;
}

/** Default templates of the runtimes that have one; optional flags are appended by `renderCommand`. */
export const DEFAULT_TEMPLATES = {
  vllm: 'vllm serve {model} --served-model-name {servedName} --host 127.0.0.1 --port {port} --tensor-parallel-size {tp}',
  sglang: 'python -m sglang.launch_server --model-path {model} --served-model-name {servedName} --host 127.0.0.1 --port {port} --tp {tp}',
} as const;

/** Placeholders a template may use. */
export const PLACEHOLDERS = ['model', 'servedName', 'port', 'tp', 'gpuCount', 'maxModelLen', 'replica', 'deployment'] as const;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The argv of one replica process. Precedence: `target.command` (any runtime) → the runtime's
 * default (`sim`, `vllm`, `sglang`) → error. `target.args` are always appended.
 * @throws SwitchyardError(invalid_config) naming the problem: a runtime that needs `command`,
 *   an unknown placeholder, a placeholder without a value, an unterminated quote.
 */
export function renderCommand(target: DeploymentTarget, ctx: RenderContext): string[] {
  const values = placeholderValues(target, ctx);
  if (target.command !== undefined && target.command.trim() !== '') {
    return [...renderTemplate(target.command, values), ...target.args];
  }
  switch (target.runtime) {
    case 'sim':
      return [...ctx.switchyardBin, ...simArgs(target, ctx), ...target.args];
    case 'vllm':
      return [
        ...renderTemplate(DEFAULT_TEMPLATES.vllm, values),
        ...(target.maxModelLen !== undefined ? ['--max-model-len', String(target.maxModelLen)] : []),
        ...(target.quantization !== undefined ? ['--quantization', target.quantization] : []),
        ...target.args,
      ];
    case 'sglang':
      return [
        ...renderTemplate(DEFAULT_TEMPLATES.sglang, values),
        ...(target.maxModelLen !== undefined ? ['--context-length', String(target.maxModelLen)] : []),
        ...(target.quantization !== undefined ? ['--quantization', target.quantization] : []),
        ...target.args,
      ];
    default:
      throw new SwitchyardError(
        'invalid_config',
        `the local provider needs 'command' for runtime '${target.runtime}' (deployment '${target.deployment}'): ` +
          `set spec.command to a template such as '<server binary> --model {model} --port {port}'`,
        { param: 'command' },
      );
  }
}

function simArgs(target: DeploymentTarget, ctx: RenderContext): string[] {
  const out = ['worker', 'sim', '--model', target.servedName, '--port', String(ctx.port), '--gpu', target.gpu.type];
  out.push('--tensor-parallel-size', String(target.tensorParallelSize));
  if (target.maxModelLen !== undefined) out.push('--max-model-len', String(target.maxModelLen));
  if (target.sim?.speedup !== undefined) out.push('--speedup', String(target.sim.speedup));
  if (target.sim?.networkDelayMs) out.push('--network-delay', `${target.sim.networkDelayMs}ms`);
  // A local model directory: simulate its tokenizer and chat template (the gateway uses the same).
  const local = localModelPath(target.model);
  if (local !== undefined) out.push('--tokenizer', local);
  if (ctx.kvEventsDir !== undefined) {
    const kv = kvEventEndpoints(ctx.kvEventsDir, ctx.port);
    out.push('--kv-events-endpoint', kv.endpoint, '--kv-events-replay-endpoint', kv.replayEndpoint);
  }
  out.push('--log-level', 'info');
  return out;
}

function placeholderValues(target: DeploymentTarget, ctx: RenderContext): Record<string, string | undefined> {
  return {
    model: target.model,
    servedName: target.servedName,
    port: String(ctx.port),
    tp: String(target.tensorParallelSize),
    gpuCount: String(target.gpu.count),
    maxModelLen: target.maxModelLen === undefined ? undefined : String(target.maxModelLen),
    replica: String(ctx.replica),
    deployment: target.deployment,
  };
}

/**
 * Tokenize `template` and substitute `{name}` placeholders in each token. Only `{identifier}`
 * is a placeholder; other braces (e.g. JavaScript in `node -e "..."`) are kept as they are.
 * @throws SwitchyardError(invalid_config) for an unknown placeholder or one without a value.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string | undefined>>): string[] {
  return tokenize(template).map((token) =>
    token.replace(PLACEHOLDER, (_match, name: string) => {
      if (!Object.prototype.hasOwnProperty.call(values, name)) {
        throw new SwitchyardError(
          'invalid_config',
          `command template: unknown placeholder {${name}}; known placeholders: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
          { param: 'command' },
        );
      }
      const value = values[name];
      if (value === undefined) {
        throw new SwitchyardError('invalid_config', `command template: placeholder {${name}} has no value; set ${name} on the function or remove it from the command`, {
          param: 'command',
        });
      }
      return value;
    }),
  );
}

/**
 * Split a command line into arguments without a shell: whitespace separates arguments; '...'
 * is literal; "..." allows \" and \\; a backslash outside quotes escapes the next character.
 * @throws SwitchyardError(invalid_config) on an unterminated quote.
 */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let inToken = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i]!;
      else current += c;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(current);
      current = '';
      inToken = false;
    } else {
      inToken = true;
      if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < line.length) current += line[++i]!;
      else current += c;
    }
  }
  if (quote !== null) throw new SwitchyardError('invalid_config', `command template: unterminated ${quote} quote in: ${line}`, { param: 'command' });
  if (inToken) out.push(current);
  return out;
}
