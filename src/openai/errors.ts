/**
 * The single place where errors become OpenAI-shaped wire errors.
 *
 * Every HTTP handler (engine server, gateway) ends with `toOpenAIError(e)` (or one of the
 * serializers below) instead of building its own error body.
 *
 * Wire `code` convention (stable; clients and tests match on it):
 * - A SwitchyardError may carry a refined OpenAI code in `detail.openaiCode` (set through
 *   `invalidParam`). Request validation uses the codes OpenAI uses for the same failures:
 *   `missing_required_parameter`, `invalid_type`, `invalid_value`, `empty_array`,
 *   `array_above_max_length`, `empty_string`, `string_above_max_length`,
 *   `integer_below_min_value` / `integer_above_max_value`, `decimal_below_min_value` /
 *   `decimal_above_max_value`, and `invalid_json` for unparseable bodies.
 * - Otherwise the code is the SwitchyardError code itself (`model_not_found`,
 *   `context_length_exceeded`, `rate_limit_exceeded`, `invalid_request`, `upstream_error`, …),
 *   which matches OpenAI's spelling wherever OpenAI has an equivalent.
 * - Anything that is not a SwitchyardError is an `internal_error` (500, `server_error`) with a
 *   generic message; so is a SwitchyardError with code `internal_error` (its message may
 *   wrap an arbitrary exception). Stack traces and causes never reach the wire.
 */
import { isSwitchyardError, SwitchyardError } from '../core/index.js';

/** The body of an OpenAI error response (`ErrorResponse` in the OpenAPI spec). */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

/** An error ready for the wire: HTTP status plus JSON body. */
export interface OpenAIWireError {
  status: number;
  body: OpenAIErrorBody;
}

/** Message sent for internal errors; the real one goes to the logs only. */
export const INTERNAL_ERROR_MESSAGE = 'The server had an error while processing your request.';

/** Key in `SwitchyardError.detail` holding the refined OpenAI wire code (string or null). */
export const OPENAI_CODE_DETAIL = 'openaiCode';

/**
 * An `invalid_request` SwitchyardError that names the offending parameter and carries the
 * OpenAI wire code for the failure (e.g. `invalid_type`, `missing_required_parameter`).
 */
export function invalidParam(message: string, param: string | null, openaiCode: string | null): SwitchyardError {
  return new SwitchyardError('invalid_request', message, { param, detail: { [OPENAI_CODE_DETAIL]: openaiCode } });
}

/** Map anything thrown to an HTTP status and an OpenAI error body. Never throws. */
export function toOpenAIError(e: unknown): OpenAIWireError {
  if (!isSwitchyardError(e) || e.code === 'internal_error') {
    return { status: 500, body: { error: { message: INTERNAL_ERROR_MESSAGE, type: 'server_error', param: null, code: 'internal_error' } } };
  }
  const refined = e.detail?.[OPENAI_CODE_DETAIL];
  const code = typeof refined === 'string' || refined === null ? refined : e.code;
  const status = Number.isInteger(e.status) && e.status >= 400 && e.status <= 599 ? e.status : 500;
  return { status, body: { error: { message: e.message, type: e.type, param: e.param, code } } };
}

/** `toOpenAIError(e).body` serialized as JSON. */
export function openAIErrorJson(e: unknown): string {
  return JSON.stringify(toOpenAIError(e).body);
}

/**
 * The SSE event that ends a stream with an error: `data: {"error":{...}}\n\n`. This is what
 * vLLM and other OpenAI-compatible servers send once the 200 status line has already gone out
 * (vLLM then still sends `data: [DONE]`); the OpenAI SDKs raise an APIError when they see it.
 */
export function sseErrorEvent(e: unknown): string {
  return `data: ${openAIErrorJson(e)}\n\n`;
}
