/** Shared by both stores: batch validation and serialization, and the errors they raise. */
import { SwitchyardError } from '../core/index.js';
import type { JsonObject, WriteOp } from './types.js';

/** An op with its body already serialized (undefined for deletes). */
export type PreparedOp = { op: WriteOp; json: string | undefined };

/** Validate a batch and serialize its bodies before any lock or connection is taken. */
export function prepareOps(ops: readonly WriteOp[]): PreparedOp[] {
  const untrusted: unknown = ops;
  if (!Array.isArray(untrusted)) throw new SwitchyardError('invalid_argument', 'ops must be an array', { param: 'ops' });
  return ops.map((op, i) => {
    const at = `ops[${i}]`;
    if (op.op !== 'create' && op.op !== 'update' && op.op !== 'delete') throw new SwitchyardError('invalid_argument', `${at}.op must be create, update or delete`, { param: `${at}.op` });
    if (typeof op.kind !== 'string' || op.kind === '') throw new SwitchyardError('invalid_argument', `${at}.kind must be a non-empty string`, { param: `${at}.kind` });
    if (typeof op.name !== 'string' || op.name === '') throw new SwitchyardError('invalid_argument', `${at}.name must be a non-empty string`, { param: `${at}.name` });
    if (op.op !== 'create' && op.expectRv !== undefined) checkInt(op.expectRv, `${at}.expectRv`, 0);
    if (op.op === 'delete') return { op, json: undefined };
    if (typeof op.body !== 'object' || op.body === null || Array.isArray(op.body)) throw new SwitchyardError('invalid_argument', `${at}.body must be a JSON object`, { param: `${at}.body` });
    try {
      return { op, json: JSON.stringify(op.body) };
    } catch (e) {
      throw new SwitchyardError('invalid_argument', `${at}.body is not serializable as JSON: ${e instanceof Error ? e.message : String(e)}`, { param: `${at}.body` });
    }
  });
}

export function checkInt(value: number, param: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new SwitchyardError('invalid_argument', `${param} must be an integer >= ${min}, got ${value}`, { param });
}

export function conflict(op: WriteOp & { expectRv?: number }, actual: number): SwitchyardError {
  return new SwitchyardError('conflict', `${op.kind} '${op.name}' is at rv ${actual}, not the expected ${op.expectRv}; re-read and retry`, { detail: { expectRv: op.expectRv, actualRv: actual } });
}

export function gone(sinceRv: number, compactedRv: number): SwitchyardError {
  return new SwitchyardError('gone', `events after rv ${sinceRv} were compacted (oldest kept is after rv ${compactedRv}); re-list and watch from the list's rv`, { detail: { sinceRv, compactedRv } });
}

export function parseBody(json: string): JsonObject {
  return JSON.parse(json) as JsonObject;
}
