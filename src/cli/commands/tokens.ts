/**
 * `switchyard tokens create|list|delete`: named admin-API tokens with a role (admin, operator,
 * viewer, tenant-admin). A token is printed once, when it is created; the server keeps only
 * its hash. Needs an admin token.
 */
import { ADMIN_ROLES } from '../../api/index.js';
import { clientFlags, withClient } from '../client-flags.js';
import { defineCommand, UsageError } from '../framework.js';
import { ageOf, renderTable } from '../output.js';

export const tokensCreateCommand = defineCommand({
  name: 'tokens create',
  summary: 'Create a named admin token with a role (shown once)',
  description: [
    'Roles: admin (everything), operator (reads; writes of functions, deployments and clusters),',
    "viewer (read-only), tenant-admin (one tenant's keys and the tenant itself; needs --tenant).",
    'The token is printed once, alone on stdout; changes made with it are recorded in history as',
    "'<user> (token NAME, ROLE)'.",
  ].join('\n'),
  flags: {
    ...clientFlags,
    role: { type: 'enum', values: ADMIN_ROLES, required: true, description: 'admin, operator, viewer or tenant-admin' },
    tenant: { type: 'string', description: 'The tenant of a tenant-admin token', placeholder: 'name' },
    output: { type: 'enum', values: ['text', 'json'], default: 'text', short: 'o', description: 'text: the token alone on stdout; json: the token and its record' },
  },
  positionals: [{ name: 'name', description: 'Name of the token, e.g. ci-deployer', required: true }],
  examples: ['switchyard tokens create ci-deployer --role operator', 'switchyard tokens create acme-admin --role tenant-admin --tenant acme', 'switchyard tokens create dashboards --role viewer -o json'],
  async run({ flags, positionals, io }) {
    if (flags.role === 'tenant-admin' && !flags.tenant) throw new UsageError("--role tenant-admin needs --tenant NAME", '--tenant');
    if (flags.role !== 'tenant-admin' && flags.tenant) throw new UsageError(`--tenant applies only to --role tenant-admin (role is ${flags.role})`, '--tenant');
    return withClient(flags, io, async (client) => {
      const t = await client.createToken({ name: positionals[0]!, role: flags.role, ...(flags.tenant ? { tenant: flags.tenant } : {}) });
      io.stdout(flags.output === 'json' ? `${JSON.stringify(t, null, 2)}\n` : `${t.token}\n`);
      io.stderr(`token ${t.name} created (role ${t.role}${t.tenant ? ` of tenant '${t.tenant}'` : ''}).\nWarning: this is the only time the token is shown: store it now (the server keeps only its hash).\n`);
    });
  },
});

export const tokensListCommand = defineCommand({
  name: 'tokens list',
  summary: 'List named admin tokens: name, role, tenant, prefix (never the tokens)',
  description: 'The bootstrap admin token and cluster agent tokens are not listed.',
  flags: {
    ...clientFlags,
    output: { type: 'enum', values: ['table', 'json'], default: 'table', short: 'o', description: 'Output format: table or json' },
  },
  examples: ['switchyard tokens list', 'switchyard tokens list -o json'],
  async run({ flags, io }) {
    return withClient(flags, io, async (client) => {
      const items = await client.listTokens();
      if (flags.output === 'json') io.stdout(`${JSON.stringify(items, null, 2)}\n`);
      else if (items.length === 0) io.stderr('No tokens found.\n');
      else {
        const now = Date.now();
        io.stdout(renderTable({ headers: ['NAME', 'ROLE', 'TENANT', 'PREFIX', 'CREATED-BY', 'AGE'], rows: items.map((t) => [t.name, t.role, t.tenant ?? '-', `${t.prefix}…`, t.createdBy, ageOf(t.createdAt, now)]) }));
      }
    });
  },
});

export const tokensDeleteCommand = defineCommand({
  name: 'tokens delete',
  summary: 'Delete a named admin token (it stops working at once)',
  flags: { ...clientFlags },
  positionals: [{ name: 'name', description: 'Name of the token', required: true }],
  examples: ['switchyard tokens delete ci-deployer'],
  async run({ flags, positionals, io }) {
    return withClient(flags, io, async (client) => {
      const t = await client.deleteToken(positionals[0]!);
      io.stdout(`token ${t.name} (role ${t.role}) deleted\n`);
    });
  },
});

export const tokensCommands = [tokensCreateCommand, tokensListCommand, tokensDeleteCommand];
