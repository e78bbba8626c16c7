import { describe, expect, it } from 'vitest';
import { ErrorCodes, type ErrorCode, SwitchyardError } from '../core/index.js';
import { INTERNAL_ERROR_MESSAGE, invalidParam, openAIErrorJson, sseErrorEvent, toOpenAIError } from './errors.js';
import { parseSse } from './sse.js';

describe('toOpenAIError', () => {
  it('maps a SwitchyardError to its status, type, param and code', () => {
    const e = new SwitchyardError('model_not_found', "The model 'x' does not exist.", { param: 'model' });
    expect(toOpenAIError(e)).toEqual({
      status: 404,
      body: { error: { message: "The model 'x' does not exist.", type: 'invalid_request_error', param: 'model', code: 'model_not_found' } },
    });
  });

  it('uses the refined OpenAI code of validation errors (including an explicit null)', () => {
    expect(toOpenAIError(invalidParam('m', 'messages', 'missing_required_parameter')).body.error).toEqual({
      message: 'm', type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter',
    });
    expect(toOpenAIError(invalidParam('m', null, null)).body.error.code).toBeNull();
    expect(toOpenAIError(new SwitchyardError('invalid_request', 'n must be 1', { param: 'n' })).body.error.code).toBe('invalid_request');
  });

  it.each(Object.keys(ErrorCodes) as ErrorCode[])('%s keeps its status and type', (code) => {
    const w = toOpenAIError(new SwitchyardError(code, 'msg'));
    if (code === 'internal_error') {
      expect(w.body.error.message).toBe(INTERNAL_ERROR_MESSAGE);
    } else {
      expect(w).toEqual({ status: ErrorCodes[code].status, body: { error: { message: 'msg', type: ErrorCodes[code].type, param: null, code } } });
    }
  });

  it('honours a status override but never emits a non-error status', () => {
    expect(toOpenAIError(new SwitchyardError('upstream_error', 'x', { status: 503 })).status).toBe(503);
    expect(toOpenAIError(new SwitchyardError('upstream_error', 'x', { status: 200 })).status).toBe(500);
  });

  it.each([new Error('secret at /srv/app.js:12'), new TypeError('x is undefined'), 'a string', 42, null, undefined, { message: 'obj' }])(
    'hides non-Switchyard errors behind a generic 500 (%s)',
    (thrown) => {
      const w = toOpenAIError(thrown);
      expect(w).toEqual({ status: 500, body: { error: { message: INTERNAL_ERROR_MESSAGE, type: 'server_error', param: null, code: 'internal_error' } } });
    },
  );

  it('hides the message of wrapped internal errors (it may carry a stack or paths)', () => {
    const w = toOpenAIError(new SwitchyardError('internal_error', 'ENOENT: /etc/secret', { cause: new Error('x') }));
    expect(w.body.error.message).toBe(INTERNAL_ERROR_MESSAGE);
    expect(JSON.stringify(w)).not.toContain('secret');
  });
});

describe('serializers', () => {
  it('openAIErrorJson is the JSON of the body', () => {
    const e = new SwitchyardError('rate_limit_exceeded', 'slow down');
    expect(JSON.parse(openAIErrorJson(e))).toEqual(toOpenAIError(e).body);
  });

  it('sseErrorEvent is one SSE data event carrying the error body', () => {
    const e = new SwitchyardError('upstream_error', 'engine died\nmid-stream');
    const text = sseErrorEvent(e);
    expect(text.startsWith('data: {"error":{')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true);
    const events = parseSse(text);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.data)).toEqual(toOpenAIError(e).body);
  });
});
