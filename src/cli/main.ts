/** Entry point of the `switchyard` binary (bin/switchyard.js): argv in, exit code out. */
import type { AnyCommand } from './framework.js';
import { runCli } from './framework.js';

/**
 * Long-running data-plane commands whose module is loaded alone when they are the command run,
 * so that their process does not load every other command's dependencies (the simulator's
 * tokenizer and chat templates, ZMQ, …): memory and start-up time of a gateway. Only for leaf
 * commands (no `gateway <sub>` command exists); help listings still load the whole list.
 */
const STANDALONE = new Map<string, () => Promise<AnyCommand>>([['gateway', async () => (await import('./commands/gateway.js')).gatewayCommand]]);

export async function main(argv: string[]): Promise<number> {
  const standalone = argv[0] === undefined ? undefined : STANDALONE.get(argv[0]);
  const commands = standalone ? [await standalone()] : (await import('./commands/index.js')).commands;
  return runCli(argv, commands);
}
