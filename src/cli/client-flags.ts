/**
 * Flags and error handling shared by the commands that talk to a Switchyard server.
 *
 *   flags: { ...clientFlags, output: {...} },
 *   run: ({ flags, io }) => withClient(flags, io, async (client) => { ... }),
 *
 * Server errors print as `error: <message>` (the server's multi-line validation messages
 * unchanged) and exit 1; an unreachable server prints "cannot reach ..." and exits 1. Usage
 * errors (UsageError) still go to the framework (exit 2).
 */
import os from 'node:os';
import { SwitchyardClient, resolveKind, KIND_NAMES, KINDS, type Kind } from '../api/index.js';
import { isSwitchyardError } from '../core/index.js';
import { ExitCode, UsageError, type CliIO } from './framework.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export const clientFlags = {
  server: { type: 'string', env: 'SWITCHYARD_SERVER', default: DEFAULT_SERVER, description: 'Switchyard server (control plane) URL', placeholder: 'url' },
  token: { type: 'string', env: 'SWITCHYARD_TOKEN', description: 'Admin API token (sent as a Bearer token)', placeholder: 'token' },
  user: { type: 'string', env: 'SWITCHYARD_USER', description: 'Name recorded as the author of changes (default: your login name)', placeholder: 'name' },
} as const;

/** `-o/--output`: one of `values`, the first being the default ('Output format: table, yaml or json'). */
export function outputFlag<const V extends readonly [string, ...string[]]>(values: V) {
  const names = values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : values[0];
  return { type: 'enum', values, default: values[0], short: 'o', description: `Output format: ${names}` } as const;
}

export interface ClientFlagValues {
  server: string;
  token?: string | undefined;
  user?: string | undefined;
}

/** The login name, or $USER, or 'unknown' (os.userInfo() throws without a passwd entry, e.g. in containers). */
export function defaultUser(env: Record<string, string | undefined> = process.env): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // fall through
  }
  return env['USER'] || env['USERNAME'] || 'unknown';
}

/** `host:port` → `http://host:port`; anything else that is not an http(s) URL is a UsageError naming `flag`. */
export function serverUrl(raw: string, flag = '--server'): string {
  const server = raw.trim();
  if (/^https?:\/\/[^/\s]+/i.test(server)) return server;
  if (/^[\w.-]+(:\d+)?(\/\S*)?$/.test(server)) return `http://${server}`;
  throw new UsageError(`${flag} '${raw}' is not a URL; use e.g. ${DEFAULT_SERVER}`, flag);
}

export function createClient(flags: ClientFlagValues, env: Record<string, string | undefined> = {}): SwitchyardClient {
  return new SwitchyardClient({ server: serverUrl(flags.server), token: flags.token || undefined, user: flags.user || defaultUser({ ...process.env, ...env }) });
}

/**
 * Run `fn` with a client; server and connection errors print as `error: <message>` and return 1.
 * The client is closed afterwards.
 */
export async function withClient(flags: ClientFlagValues, io: CliIO, fn: (client: SwitchyardClient) => Promise<number | void>): Promise<number> {
  const client = createClient(flags, io.env);
  try {
    const code = await fn(client);
    return typeof code === 'number' ? code : ExitCode.ok;
  } catch (e) {
    if (e instanceof UsageError || !isSwitchyardError(e)) throw e;
    printError(io, e.message);
    return ExitCode.error;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** `error: <message>\n`, the message as is (multi-line server messages stay readable and greppable). */
export function printError(io: CliIO, message: string): void {
  io.stderr(`error: ${message}${message.endsWith('\n') ? '' : '\n'}`);
}

/** A kind name or alias → Kind. @throws UsageError listing the kinds and their aliases. */
export function kindArg(text: string): Kind {
  const kind = resolveKind(text);
  if (kind) return kind;
  const valid = KIND_NAMES.map((k) => `${k.toLowerCase()} (${KINDS[k].aliases.filter((a) => a !== k.toLowerCase()).join(', ')})`).join('; ');
  throw new UsageError(`unknown resource kind '${text}'; valid kinds: ${valid}`, 'kind');
}

/**
 * `function/llama`, `function llama` or (with `allowList`) just `function`: the kind and the
 * name (if any) from the positionals. @throws UsageError.
 */
export function kindAndName(positionals: readonly string[], opts: { allowList?: boolean; what?: string } = {}): { kind: Kind; name?: string } {
  const [first, second, ...extra] = positionals;
  const what = opts.what ?? 'KIND/NAME';
  if (first === undefined) throw new UsageError(`missing ${what}, e.g. 'function/llama-8b'`);
  let kindText = first;
  let name = second;
  const slash = first.indexOf('/');
  if (slash >= 0) {
    kindText = first.slice(0, slash);
    name = first.slice(slash + 1);
    if (second !== undefined) throw new UsageError(`unexpected argument '${second}' after '${first}'`, second);
    if (name === '') throw new UsageError(`missing the name after '${kindText}/'`, first);
  } else if (extra.length > 0) {
    throw new UsageError(`unexpected argument '${extra[0]}'`, extra[0]);
  }
  const kind = kindArg(kindText);
  if (name === undefined && !opts.allowList) throw new UsageError(`missing the ${kind} name: use '${kind.toLowerCase()}/NAME' or '${kind.toLowerCase()} NAME'`);
  return name === undefined ? { kind } : { kind, name };
}

/** `function/llama-8b`: how resources are named in command output. */
export function ref(kind: Kind, name: string): string {
  return `${kind.toLowerCase()}/${name}`;
}
