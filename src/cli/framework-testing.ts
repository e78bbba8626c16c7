/**
 * Running commands in tests: runCli with captured stdout/stderr, a fixed env, a fake signal
 * source (emit 'SIGINT' on it to interrupt), and a recorded exit instead of process.exit.
 *
 *   const r = await runCliCaptured(['worker', 'sim', '--port', 'x'], commands);
 *   expect(r.code).toBe(2); expect(r.stderr).toContain("invalid value 'x' for --port");
 */
import { EventEmitter } from 'node:events';
import { runCli } from './framework.js';
import type { RunCliOptions } from './framework.js';
import type { AnyCommand } from './framework-types.js';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Codes passed to exit() (a second signal forces exit(130)). */
  exits: number[];
}

export interface CaptureOptions extends RunCliOptions {
  env?: Record<string, string | undefined>;
  isTTY?: boolean;
  /** Pass one to emit signals during the run; a fresh one is used otherwise. */
  signalSource?: EventEmitter;
}

export async function runCliCaptured(argv: readonly string[], commands: readonly AnyCommand[], options: CaptureOptions = {}): Promise<CapturedRun> {
  const result: CapturedRun = { code: -1, stdout: '', stderr: '', exits: [] };
  const { env = {}, isTTY = false, signalSource = new EventEmitter(), ...rest } = options;
  result.code = await runCli(
    argv,
    commands,
    { stdout: (s) => (result.stdout += s), stderr: (s) => (result.stderr += s), env, isTTY },
    { exit: (code) => void result.exits.push(code), ...rest, signalSource },
  );
  return result;
}
