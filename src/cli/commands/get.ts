/** `switchyard get KIND [NAME]`: list resources, or show one, as a table, YAML or JSON. */
import { KINDS } from '../../api/index.js';
import { clientFlags, kindAndName, outputFlag, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';
import { OUTPUT_FORMATS, renderResources } from '../output.js';

export const getCommand = defineCommand({
  name: 'get',
  summary: 'List resources (functions, deployments, clusters, tenants, apikeys) or show one',
  description: [
    'Prints a table by default: Functions show runtime, model, GPUs, replica range, target clusters and',
    'ready replicas; Deployments show their phase, ready/desired replicas and endpoints; Clusters show',
    "health, GPUs (marked '(simulated)' for declared inventories) and the age of the last heartbeat.",
    '',
    "-o wide adds columns; -o yaml / -o json print the full resources (YAML output can be fed back to",
    "'switchyard apply -f -'). KIND accepts aliases: fn, deploy, cl, and plurals.",
  ].join('\n'),
  flags: {
    ...clientFlags,
    output: outputFlag(OUTPUT_FORMATS),
  },
  positionals: [
    { name: 'kind', description: 'function | deployment | cluster | tenant | apikey (or KIND/NAME)', required: true },
    { name: 'name', description: 'Show only this resource' },
  ],
  examples: [
    'switchyard get functions',
    'switchyard get deploy -o wide',
    'switchyard get function llama-8b -o yaml',
    'switchyard get cluster/gpu-east -o json',
  ],
  async run({ flags, positionals, io }) {
    const { kind, name } = kindAndName(positionals, { allowList: true, what: 'KIND' });
    return withClient(flags, io, async (client) => {
      const items = name === undefined ? (await client.list(kind)).items : [await client.get(kind, name)];
      if (items.length === 0 && (flags.output === 'table' || flags.output === 'wide')) {
        io.stderr(`No ${KINDS[kind].plural} found.\n`);
        return 0;
      }
      io.stdout(renderResources(kind, items, flags.output, { nowMs: Date.now(), single: name !== undefined }));
      return 0;
    });
  },
});
