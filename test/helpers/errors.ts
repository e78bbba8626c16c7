import { SwitchyardError } from '../../src/core/index.js';

/** The SwitchyardError code a promise rejects with, or 'ok' when it resolves. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SwitchyardError) return e.code;
    throw e;
  }
  return 'ok';
}
