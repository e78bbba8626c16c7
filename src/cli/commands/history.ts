/** `switchyard history KIND/NAME`: the revisions of a resource, newest first. */
import type { HistoryEntry } from '../../api/index.js';
import { clientFlags, kindAndName, ref, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';
import { renderTable, shortDate } from '../output.js';

export const historyCommand = defineCommand({
  name: 'history',
  summary: 'Show the change history of a resource (who changed what, when)',
  description: [
    'Every change to a resource\'s spec is recorded as a git commit on the server. This lists them,',
    'newest first, with the abbreviated revision that `switchyard rollback --to` accepts.',
  ].join('\n'),
  flags: {
    ...clientFlags,
    output: { type: 'enum', values: ['table', 'json'], default: 'table', short: 'o', description: 'Output format: table or json' },
  },
  positionals: [
    { name: 'resource', description: 'KIND/NAME, e.g. function/llama-8b (or KIND NAME)', required: true },
    { name: 'name', description: 'Name, when KIND is given on its own' },
  ],
  examples: ['switchyard history function/llama-8b', 'switchyard history fn llama-8b -o json'],
  async run({ flags, positionals, io }) {
    const { kind, name } = kindAndName(positionals);
    return withClient(flags, io, async (client) => {
      const entries = await client.history(kind, name!);
      if (flags.output === 'json') io.stdout(`${JSON.stringify(entries, null, 2)}\n`);
      else if (entries.length === 0) io.stderr(`No history for ${ref(kind, name!)}.\n`);
      else io.stdout(historyTable(entries));
      return 0;
    });
  },
});

/** REVISION (7 characters) DATE AUTHOR MESSAGE (first line). */
export function historyTable(entries: readonly HistoryEntry[]): string {
  return renderTable({
    headers: ['REVISION', 'DATE', 'AUTHOR', 'MESSAGE'],
    rows: entries.map((e) => [e.revision.slice(0, 7), shortDate(e.date), e.author, e.message.split('\n')[0] ?? '']),
  });
}
