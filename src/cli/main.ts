/** Entry point of the `switchyard` binary (bin/switchyard.js): argv in, exit code out. */
import { commands } from './commands/index.js';
import { runCli } from './framework.js';

export async function main(argv: string[]): Promise<number> {
  return runCli(argv, commands);
}
