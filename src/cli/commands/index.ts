/** Every command of the `switchyard` binary, in the order `switchyard --help` lists them. */
import type { AnyCommand } from '../framework.js';
import { gatewayCommand } from './gateway.js';
import { versionCommand } from './version.js';
import { workerSimCommand } from './worker-sim.js';

export const commands: AnyCommand[] = [gatewayCommand, workerSimCommand, versionCommand];
