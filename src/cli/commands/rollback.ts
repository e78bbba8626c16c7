/** `switchyard rollback KIND/NAME --to REV`: restore a resource's spec from its history. */
import { clientFlags, kindAndName, ref, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: "Restore a resource's spec as it was at an earlier revision",
  description: [
    "Finds the revision in the resource's history (`switchyard history`; a full or abbreviated",
    'revision) and applies the spec and labels it had then. The rollback is itself a new revision,',
    'so it can be undone the same way.',
  ].join('\n'),
  flags: {
    ...clientFlags,
    to: { type: 'string', required: true, description: 'Revision to go back to (full or abbreviated)', placeholder: 'rev' },
  },
  positionals: [
    { name: 'resource', description: 'KIND/NAME, e.g. function/llama-8b (or KIND NAME)', required: true },
    { name: 'name', description: 'Name, when KIND is given on its own' },
  ],
  examples: ['switchyard rollback function/llama-8b --to 1a2b3c4', 'switchyard history function/llama-8b   # find the revision first'],
  async run({ flags, positionals, io }) {
    const { kind, name } = kindAndName(positionals);
    return withClient(flags, io, async (client) => {
      const r = await client.rollback(kind, name!, flags.to);
      io.stdout(`${ref(kind, name!)} rolled back to ${flags.to} (generation ${r.metadata.generation})\n`);
      return 0;
    });
  },
});
