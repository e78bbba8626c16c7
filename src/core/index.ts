export * from './errors.js';
export * from './clock.js';
export * from './periodic.js';
export * from './duration.js';
export * from './ids.js';
export * from './rng.js';
export * from './stats.js';
export * from './block-hash.js';
