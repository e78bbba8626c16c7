/** Every command of the `switchyard` binary, in the order `switchyard --help` lists them. */
import type { AnyCommand } from '../framework.js';
import { agentCommand } from './agent.js';
import { applyCommand } from './apply.js';
import { auditCommand } from './audit.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { gatewayCommand } from './gateway.js';
import { getCommand } from './get.js';
import { historyCommand } from './history.js';
import { keysCommands } from './keys.js';
import { logsCommand } from './logs.js';
import { rollbackCommand } from './rollback.js';
import { simulateCommand } from './simulate.js';
import { tokensCommands } from './tokens.js';
import { upCommand } from './up.js';
import { usageCommand } from './usage.js';
import { versionCommand } from './version.js';
import { workerSimCommand } from './worker-sim.js';

export const commands: AnyCommand[] = [
  upCommand,
  applyCommand,
  getCommand,
  describeCommand,
  deleteCommand,
  historyCommand,
  rollbackCommand,
  logsCommand,
  ...keysCommands,
  ...tokensCommands,
  usageCommand,
  auditCommand,
  agentCommand,
  simulateCommand,
  gatewayCommand,
  workerSimCommand,
  versionCommand,
];
