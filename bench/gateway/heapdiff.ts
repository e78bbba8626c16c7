/**
 * Compare two V8 heap snapshots (e.g. from `profile.ts --snapshot N`: a gateway with 0 and with N
 * idle streams): live objects grouped by type and constructor, with the difference per stream.
 *
 *   node --import tsx bench/gateway/heapdiff.ts BEFORE.heapsnapshot AFTER.heapsnapshot N [top]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

function groups(path: string): Map<string, { count: number; size: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0] as string[];
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodes.length; i += f.length) {
    const type = types[s.nodes[i + iType]!]!;
    let name = s.strings[s.nodes[i + iName]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (name.length > 60) name = `${name.slice(0, 60)}…`;
    const key = `${type} ${name}`;
    const g = out.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += s.nodes[i + iSize]!;
    out.set(key, g);
  }
  return out;
}

const [a, b, nText, topText] = process.argv.slice(2);
if (!a || !b || !nText) throw new Error('usage: heapdiff.ts BEFORE AFTER N [top]');
const n = Number(nText);
const before = groups(a);
const after = groups(b);
const rows = [...after].map(([k, v]) => {
  const p = before.get(k) ?? { count: 0, size: 0 };
  return { k, count: (v.count - p.count) / n, bytes: (v.size - p.size) / n };
});
const total = rows.reduce((s, r) => s + r.bytes, 0);
process.stdout.write(`total ${total.toFixed(0)} B/stream of JS heap (self sizes)\n`);
for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, Number(topText ?? 60))) {
  process.stdout.write(`${r.bytes.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(6)}x  ${r.k}\n`);
}
