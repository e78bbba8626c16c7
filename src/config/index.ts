/**
 * Config loading and validation (YAML/JSON + zod).
 *
 * Components define strict zod schemas (`z.strictObject`, so typos are caught) and load with
 * `loadConfig(schema, { file })`. Use `.default(v)` for leaf defaults and `.prefault({})` for
 * nested sections whose fields all have defaults. Errors are ConfigErrors listing every issue.
 */
export { loadConfig, validateConfig, parseYamlDocuments } from './load.js';
export type { ConfigSource, LoadConfigOptions, ParsedDocument } from './load.js';
export type { Locator } from './locate.js';
export { boundIssues, ConfigError, formatConfigIssue, MAX_LISTED_ISSUES } from './errors.js';
export type { ConfigIssue } from './errors.js';
export { formatZodIssues, zodErrorMap, zodParseOptions } from './zod-format.js';
export { zodDuration, zodHttpUrl, isHttpUrl } from './schemas.js';
export type { DurationBounds } from './schemas.js';
export { deepFreeze } from './freeze.js';
export { clip, formatPath, parsePath, describeValue } from './path.js';
export { excessiveNesting, MAX_CONFIG_NESTING, nestsDeeperThan } from './nesting.js';
export { closestMatch, editDistance } from './suggest.js';
