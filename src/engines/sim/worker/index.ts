export { SimWorker, type SimWorkerOptions, type LoggerLike } from './server.js';
export { FaultsSchema, NO_FAULTS, type Faults, type FaultsInput } from './faults.js';
