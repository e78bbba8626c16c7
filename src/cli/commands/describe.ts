/** `switchyard describe KIND NAME`: a resource in human-readable sections, or as YAML or JSON. */
import { stringify } from 'yaml';
import type { AnyResource, ClusterResource, Condition, DeploymentResource, FunctionResource, ResourceEvent, TenantResource } from '../../api/index.js';
import { clientFlags, kindAndName, outputFlag, withClient } from '../client-flags.js';
import { defineCommand } from '../framework.js';
import { ageOf, gpuSummary, keyState, renderResource, renderTable, RESOURCE_FORMATS, shortDate } from '../output.js';

export const describeCommand = defineCommand({
  name: 'describe',
  summary: 'Show a resource in detail: spec, status, conditions, replicas, events',
  description: [
    'Prints metadata, the spec, and the status in sections: for a Function its Deployments; for a',
    'Deployment its replicas (state, endpoint, pid, restarts); for a Cluster its nodes, GPUs and',
    'endpoint health as its agent last reported them. Conditions and recent events come last.',
    '',
    '-o yaml / -o json print the whole resource instead (metadata, spec, and status with its',
    'conditions and events), as one YAML or JSON document like get -o yaml|json.',
  ].join('\n'),
  flags: { ...clientFlags, output: outputFlag(RESOURCE_FORMATS) },
  positionals: [
    { name: 'kind', description: 'function | deployment | cluster | tenant | apikey (or KIND/NAME)', required: true },
    { name: 'name', description: 'Name of the resource' },
  ],
  examples: ['switchyard describe function llama-8b', 'switchyard describe deploy/llama-8b-gpu-east', 'switchyard describe cluster gpu-east', 'switchyard describe deploy/llama-8b-gpu-east -o json'],
  async run({ flags, positionals, io }) {
    const { kind, name } = kindAndName(positionals);
    return withClient(flags, io, async (client) => {
      const r = await client.get(kind, name!);
      io.stdout(renderResource(r, flags.output, () => describeResource(r, Date.now())));
      return 0;
    });
  },
});

/** The full text of `describe` for one resource. */
export function describeResource(r: AnyResource, nowMs: number): string {
  const m = r.metadata;
  const when = (iso: string | undefined): string => (iso ? `${shortDate(iso)} (${ageOf(iso, nowMs)} ago)` : '<unknown>');
  const fields: [string, string][] = [
    ['Name', m.name],
    ['Kind', r.kind],
    ['Labels', keyValues(m.labels)],
    ['Annotations', keyValues(m.annotations)],
    ['Created', when(m.creationTimestamp)],
    ['Updated', when(m.updateTimestamp)],
    ['Generation', String(m.generation)],
    ['Resource version', m.resourceVersion],
    ['UID', m.uid],
  ];
  if (m.deletionTimestamp) fields.push(['Deleting since', when(m.deletionTimestamp)]);
  let out = fieldList(fields);
  out += `\nSpec:\n${indent(stringify(r.spec, { lineWidth: 0 }))}`;
  const status = statusSections(r, nowMs);
  if (status) out += `\nStatus:\n${status}`;
  const conditions: Condition[] = r.status && 'conditions' in r.status ? r.status.conditions : [];
  if (r.kind !== 'Tenant' && r.kind !== 'ApiKey') out += `\nConditions:\n${conditions.length ? indent(renderTable({ headers: ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'], rows: conditions.map((c) => [c.type, c.status, c.reason, ageOf(c.lastTransitionTime, nowMs), c.message]) })) : '  <none>\n'}`;
  if (r.kind === 'Deployment') out += `\nEvents:\n${events(r.status?.events ?? [], nowMs)}`;
  return out;
}

function statusSections(r: AnyResource, nowMs: number): string {
  switch (r.kind) {
    case 'Function':
      return functionStatus(r);
    case 'Deployment':
      return deploymentStatus(r, nowMs);
    case 'Cluster':
      return clusterStatus(r, nowMs);
    case 'Tenant':
      return tenantStatus(r);
    case 'ApiKey':
      return indent(fieldList([['State', keyState(r, nowMs)], ['Last used', r.status?.lastUsedAt ? `${shortDate(r.status.lastUsedAt)} (${ageOf(r.status.lastUsedAt, nowMs)} ago)` : '<never>']]));
  }
}

