/** The real binary: bin/switchyard.js → tsx → src/cli/main.ts. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function switchyard(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, SWITCHYARD_DEBUG: '', NO_COLOR: '1' },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bin/switchyard.js', () => {
  it('--help lists commands and exits 0', () => {
    const r = switchyard('--help');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`switchyard ${pkg.version}`);
    expect(r.stdout).toMatch(/Commands:\n(?: {2}\S+ +.+\n)* {2}version +Print version information/);
  });

  it('--version prints the package version and exits 0', () => {
    const r = switchyard('--version');
    expect(r).toEqual({ code: 0, stdout: `switchyard ${pkg.version}\n`, stderr: '' });
  });

  it('an unknown command exits 2 with a suggestion', () => {
    const r = switchyard('verison');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("switchyard: unknown command 'verison' — did you mean 'version'?\nRun 'switchyard --help' for a list of commands.\n");
  });

  it('an unknown flag exits 2', () => {
    const r = switchyard('version', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("switchyard version: unknown flag --bogus\nRun 'switchyard version --help' for usage.\n");
  });
});
