/** `switchyard logs DEPLOYMENT`: a replica's log lines, optionally followed. */
import { clientFlags, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';

export const logsCommand = defineCommand({
  name: 'logs',
  summary: "Print (or follow) the log of one replica of a Deployment",
  description: [
    'Prints the output of replica --replica (default 0) of the Deployment. With -f the command keeps',
    'printing new lines until interrupted (Ctrl-C) or the replica goes away; --tail limits how many',
    'earlier lines are shown first.',
  ].join('\n'),
  flags: {
    ...clientFlags,
    replica: { type: 'int', default: 0, min: 0, description: 'Replica index (see `switchyard describe deployment NAME`)' },
    follow: { type: 'bool', short: 'f', description: 'Keep printing new lines' },
    tail: { type: 'int', min: 0, description: 'Show only the last N lines first' },
  },
  positionals: [{ name: 'deployment', description: 'Deployment name', required: true }],
  examples: ['switchyard logs llama-8b-gpu-east', 'switchyard logs llama-8b-gpu-east --replica 1 -f --tail 20'],
  async run({ flags, positionals, io, signal }) {
    const deployment = positionals[0]!.replace(/^(deployments?|deploy|dep)\//, '');
    return withClient(flags, io, async (client) => {
      try {
        for await (const line of client.logs(deployment, { replica: flags.replica, follow: flags.follow, tail: flags.tail, signal })) {
          io.stdout(`${line}\n`);
        }
      } catch (e) {
        // Ctrl-C while following is the normal way out.
        if (signal.aborted) return 0;
        throw e;
      }
      return 0;
    });
  },
});
