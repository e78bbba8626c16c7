import { describe, expect, it } from 'vitest';
import { StopChecker } from './stop-checker.js';

function run(stops: string[], pieces: string[], include = false) {
  const c = new StopChecker(stops, include);
  let out = '';
  let stopped = false;
  for (const p of pieces) {
    const r = c.feed(p);
    out += r.emit;
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) out += c.flush();
  return { out, stopped };
}

describe('StopChecker', () => {
  it.each([
    { stops: [], pieces: ['a', 'b'], out: 'ab', stopped: false },
    { stops: ['END'], pieces: ['hello ', 'EN', 'D more'], out: 'hello ', stopped: true },
    { stops: ['END'], pieces: ['hello ', 'EN', 'X'], out: 'hello ENX', stopped: false },
    { stops: ['\n\n', '.'], pieces: [' the', ' cat', '.', ' more'], out: ' the cat', stopped: true },
    { stops: ['abc', 'b'], pieces: ['xab', 'c'], out: 'xa', stopped: true },
    { stops: ['END'], pieces: ['xEND'], out: 'xEND', stopped: true, include: true },
  ])('$stops over $pieces → $out', ({ stops, pieces, out, stopped, include }) => {
    expect(run(stops, pieces, include)).toEqual({ out, stopped });
  });

  it('never emits a partial stop string while it could still complete', () => {
    const c = new StopChecker(['STOP']);
    expect(c.feed('aS').emit).toBe('a');
    expect(c.feed('T').emit).toBe('');
    expect(c.feed('O').emit).toBe('');
    expect(c.feed('P')).toEqual({ emit: '', stopped: true });
  });
});
