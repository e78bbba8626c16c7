import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, waitFor } from '../test-support.js';
import { matchesCommand, realProcessHost as host } from './process-host.js';

describe('matchesCommand', () => {
  it.each([
    { argv: ['/usr/bin/node', 'a.js', '--port', '1'], command: ['/usr/bin/node', 'a.js', '--port', '1'], ok: true },
    { argv: ['node', 'a.js'], command: ['/usr/bin/node', 'a.js'], ok: true },
    { argv: ['/usr/bin/python3', '/usr/local/bin/vllm', 'serve', 'm'], command: ['vllm', 'serve', 'm'], ok: true },
    { argv: ['/usr/bin/node', 'a.js', '--port', '2'], command: ['/usr/bin/node', 'a.js', '--port', '1'], ok: false },
    { argv: ['/usr/bin/python3', 'other', 'serve', 'm'], command: ['vllm', 'serve', 'm'], ok: false },
    { argv: ['node'], command: ['node', 'a.js'], ok: false },
  ])('$argv vs $command → $ok', ({ argv, command, ok }) => {
    expect(matchesCommand(argv, command)).toBe(ok);
  });
});

describe('realProcessHost', () => {
  it('freePort returns a bindable port', async () => {
    const port = await host.freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });

  it('spawns detached with output to the log file; isAlive checks identity; signal reaches the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-host-'));
    const logPath = join(dir, 'x.log');
    const argv = [process.execPath, '-e', "console.log('hello from child'); setInterval(() => {}, 1000)"];
    const startedAt = new Date().toISOString();
    const exits: (number | string | null)[] = [];
    const { pid } = await host.spawn({ argv, env: process.env, logPath, onExit: (code, signal) => exits.push(signal ?? code) });
    try {
      expect(host.isAlive(pid)).toBe(true);
      expect(host.isAlive(pid, { command: argv })).toBe(true);
      expect(host.isAlive(pid, { command: [process.execPath, '-e', 'other'] })).toBe(false);
      // A process that renamed itself is still recognised by its start time.
      expect(host.isAlive(pid, { command: ['renamed'], startedAt })).toBe(true);
      expect(host.isAlive(pid, { command: ['renamed'], startedAt: '2001-01-01T00:00:00Z' })).toBe(false);
      expect(host.findByIdentity({ command: argv, startedAt })).toBe(pid);
      await waitFor(() => readFileSync(logPath, 'utf8').includes('hello from child'));
      expect(readFileSync(logPath, 'utf8')).toMatch(/^\[switchyard\] .* starting: /);
      host.signal(pid, 'SIGTERM');
      await waitFor(() => !host.isAlive(pid));
      await waitFor(() => exits.length === 1);
      expect(exits).toEqual(['SIGTERM']);
    } finally {
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('spawning a missing command rejects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-host-'));
    try {
      await expect(host.spawn({ argv: ['/nonexistent/server-binary'], env: process.env, logPath: join(dir, 'x.log'), onExit: () => undefined })).rejects.toThrow(
        /cannot run '\/nonexistent\/server-binary'.*ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('isAlive is false for a pid that does not exist', () => {
    expect(host.isAlive(2 ** 22 + 12345)).toBe(false);
    expect(host.isAlive(-1)).toBe(false);
  });
});
