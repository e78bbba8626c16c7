import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../core/index.js';
import { waitFor } from '../test-support.js';
import { readLogLines } from './log-reader.js';

let dir: string;
let file: string;
const clock = new RealClock();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-logs-'));
  file = join(dir, '0.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe('readLogLines', () => {
  it('reads every line, a partial last line included', async () => {
    writeFileSync(file, 'one\ntwo\r\nthree');
    expect(await collect(readLogLines(file, { clock }))).toEqual(['one', 'two', 'three']);
  });

  it.each([
    [0, []],
    [1, ['c']],
    [2, ['b', 'c']],
    [5, ['a', 'b', 'c']],
  ])('tail %i', async (tail, lines) => {
    writeFileSync(file, 'a\nb\nc\n');
    expect(await collect(readLogLines(file, { clock, tail }))).toEqual(lines);
  });

  it('tail works across read chunks', async () => {
    writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(await collect(readLogLines(file, { clock, tail: 3 }))).toEqual(['line 19997', 'line 19998', 'line 19999']);
  });

  it('a missing file reads as empty', async () => {
    expect(await collect(readLogLines(join(dir, 'none.log'), { clock }))).toEqual([]);
  });

  it('follow streams appended lines (whole lines only) until the signal aborts, and survives truncation', async () => {
    writeFileSync(file, 'old\n');
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const l of readLogLines(file, { clock, follow: true, pollMs: 10, signal: ac.signal })) seen.push(l);
    })();
    await waitFor(() => seen.length === 1);
    appendFileSync(file, 'new 1\nnew ');
    await waitFor(() => seen.length === 2);
    appendFileSync(file, '2\n');
    await waitFor(() => seen.length === 3);
    writeFileSync(file, 'cut\n');
    await waitFor(() => seen.length === 4);
    ac.abort();
    await done;
    expect(seen).toEqual(['old', 'new 1', 'new 2', 'cut']);
  });
});
