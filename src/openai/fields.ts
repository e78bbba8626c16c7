/**
 * Field-level zod schemas shared by the request schemas.
 *
 * Conventions that `parseRequest` (validate.ts) relies on to word its errors:
 * - A schema's own `error` option is the phrase for what is *expected* ("a number between 0
 *   and 2"); it becomes the message of the `invalid_type` issue.
 * - Numeric bound checks carry `'integer'` or `'decimal'` as their message, so a violated
 *   bound can be reported the way OpenAI does ("integer below minimum value").
 * - Cross-field rules add `custom` issues whose message may contain `{param}` and whose
 *   `params.openaiCode` is the wire code (see `customIssue`).
 *
 * Optional fields are `.nullish()`: OpenAI's spec marks them nullable, and clients (LangChain,
 * LiteLLM, …) send explicit nulls for unset options.
 */
import { z } from 'zod';

/** Bounds for a numeric field; `gt`/`lt` are exclusive, `min`/`max` inclusive. */
interface NumBounds {
  min?: number;
  max?: number;
  gt?: number;
  lt?: number;
}

/** An integer field. `expected` describes the accepted values for error messages. */
export function intField(expected: string, b: NumBounds = {}): z.ZodInt {
  return applyBounds(z.int({ error: expected }), b, 'integer');
}

/** A decimal (any JSON number) field. */
export function numField(expected: string, b: NumBounds = {}): z.ZodNumber {
  return applyBounds(z.number({ error: expected }), b, 'decimal');
}

function applyBounds<S extends z.ZodNumber>(s: S, b: NumBounds, kind: 'integer' | 'decimal'): S {
  let out = s;
  const p = { error: kind };
  if (b.min !== undefined) out = out.min(b.min, p);
  if (b.gt !== undefined) out = out.gt(b.gt, p);
  if (b.max !== undefined) out = out.max(b.max, p);
  if (b.lt !== undefined) out = out.lt(b.lt, p);
  return out;
}

export const bool = z.boolean({ error: 'a boolean' });
export const str = z.string({ error: 'a string' });
export const nonEmptyStr = z.string({ error: 'a non-empty string' }).min(1);

/** `model`: required, non-empty. */
export const modelField = z.string({ error: 'a string (the model name)' }).min(1);

export const temperature = numField('a number between 0 and 2', { min: 0, max: 2 });
export const topP = numField('a number greater than 0 and at most 1', { gt: 0, max: 1 });
export const penalty = numField('a number between -2 and 2', { min: -2, max: 2 });
export const positiveInt = intField('a positive integer', { min: 1 });
export const nonNegInt = intField('a non-negative integer', { min: 0 });
export const seed = intField('an integer');
export const tokenId = intField('a token id (a non-negative integer)', { min: 0 });

/** Up to 16 stop sequences (OpenAI allows 4; vLLM more). */
export const MAX_STOP_SEQUENCES = 16;
export const stop = z.union([str, z.array(str, { error: 'an array of strings' }).max(MAX_STOP_SEQUENCES)], {
  error: `a string or an array of up to ${MAX_STOP_SEQUENCES} strings`,
});

export const logitBias = z.record(z.string(), numField('a number between -100 and 100', { min: -100, max: 100 }), {
  error: 'an object mapping token ids to numbers between -100 and 100',
});
export const metadata = z.record(z.string(), str, { error: 'an object with string values' });
export const streamOptions = z.looseObject(
  { include_usage: bool.nullish(), continuous_usage_stats: bool.nullish(), include_obfuscation: bool.nullish() },
  { error: 'an object' },
);

/** A free-form JSON object (tool parameters, JSON schemas). Its contents are not validated. */
export const jsonObject = z.record(z.string(), z.unknown(), { error: 'an object' });

/**
 * Sampling parameters common to /v1/chat/completions and /v1/completions, including the
 * vLLM extras (ignore_eos, min_tokens, top_k, min_p, repetition_penalty, …).
 */
export const samplingFields = {
  model: modelField,
  temperature: temperature.nullish(),
  top_p: topP.nullish(),
  n: intField('an integer >= 1', { min: 1 }).nullish(),
  stream: bool.nullish(),
  stream_options: streamOptions.nullish(),
  stop: stop.nullish(),
  seed: seed.nullish(),
  user: str.nullish(),
  presence_penalty: penalty.nullish(),
  frequency_penalty: penalty.nullish(),
  logit_bias: logitBias.nullish(),
  ignore_eos: bool.nullish(),
  min_tokens: nonNegInt.nullish(),
  top_k: intField('an integer (-1 or 0 disables top-k)', { min: -1 }).nullish(),
  min_p: numField('a number between 0 and 1', { min: 0, max: 1 }).nullish(),
  repetition_penalty: numField('a number greater than 0', { gt: 0 }).nullish(),
  skip_special_tokens: bool.nullish(),
  include_stop_str_in_output: bool.nullish(),
};

/** Context for `customIssue`: the subset of zod's refinement context we use. */
interface IssueSink {
  addIssue(issue: { code: 'custom'; message: string; path: PropertyKey[]; params: Record<string, unknown> }): void;
}

/**
 * Report a cross-field problem from a `superRefine`. `message` may contain `{param}`, which
 * parseRequest replaces with the full OpenAI-style path; if the value at `path` is absent the
 * standard "Missing required parameter" message is used instead.
 */
export function customIssue(ctx: IssueSink, path: PropertyKey[], message: string, openaiCode: string): void {
  ctx.addIssue({ code: 'custom', message, path, params: { openaiCode } });
}

/** Rule shared by chat and completions: stream_options requires stream: true. */
export function checkStreamOptions(r: { stream?: boolean | null; stream_options?: unknown }, ctx: IssueSink): void {
  if (r.stream_options != null && r.stream !== true) {
    customIssue(ctx, ['stream_options'], "'stream_options' is only allowed when 'stream' is true.", 'invalid_value');
  }
}
