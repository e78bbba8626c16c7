/** `switchyard version`: the package version plus the runtime, as text or JSON. */
import { defineCommand, packageInfo } from '../framework.js';

export const versionCommand = defineCommand({
  name: 'version',
  summary: 'Print version information',
  description: 'Prints the Switchyard version and the Node.js runtime it runs on. Use --json for machine-readable output.',
  flags: {
    json: { type: 'bool', description: 'Print a JSON object instead of text' },
  },
  examples: ['switchyard version', 'switchyard version --json'],
  async run({ flags, io }) {
    const pkg = packageInfo();
    const info = { name: pkg.name, version: pkg.version, node: process.version, platform: `${process.platform}-${process.arch}` };
    if (flags.json) io.stdout(`${JSON.stringify(info)}\n`);
    else io.stdout(`${info.name} ${info.version}\nnode ${info.node} (${info.platform})\n`);
  },
});
