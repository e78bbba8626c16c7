/**
 * The API reference page (served at /docs): rendered at run time from the OpenAPI document,
 * so it shows exactly what the server validates. Plain HTML, no scripts.
 */
type Json = Record<string, unknown>;

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) ?? '');

function typeText(s: Json): string {
  if (typeof s.$ref === 'string') return s.$ref.split('/').pop() ?? '';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(typeText).join(' | ');
  if (Array.isArray(s.oneOf)) return (s.oneOf as Json[]).map(typeText).join(' | ');
  if (s.type === 'array' && isObj(s.items)) return `${typeText(s.items)}[]`;
  if (s.type === 'object' && isObj(s.additionalProperties)) return `map of ${typeText(s.additionalProperties)}`;
  return Array.isArray(s.type) ? s.type.map(text).join(' | ') : s.type === undefined ? 'any' : text(s.type);
}

/** Rows for every property, nested objects flattened with dotted paths. */
function propertyRows(schema: Json, prefix = '', depth = 0): string[] {
  const props = isObj(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const rows: string[] = [];
  for (const [name, raw] of Object.entries(props)) {
    if (!isObj(raw)) continue;
    const path = prefix + name;
    const extra = [raw.description, 'default' in raw ? `default ${JSON.stringify(raw.default)}` : '', raw.pattern ? `pattern ${text(raw.pattern)}` : '', raw.minimum !== undefined ? `min ${text(raw.minimum)}` : '', raw.maximum !== undefined ? `max ${text(raw.maximum)}` : '']
      .filter(Boolean)
      .join('; ');
    rows.push(`<tr><td><code>${esc(path)}</code></td><td>${esc(typeText(raw))}</td><td>${required.has(name) ? 'yes' : ''}</td><td>${esc(extra)}</td></tr>`);
    const inner = raw.type === 'array' && isObj(raw.items) ? raw.items : raw;
    if (depth < 4 && isObj(inner.properties)) rows.push(...propertyRows(inner, `${path}${inner === raw ? '' : '[]'}.`, depth + 1));
  }
  return rows;
}

export function renderApiReference(doc: Json): string {
  const info = isObj(doc.info) ? doc.info : {};
  const paths = isObj(doc.paths) ? doc.paths : {};
  const schemas = isObj(doc.components) && isObj(doc.components.schemas) ? doc.components.schemas : {};
  const ops: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isObj(item)) continue;
    for (const method of ['get', 'post', 'put', 'delete', 'patch']) {
      const op = item[method];
      if (!isObj(op)) continue;
      const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
      const params = [...list(item.parameters), ...list(op.parameters)].filter(isObj);
      const responses = isObj(op.responses) ? Object.entries(op.responses).map(([code, r]) => `${code} ${isObj(r) ? esc(r.description) : ''}`) : [];
      ops.push(
        `<section><h3><span class="m">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3><p>${esc(op.summary ?? '')}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}` +
          (params.length ? `<p>Parameters: ${params.map((p) => `<code>${esc(p.name)}</code> (${esc(p.in)})`).join(', ')}</p>` : '') +
          `<p>Responses: ${responses.join('; ')}</p></section>`,
      );
    }
  }
  const types = Object.entries(schemas)
    .filter(([, s]) => isObj(s))
    .map(([name, s]) => `<section id="${esc(name)}"><h3>${esc(name)}</h3><p>${esc((s as Json).description ?? '')}</p><table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>${propertyRows(s as Json).join('')}</table></section>`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(info.title ?? 'API')} reference</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em}code{font-size:13px}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}.m{font-family:monospace;background:#eef;padding:1px 5px}</style></head>
<body><h1>${esc(info.title ?? 'API')} <small>${esc(info.version ?? '')}</small></h1><p>${esc(info.description ?? '')}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<h2>Operations</h2>${ops.join('\n')}<h2>Types</h2>${types.join('\n')}</body></html>`;
}
