export * from './sim/index.js';
