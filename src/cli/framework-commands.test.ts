/** Every command registered in src/cli/commands has a valid spec and a working help screen. */
import { describe, expect, it } from 'vitest';
import { commands } from './commands/index.js';
import { validateCommand } from './framework.js';
import { runCliCaptured } from './framework-testing.js';

describe.each(commands.map((c) => [c.name, c] as const))('command %s', (name, cmd) => {
  it('has a valid spec', () => {
    expect(() => validateCommand(cmd)).not.toThrow();
  });

  it('prints help with its examples', async () => {
    const r = await runCliCaptured([...name.split(' '), '--help'], commands);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: switchyard ${name}`));
    for (const example of cmd.examples) expect(r.stdout).toContain(example);
  });

  it('is listed in switchyard --help', async () => {
    const r = await runCliCaptured(['--help'], commands);
    expect(r.stdout).toContain(cmd.summary);
  });
});
