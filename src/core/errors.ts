/**
 * Typed errors with stable codes.
 *
 * Every error that crosses a module boundary is a SwitchyardError. Its `code` is stable
 * (clients and tests match on it); its `status` is the HTTP status it maps to; and
 * `retryable` says whether a caller may try the same operation again (elsewhere).
 * The mapping to the wire (OpenAI error shape) happens in exactly one place:
 * `toOpenAIError` in src/openai.
 */

/** Stable error codes. Add new codes at the end; never rename one. */
export const ErrorCodes = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_config: { status: 400, type: 'invalid_request_error' },
  invalid_argument: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'conflict_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  engine_overloaded: { status: 503, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
  not_implemented: { status: 501, type: 'server_error' },
  upstream_error: { status: 502, type: 'server_error' },
  unavailable: { status: 503, type: 'server_error' },
  timeout: { status: 504, type: 'server_error' },
  simulated_fault: { status: 500, type: 'server_error' },
  already_exists: { status: 409, type: 'conflict_error' },
  gone: { status: 410, type: 'invalid_request_error' },
  /** A write would take a tenant beyond a quota (e.g. its GPU quota). */
  quota_exceeded: { status: 409, type: 'conflict_error' },
  /** A data-plane API key that is missing, unknown, revoked or expired (OpenAI's code). */
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  /** A tenant's monthly token or USD budget is spent. */
  budget_exceeded: { status: 429, type: 'insufficient_quota' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface SwitchyardErrorOptions {
  /** Name of the offending parameter or config path, e.g. `messages[0].role`. */
  param?: string | null;
  /** Override the default HTTP status of the code. */
  status?: number;
  /** Whether the operation may be retried (on another backend). Defaults by status. */
  retryable?: boolean;
  cause?: unknown;
  /** Extra structured detail for logs; never sent to clients. */
  detail?: Record<string, unknown>;
}

export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly retryable: boolean;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchyardError';
    const def = ErrorCodes[code];
    this.code = code;
    this.status = options.status ?? def.status;
    this.type = def.type;
    this.param = options.param ?? null;
    this.retryable = options.retryable ?? (this.status === 429 || this.status >= 500);
    this.detail = options.detail;
  }
}

export function isSwitchyardError(e: unknown): e is SwitchyardError {
  return e instanceof SwitchyardError;
}

/** Wrap anything thrown into a SwitchyardError without losing the cause. */
export function asSwitchyardError(e: unknown): SwitchyardError {
  if (e instanceof SwitchyardError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SwitchyardError('internal_error', message, { cause: e });
}

export function invalidRequest(message: string, param?: string | null): SwitchyardError {
  return new SwitchyardError('invalid_request', message, { param: param ?? null });
}
