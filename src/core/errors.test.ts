import { describe, expect, it } from 'vitest';
import { asSwitchyardError, ErrorCodes, SwitchyardError } from './errors.js';

describe('SwitchyardError', () => {
  it('takes status and type from its stable code', () => {
    const e = new SwitchyardError('model_not_found', 'no such model', { param: 'model' });
    expect(e.status).toBe(404);
    expect(e.type).toBe('invalid_request_error');
    expect(e.param).toBe('model');
    expect(e.retryable).toBe(false);
  });
  it('marks 429 and 5xx retryable by default and allows override', () => {
    expect(new SwitchyardError('rate_limit_exceeded', 'x').retryable).toBe(true);
    expect(new SwitchyardError('upstream_error', 'x').retryable).toBe(true);
    expect(new SwitchyardError('upstream_error', 'x', { retryable: false }).retryable).toBe(false);
  });
  it('wraps unknown throwables without losing the cause', () => {
    const cause = new TypeError('boom');
    const e = asSwitchyardError(cause);
    expect(e.code).toBe('internal_error');
    expect(e.cause).toBe(cause);
    expect(asSwitchyardError(e)).toBe(e);
  });
  it('every code maps to a valid HTTP status', () => {
    for (const [code, def] of Object.entries(ErrorCodes)) {
      expect(def.status, code).toBeGreaterThanOrEqual(400);
      expect(def.status, code).toBeLessThan(600);
    }
  });
});
