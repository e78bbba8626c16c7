import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChunkReader } from './respond.js';

type Script = (s: PassThrough) => void;

/** What a consumer sees: chunks, then 'end' or the error (code and message). */
async function viaForAwait(script: Script): Promise<string[]> {
  const s = new PassThrough();
  const seen: string[] = [];
  setImmediate(() => script(s));
  try {
    for await (const c of s as AsyncIterable<Buffer>) seen.push(c.toString());
    seen.push('end');
  } catch (e) {
    const err = e as { code?: string; message?: string };
    seen.push(`error ${err.code}: ${err.message}`);
  }
  seen.push(`destroyed ${s.destroyed}`);
  return seen;
}

async function viaReader(script: Script): Promise<string[]> {
  const s = new PassThrough();
  const seen: string[] = [];
  setImmediate(() => script(s));
  const r = new ChunkReader(s);
  try {
    for (;;) {
      const c = r.read();
      if (c === undefined) {
        await r.wait();
        continue;
      }
      if (c === null) break;
      seen.push(c.toString());
    }
    s.destroy();
    seen.push('end');
  } catch (e) {
    const err = e as { code?: string; message?: string };
    seen.push(`error ${err.code}: ${err.message}`);
    s.destroy();
  }
  seen.push(`destroyed ${s.destroyed}`);
  return seen;
}

const later = (f: () => void, ms = 5) => setTimeout(f, ms);

const SCRIPTS: Record<string, Script> = {
  'chunks then end': (s) => {
    s.write('a');
    later(() => {
      s.write('b');
      s.end('c');
    });
  },
  'end at once': (s) => s.end(),
  'error mid-stream': (s) => {
    s.write('a');
    later(() => s.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
  },
  'destroyed without an error (premature close)': (s) => {
    s.write('a');
    later(() => s.destroy());
  },
  'error before any data': (s) => s.destroy(new Error('boom')),
};

describe('ChunkReader', () => {
  for (const [name, script] of Object.entries(SCRIPTS)) {
    it(`sees what for await sees: ${name}`, async () => {
      expect(await viaReader(script)).toEqual(await viaForAwait(script));
    });
  }

  it('reads data already buffered before it was created', async () => {
    const s = Readable.from([Buffer.from('x'), Buffer.from('y')], { objectMode: false });
    await new Promise((r) => setImmediate(r));
    const r = new ChunkReader(s);
    const got: string[] = [];
    for (;;) {
      const c = r.read();
      if (c === undefined) {
        await r.wait();
        continue;
      }
      if (c === null) break;
      got.push(c.toString());
    }
    expect(got.join('')).toBe('xy');
  });
});
