import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../core/index.js';
import { createLogger, createNullLogger } from './index.js';
import type { LoggerOptions } from './index.js';

function capture(opts: Partial<LoggerOptions> = {}) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ name: 'gateway', pretty: false, env: {}, destination, ...opts });
  return { logger, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes JSON lines with time, label level, name, msg and bindings', () => {
    const { logger, lines } = capture({ bindings: { cluster: 'eu-1' } });
    logger.child({ backend: 'b1' }).info({ port: 8080 }, 'listening');
    const [line] = lines();
    expect(line).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown, name: 'gateway', cluster: 'eu-1', backend: 'b1', port: 8080, msg: 'listening' });
  });

  it('redacts secrets', () => {
    const { logger, lines } = capture();
    logger.info({ authorization: 'Bearer a', apiKey: 'b', api_key: 'c', token: 'd', req: { authorization: 'e', token: 'f' }, headers: { authorization: 'g', 'x-api-key': 'h', accept: '*/*' } }, 'req');
    const line = lines()[0]!;
    expect(JSON.stringify(line)).not.toMatch(/Bearer a|"[b-h]"/);
    expect(line['headers']).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]', accept: '*/*' });
    expect(line['req']).toEqual({ authorization: '[redacted]', token: '[redacted]' });
  });

  it('serializes errors with their code', () => {
    const { logger, lines } = capture();
    logger.error({ err: new SwitchyardError('timeout', 'upstream timed out') }, 'failed');
    expect(lines()[0]!['err']).toMatchObject({ type: 'SwitchyardError', message: 'upstream timed out', code: 'timeout', status: 504 });
  });

  it.each<[Partial<LoggerOptions>, boolean, boolean]>([
    [{}, false, true],
    [{ level: 'debug' }, true, true],
    [{ env: { SWITCHYARD_LOG_LEVEL: 'debug' } }, true, true],
    [{ env: { SWITCHYARD_LOG_LEVEL: 'warn' } }, false, false],
    [{ level: 'WARN', env: { SWITCHYARD_LOG_LEVEL: 'debug' } }, false, false],
  ])('level from %j', (opts, debugShown, infoShown) => {
    const { logger, lines } = capture(opts);
    logger.debug('d');
    logger.info('i');
    expect(lines().map((l) => l['msg'])).toEqual([...(debugShown ? ['d'] : []), ...(infoShown ? ['i'] : [])]);
  });

  it('rejects unknown levels with the valid ones', () => {
    expect(() => capture({ env: { SWITCHYARD_LOG_LEVEL: 'verbose' } })).toThrow("SWITCHYARD_LOG_LEVEL: 'verbose' is not a log level; use one of trace, debug, info, warn, error, fatal, silent");
  });

  it('pretty-prints synchronously, without colour on a non-TTY destination', () => {
    const { logger, text } = capture({ pretty: true });
    logger.info({ port: 8080, authorization: 'secret' }, 'listening');
    // Written before info() returns: no worker thread, no async pipeline.
    expect(text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(gateway\): listening\n {4}port: 8080\n {4}authorization: "\[redacted\]"\n$/);
  });

  it('has a null logger', () => {
    expect(() => createNullLogger().info('dropped')).not.toThrow();
  });
});
