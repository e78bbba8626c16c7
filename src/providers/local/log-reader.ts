/**
 * Reading a replica's log file as lines: all of it or the last N lines, then (with `follow`) new
 * lines as they are appended, polled on the Clock until the signal aborts. A file that shrank
 * (truncated) or was replaced (new inode) is read again from its start.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Clock } from '../../core/index.js';
import type { LogOptions } from '../types.js';

const CHUNK = 64 * 1024;

/** Options of `readLogLines` beyond the Provider's LogOptions. */
export interface LogReadOptions extends LogOptions {
  readonly clock: Clock;
  /** Poll interval while following (default 200 ms). */
  readonly pollMs?: number;
}

/** Yield the lines of `path` (without newlines). A missing file reads as empty (and is waited for when following). */
export async function* readLogLines(path: string, opts: LogReadOptions): AsyncGenerator<string> {
  const { signal, clock } = opts;
  let offset = 0;
  let partial = '';
  let first = true;
  let inode: number | undefined;
  for (;;) {
    if (signal?.aborted) return;
    const { size, ino } = fileInfo(path);
    if (size < offset || (inode !== undefined && ino !== inode)) {
      offset = 0; // truncated or replaced
      partial = '';
    }
    inode = ino;
    if (first && opts.tail !== undefined) {
      offset = tailOffset(path, size, opts.tail);
    }
    first = false;
    if (size > offset) {
      const text = partial + readRange(path, offset, size);
      offset = size;
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    if (!opts.follow) {
      if (partial !== '') yield partial;
      return;
    }
    await sleep(clock, opts.pollMs ?? 200, signal);
  }
}

function fileInfo(path: string): { size: number; ino: number | undefined } {
  try {
    const st = statSync(path);
    return { size: st.size, ino: st.ino };
  } catch {
    return { size: 0, ino: undefined };
  }
}

function readRange(path: string, start: number, end: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, end - start));
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, start + n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Byte offset where the last `lines` complete-or-partial lines of the first `size` bytes begin. */
function tailOffset(path: string, size: number, lines: number): number {
  if (lines <= 0 || size === 0) return size;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    const limit = Math.min(size, fstatSync(fd).size);
    let pos = limit;
    // A trailing newline ends the last line; it does not start another.
    let newlines = 0;
    let skipTrailing = true;
    const buf = Buffer.alloc(CHUNK);
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const n = readSync(fd, buf, 0, pos - start, start);
      for (let i = n - 1; i >= 0; i--) {
        if (buf[i] !== 0x0a) {
          skipTrailing = false;
          continue;
        }
        if (skipTrailing) {
          skipTrailing = false;
          continue;
        }
        if (++newlines === lines) return start + i + 1;
      }
      pos = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

async function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
