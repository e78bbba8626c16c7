import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { tinyTraceRows, toJsonl } from './test-traces.js';
import { loadMooncakeTrace, parseMooncakeTrace, prepareTrace } from './trace.js';

const FIXTURE = new URL('./testdata/tiny_trace.jsonl', import.meta.url);

function errorOf(f: () => unknown): SwitchyardError {
  try {
    f();
  } catch (e) {
    if (e instanceof SwitchyardError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseMooncakeTrace: good lines', () => {
  it('parses Mooncake rows, skips blank lines, keeps line numbers and optional session ids', () => {
    const text = [
      '{"timestamp": 0, "input_length": 6755, "output_length": 500, "hash_ids": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}',
      '',
      '{"timestamp": 27.5, "input_length": 13, "output_length": 1, "hash_ids": [46], "session_id": "chat-1", "extra": true}',
      '{"timestamp":30,"input_length":8,"output_length":2,"hash_ids":[],"session_id":42}',
    ].join('\n');
    const rows = parseMooncakeTrace(text);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ index: 0, line: 1, timestampMs: 0, inputLength: 6755, outputLength: 500, hashIds: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13'] });
    expect(rows[1]).toMatchObject({ index: 1, line: 3, timestampMs: 27.5, hashIds: ['46'], sessionId: 'chat-1' });
    expect(rows[2]).toMatchObject({ index: 2, line: 4, hashIds: [], sessionId: '42' });
  });

  it('sorts rows by timestamp (stable) and re-indexes them', () => {
    const rows = parseMooncakeTrace(['{"timestamp":5,"input_length":1,"output_length":1,"hash_ids":[1]}', '{"timestamp":1,"input_length":1,"output_length":1,"hash_ids":[2]}', '{"timestamp":5,"input_length":1,"output_length":1,"hash_ids":[3]}'].join('\n'));
    expect(rows.map((r) => [r.index, r.line, r.hashIds[0]])).toEqual([
      [0, 2, '2'],
      [1, 1, '1'],
      [2, 3, '3'],
    ]);
  });

  it('keeps hash ids above 2^53 exact (Dynamo traces), as numbers or strings, up to 2^64 − 1', () => {
    const line = '{"timestamp":0,"input_length":1024,"output_length":1,"hash_ids":[9007199254740993, 18446744073709551615, "13761487376996030303", 7]}';
    const [r] = parseMooncakeTrace(line);
    expect(r!.hashIds).toEqual(['9007199254740993', '18446744073709551615', '13761487376996030303', '7']);
    expect(JSON.parse(line).hash_ids[0]).toBe(9007199254740992); // what JSON.parse alone would give
  });

  it('loads the CLI fixture, which the test-trace generator reproduces byte for byte', async () => {
    expect(readFileSync(FIXTURE, 'utf8')).toBe(toJsonl(tinyTraceRows()));
    const rows = await loadMooncakeTrace(FIXTURE.pathname);
    expect(rows).toHaveLength(40);
    expect(rows[0]).toMatchObject({ line: 1, inputLength: 2460, outputLength: 6 });
  });
});

describe('parseMooncakeTrace: bad lines name the line', () => {
  const good = '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[1]}';
  const cases: [string, string, RegExp][] = [
    ['invalid JSON', '{"timestamp":0,', /^t\.jsonl:2: not valid JSON/],
    ['not an object', '[1,2]', /^t\.jsonl:2: expected a JSON object per line$/],
    ['negative timestamp', '{"timestamp":-1,"input_length":8,"output_length":2,"hash_ids":[1]}', /^t\.jsonl:2: timestamp must be a number of ms >= 0, got -1$/],
    ['missing input_length', '{"timestamp":0,"output_length":2,"hash_ids":[1]}', /^t\.jsonl:2: input_length must be an integer >= 1, got nothing$/],
    ['zero output_length', '{"timestamp":0,"input_length":8,"output_length":0,"hash_ids":[1]}', /^t\.jsonl:2: output_length must be an integer >= 1, got 0$/],
    ['fractional length', '{"timestamp":0,"input_length":8.5,"output_length":2,"hash_ids":[1]}', /input_length must be an integer >= 1, got 8\.5/],
    ['missing hash_ids', '{"timestamp":0,"input_length":8,"output_length":2}', /^t\.jsonl:2: missing hash_ids/],
    ['hash_ids not an array', '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":"1,2"}', /hash_ids must be an array/],
    ['negative hash id', '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[1,-2]}', /^t\.jsonl:2: hash_ids\[1\] must be a non-negative integer, got -2$/],
    ['float hash id', '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[1.5]}', /hash_ids\[0\] must be a non-negative integer, got 1\.5/],
    ['huge float hash id', '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[1e300]}', /hash_ids\[0\] must be a non-negative integer, got 1e300/],
    ['hash id beyond 64 bits', '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[18446744073709551616]}', /hash_ids\[0\] does not fit in 64 bits/],
    ['bad session id', '{"timestamp":0,"input_length":8,"output_length":2,"hash_ids":[1],"session_id":{}}', /session_id must be a string or a number/],
  ];
  it.each(cases)('%s', (_name, bad, message) => {
    const e = errorOf(() => parseMooncakeTrace(`${good}\n${bad}\n${good}\n`, { source: 't.jsonl' }));
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toMatch(message);
    expect(e.detail).toEqual({ line: 2 });
  });

  it('rejects an empty trace and a missing file', async () => {
    expect(errorOf(() => parseMooncakeTrace('\n\n', { source: 'e.jsonl' })).message).toBe('e.jsonl: the trace has no requests');
    await expect(loadMooncakeTrace('/nonexistent/trace.jsonl')).rejects.toThrow('cannot read trace /nonexistent/trace.jsonl: no such file');
  });
});

describe('prepareTrace', () => {
  const rows = parseMooncakeTrace([0, 100, 200, 300].map((t, i) => `{"timestamp":${t},"input_length":8,"output_length":2,"hash_ids":[${i}]}`).join('\n'));

  it('--limit keeps the first N; --rate-scale multiplies arrival times', () => {
    const p = prepareTrace(rows, { limit: 3, rateScale: 0.5 });
    expect(p.map((r) => [r.index, r.timestampMs])).toEqual([
      [0, 0],
      [1, 50],
      [2, 100],
    ]);
    expect(prepareTrace(rows)).toHaveLength(4);
  });

  it('rejects a non-positive scale or limit', () => {
    expect(() => prepareTrace(rows, { rateScale: 0 })).toThrow('rate scale must be a positive number');
    expect(() => prepareTrace(rows, { limit: 0 })).toThrow('limit must be an integer >= 1');
  });
});
