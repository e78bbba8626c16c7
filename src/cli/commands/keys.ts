/**
 * `switchyard keys create|list|rotate|revoke`: a tenant's API keys. A key's secret is printed
 * once, when it is created or rotated (stdout, alone on its line, so it can be captured);
 * the server keeps only its hash.
 */
import type { MintedApiKey, RateLimits } from '../../api/index.js';
import { clientFlags, withClient } from '../client-flags.js';
import { defineCommand, type CliIO } from '../framework.js';
import { OUTPUT_FORMATS, renderResources } from '../output.js';

const SHOWN_ONCE = 'This is the only time the key is shown: store it now (the server keeps only its hash).';

function printMinted(io: CliIO, m: MintedApiKey, verb: 'created' | 'rotated', json: boolean): void {
  if (json) {
    io.stdout(`${JSON.stringify(m, null, 2)}\n`);
  } else {
    io.stdout(`${m.key}\n`);
  }
  const when = m.apiKey.spec.expiresAt ? `, expires ${m.apiKey.spec.expiresAt}` : '';
  io.stderr(`key ${m.apiKey.metadata.name} ${verb} for tenant '${m.apiKey.spec.tenant}' (prefix ${m.apiKey.spec.prefix}${when}).\nWarning: ${SHOWN_ONCE}\n`);
}

const mintOutput = { type: 'enum', values: ['text', 'json'], default: 'text', short: 'o', description: 'text: the key alone on stdout; json: {key, apiKey}' } as const;

export const keysCreateCommand = defineCommand({
  name: 'keys create',
  summary: "Mint an API key for a tenant (the key is shown once)",
  description: [
    'Creates a key `sk-sy-…` (256 random bits) for the tenant and prints it once, alone on stdout;',
    'the server stores only its SHA-256 and a display prefix. Optional: an expiry, the models it',
    "may use (within the tenant's allowed models), and its own rate limits.",
  ].join('\n'),
  flags: {
    ...clientFlags,
    tenant: { type: 'string', required: true, description: 'The tenant that owns the key', placeholder: 'name' },
    description: { type: 'string', description: 'What the key is for', placeholder: 'text' },
    'expires-in': { type: 'duration', description: "Lifetime, e.g. 30d or 12h (default: never expires)" },
    models: { type: 'list', description: 'Served model names the key may use (default: all the tenant may use)' },
    rpm: { type: 'int', min: 1, description: 'Requests per minute of this key' },
    tpm: { type: 'int', min: 1, description: 'Tokens per minute of this key' },
    'max-concurrent': { type: 'int', min: 1, description: 'Requests of this key in flight at once' },
    output: mintOutput,
  },
  examples: [
    'switchyard keys create --tenant acme',
    "switchyard keys create --tenant acme --description 'ci bot' --expires-in 30d --models llama-8b,qwen-small",
    'KEY=$(switchyard keys create --tenant acme --rpm 60)',
  ],
  async run({ flags, io }) {
    const limits: RateLimits = {
      ...(flags.rpm !== undefined ? { rpm: flags.rpm } : {}),
      ...(flags.tpm !== undefined ? { tpm: flags.tpm } : {}),
      ...(flags.maxConcurrent !== undefined ? { maxConcurrent: flags.maxConcurrent } : {}),
    };
    return withClient(flags, io, async (client) => {
      const minted = await client.createKey(flags.tenant, {
        ...(flags.description !== undefined ? { description: flags.description } : {}),
        ...(flags.expiresIn !== undefined ? { expiresIn: flags.expiresIn } : {}),
        ...(flags.models.length > 0 ? { scopes: { models: flags.models } } : {}),
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
      });
      printMinted(io, minted, 'created', flags.output === 'json');
    });
  },
});

export const keysListCommand = defineCommand({
  name: 'keys list',
  summary: "List API keys (a tenant's, or all): prefix, state, expiry, last use",
  description: "Shows each key's name, tenant, display prefix, state (active, revoked, expired), expiry and last use. Secrets are never shown: the server does not have them.",
  flags: {
    ...clientFlags,
    tenant: { type: 'string', description: "Only this tenant's keys (needed with a tenant-admin token)", placeholder: 'name' },
    output: { type: 'enum', values: OUTPUT_FORMATS, default: 'table', short: 'o', description: 'Output format: table, wide, yaml or json' },
  },
  examples: ['switchyard keys list', 'switchyard keys list --tenant acme -o json'],
  async run({ flags, io }) {
    return withClient(flags, io, async (client) => {
      const { items } = await client.listKeys(flags.tenant);
      if (items.length === 0 && (flags.output === 'table' || flags.output === 'wide')) {
        io.stderr(`No keys found${flags.tenant ? ` for tenant '${flags.tenant}'` : ''}.\n`);
        return;
      }
      io.stdout(renderResources('ApiKey', items, flags.output, { nowMs: Date.now(), single: false }));
    });
  },
});

export const keysRotateCommand = defineCommand({
  name: 'keys rotate',
  summary: 'Give a key a new secret (shown once); the old secret stops working',
  description: 'The key keeps its name, tenant, scopes and limits; only the secret (and, with --expires-in, the expiry) changes. Gateways learn the new hash through the watch stream. A revoked key cannot be rotated.',
  flags: {
    ...clientFlags,
    'expires-in': { type: 'duration', description: 'A new lifetime from now, e.g. 30d (default: keep the expiry)' },
    output: mintOutput,
  },
  positionals: [{ name: 'name', description: 'The key, e.g. acme-qwhzkrtp', required: true }],
  examples: ['switchyard keys rotate acme-qwhzkrtp', 'switchyard keys rotate acme-qwhzkrtp --expires-in 90d -o json'],
  async run({ flags, positionals, io }) {
    return withClient(flags, io, async (client) => {
      printMinted(io, await client.rotateKey(positionals[0]!, flags.expiresIn !== undefined ? { expiresIn: flags.expiresIn } : {}), 'rotated', flags.output === 'json');
    });
  },
});

export const keysRevokeCommand = defineCommand({
  name: 'keys revoke',
  summary: 'Revoke a key (final); gateways learn it through the watch stream',
  description: 'Marks the key revoked; the change goes out on the watch stream that gateways follow. Revocation cannot be undone: create a new key instead.',
  flags: { ...clientFlags },
  positionals: [{ name: 'name', description: 'The key, e.g. acme-qwhzkrtp', required: true }],
  examples: ['switchyard keys revoke acme-qwhzkrtp'],
  async run({ flags, positionals, io }) {
    return withClient(flags, io, async (client) => {
      const k = await client.revokeKey(positionals[0]!);
      io.stdout(`key ${k.metadata.name} (tenant '${k.spec.tenant}', prefix ${k.spec.prefix}) revoked\n`);
    });
  },
});

export const keysCommands = [keysCreateCommand, keysListCommand, keysRotateCommand, keysRevokeCommand];
