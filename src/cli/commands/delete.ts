/** `switchyard delete KIND NAME [--cascade] [-o yaml|json]`: delete a resource. */
import { clientFlags, kindAndName, outputFlag, ref, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';
import { renderResource, RESOURCE_FORMATS } from '../output.js';

export const deleteCommand = defineCommand({
  name: 'delete',
  summary: 'Delete a resource (with --cascade, also the Deployments that depend on it)',
  description: [
    'Deletes one resource. A Function or Cluster that Deployments still refer to, or a Tenant that',
    'still has API keys, is refused unless --cascade is given, which deletes those in the same step.',
    "The deletion is recorded in the resource's history.",
    '',
    "Prints 'KIND/NAME deleted' by default; -o yaml / -o json print the deleted resource (its last",
    'version, as the server returns it) instead.',
  ].join('\n'),
  flags: {
    ...clientFlags,
    cascade: { type: 'bool', description: "Also delete the Deployments of this Function or Cluster, or the API keys of this Tenant" },
    output: outputFlag(RESOURCE_FORMATS),
  },
  positionals: [
    { name: 'kind', description: 'function | deployment | cluster | tenant | apikey (or KIND/NAME)', required: true },
    { name: 'name', description: 'Name of the resource' },
  ],
  examples: ['switchyard delete function llama-8b', 'switchyard delete function/llama-8b --cascade', 'switchyard delete cluster gpu-east --cascade', 'switchyard delete tenant acme --cascade -o yaml'],
  async run({ flags, positionals, io }) {
    const { kind, name } = kindAndName(positionals);
    return withClient(flags, io, async (client) => {
      const deleted = await client.delete(kind, name!, { cascade: flags.cascade });
      io.stdout(renderResource(deleted, flags.output, () => `${ref(kind, name!)} deleted${flags.cascade ? ' (cascade)' : ''}\n`));
      return 0;
    });
  },
});