function tenantStatus(t: TenantResource): string {
  const s = t.status;
  const u = s?.usage;
  const fields: [string, string][] = [
    ['Keys', String(s?.keys ?? 0)],
    ['GPUs in use', `${s?.gpusInUse ?? 0} of ${t.spec.gpuQuota ?? 'unlimited'}`],
  ];
  if (u) fields.push(['Usage', `${u.month}: ${u.requests} requests, ${u.inputTokens} input + ${u.outputTokens} output tokens (${u.cachedTokens} cached), $${u.usd.toFixed(2)}`]);
  return indent(fieldList(fields));
}

function functionStatus(f: FunctionResource): string {
  const s = f.status;
  if (!s) return '  <not reconciled yet>\n';
  let out = indent(fieldList([['Ready replicas', String(s.readyReplicas)], ['Observed generation', String(s.observedGeneration)]]));
  out += '  Deployments:\n';
  out += s.deployments.length
    ? indent(renderTable({ headers: ['NAME', 'CLUSTER', 'PHASE', 'READY'], rows: s.deployments.map((d) => [d.name, d.cluster, d.phase, String(d.readyReplicas)]) }), 4)
    : '    <none>\n';
  return out;
}

function deploymentStatus(d: DeploymentResource, nowMs: number): string {
  const s = d.status;
  if (!s) return '  <not reconciled yet>\n';
  let out = indent(
    fieldList([
      ['Phase', s.phase],
      ['Ready', `${s.readyReplicas} of ${s.desiredReplicas} replicas`],
      ['Served name', s.servedName ?? '-'],
      ['Observed generation', String(s.observedGeneration)],
    ]),
  );
  out += '  Replicas:\n';
  out += s.replicas.length
    ? indent(
        renderTable({
          headers: ['INDEX', 'ID', 'STATE', 'ENDPOINT', 'PID', 'RESTARTS', 'AGE', 'MESSAGE'],
          rows: s.replicas.map((r) => [String(r.index), r.id, r.state, r.endpoint ?? '-', r.pid === undefined ? '-' : String(r.pid), String(r.restarts), ageOf(r.startedAt, nowMs, '-'), r.message ?? '']),
        }),
        4,
      )
    : '    <none>\n';
  return out;
}

function clusterStatus(c: ClusterResource, nowMs: number): string {
  const s = c.status;
  if (!s) return '  <no heartbeat yet>\n';
  let out = indent(
    fieldList([
      ['Health', s.health],
      ['Message', s.message ?? '-'],
      ['Agent version', s.agentVersion ?? '-'],
      ['Last heartbeat', s.lastHeartbeat ? `${shortDate(s.lastHeartbeat)} (${ageOf(s.lastHeartbeat, nowMs)} ago)` : '<never>'],
      ['GPUs', gpuSummary(s.nodes, s.simulated === true)],
    ]),
  );
  out += '  Nodes:\n';
  out += s.nodes.length
    ? indent(
        renderTable({
          headers: ['NAME', 'CPUS', 'MEMORY', 'GPUS', 'IN-USE', 'GPU-MEMORY', 'SOURCE'],
          rows: s.nodes.map((n) => [
            n.name,
            String(n.cpus),
            gib(n.memoryBytes / 2 ** 30),
            gpuSummary([n]),
            String(n.gpus.reduce((k, g) => k + g.inUse, 0)),
            n.gpus.map((g) => gib(g.memoryMiB / 1024)).join(',') || '-',
            n.source,
          ]),
        }),
        4,
      )
    : '    <none>\n';
  out += '  Endpoints:\n';
  out += s.endpoints.length ? indent(renderTable({ headers: ['URL', 'HEALTHY', 'MESSAGE'], rows: s.endpoints.map((e) => [e.url, e.healthy ? 'yes' : 'no', e.message ?? '']) }), 4) : '    <none>\n';
  return out;
}

function events(list: readonly ResourceEvent[], nowMs: number): string {
  if (list.length === 0) return '  <none>\n';
  return indent(renderTable({ headers: ['TYPE', 'REASON', 'AGE', 'MESSAGE'], rows: list.map((e) => [e.type, e.reason, ageOf(e.time, nowMs), e.message]) }));
}

/** `Name:   value` lines with the values aligned. */
function fieldList(fields: readonly [string, string][]): string {
  const w = Math.max(...fields.map(([k]) => k.length)) + 2;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(w)}${v}\n`).join('');
}

function keyValues(rec: Record<string, string>): string {
  const entries = Object.entries(rec);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '<none>';
}

function indent(text: string, n = 2): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}

function gib(n: number): string {
  return `${Number.isInteger(n) ? n : n.toFixed(1)}Gi`;
}
