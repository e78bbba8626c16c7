/**
 * Seeded generators of malformed and hostile requests for test/fuzz.test.ts.
 *
 * Everything is derived from one seed through `Prng` (no Math.random): case `i` of a run is
 * built from its own generator seeded with `mix(seed, i)`, so any case can be rebuilt alone
 * from (seed, index) to reproduce a failure. Cases are built one at a time when they are sent,
 * never kept, so large bodies do not pile up in memory.
 *
 * Two kinds of case:
 * - `http`: method, path, headers and body, sent with undici (which refuses CR/LF and other
 *   invalid bytes in headers, and fixes the framing itself);
 * - `raw`: the exact bytes of one or more HTTP/1.1 requests, written to a `net.Socket` — for
 *   malformed request lines, header injection, oversized or too many headers, bad
 *   Content-Length and broken chunked encoding.
 *
 * Writes through the admin API never name the fixtures the run depends on (`FuzzContext.
 * protectedNames`): a successful fuzzed DELETE or PUT of the test's own cluster would turn every
 * later request into a legitimate "no backend" error and hide real bugs.
 *
 * Run as a child process (SWITCHYARD_FUZZ_CHILD set, see `runChild` at the end), this module is
 * the server under test or the simulated engine behind it.
 */
import { API_VERSION } from '../../src/api/index.js';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** A small 32-bit counter-based PRNG (a Weyl sequence through an integer hash). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** The seed of case `index` of a run seeded with `seed`. */
export function mix(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x27d4eb2d, 0x165667b1) ^ Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

// ---------------------------------------------------------------------------------------------
// Cases

export type Category =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'responses'
  | 'models'
  | 'openai-misc'
  | 'admin-resources'
  | 'admin-tenancy'
  | 'admin-apply'
  | 'admin-watch'
  | 'admin-history'
  | 'odd-paths'
  | 'raw-http'
  | 'huge'
  | 'memory';

/** How many cases of each category one run sends (10,250 in all). */
export const PLAN: Readonly<Record<Category, number>> = {
  chat: 2400,
  completions: 1100,
  embeddings: 900,
  responses: 700,
  models: 300,
  'openai-misc': 300,
  'admin-resources': 2000,
  'admin-tenancy': 500,
  'admin-apply': 500,
  'admin-watch': 200,
  'admin-history': 200,
  'odd-paths': 400,
  'raw-http': 600,
  huge: 30,
  memory: 120,
};

export interface FuzzContext {
  model: string;
  apiKey: string;
  adminToken: string;
  /** Names that fuzzed writes must never use (the fixtures). */
  protectedNames: ReadonlySet<string>;
  /** Fixture names that reads may use. */
  fixtureCluster: string;
  fixtureFunction: string;
  fixtureDeployment: string;
  fixtureTenant: string;
  /** The gateway's body limit (limits.maxBodyBytes) and the admin API's. */
  maxBodyBytes: number;
  adminMaxBodyBytes: number;
}

export interface HttpCase {
  type: 'http';
  index: number;
  category: Category;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A body sent with chunked encoding (no Content-Length), produced on demand. */
  chunkedBody?: { chunk: Buffer; count: number };
  /** A response that may never end (watch, log follow): read its first chunk, then hang up. */
  firstChunkOnly?: boolean;
  /** The server may answer and close before it read the whole (oversized) body. */
  mayResetUpload?: boolean;
  note: string;
}

export interface RawCase {
  type: 'raw';
  index: number;
  category: Category;
  bytes: Buffer;
  note: string;
}

export type FuzzCase = HttpCase | RawCase;

/** The category of every case of a run, in sending order (a seeded shuffle of PLAN). */
export function schedule(seed: number): Category[] {
  const out: Category[] = [];
  for (const [c, n] of Object.entries(PLAN) as [Category, number][]) for (let i = 0; i < n; i++) out.push(c);
  return new Prng(mix(seed, -1)).shuffle(out);
}

/** Build case `index` (the `ordinal`-th of its category) of a run. */
export function buildCase(seed: number, index: number, category: Category, ordinal: number, ctx: FuzzContext): FuzzCase {
  const r = new Prng(mix(seed, index));
  const g = new Gen(r, ctx);
  switch (category) {
    case 'chat':
    case 'completions':
    case 'embeddings':
    case 'responses':
      return g.openai(index, category);
    case 'models':
      return g.models(index);
    case 'openai-misc':
      return g.openaiMisc(index);
    case 'admin-resources':
      return g.adminResources(index);
    case 'admin-tenancy':
      return g.adminTenancy(index);
    case 'admin-apply':
      return g.adminApply(index);
    case 'admin-watch':
      return g.adminWatch(index);
    case 'admin-history':
      return g.adminHistory(index);
    case 'odd-paths':
      return g.oddPaths(index);
    case 'raw-http':
      return g.raw(index);
    case 'huge':
      return g.huge(index, ordinal);
    case 'memory':
      return g.memory(index, ordinal);
  }
}

/** A printable description of a case, with the secrets replaced by placeholders. */
export function describeCase(c: FuzzCase, ctx: FuzzContext, maxBody = 600): string {
  const hide = (s: string): string => s.split(ctx.apiKey).join('<API_KEY>').split(ctx.adminToken).join('<ADMIN_TOKEN>');
  if (c.type === 'raw') {
    return hide(`#${c.index} [${c.category}] ${c.note}\nraw bytes (${c.bytes.length}): ${JSON.stringify(preview(c.bytes, maxBody))}`);
  }
  const headers = Object.entries(c.headers).map(([k, v]) => `${k}: ${preview(Buffer.from(v, 'latin1'), 200)}`).join('\n  ');
  const body = c.body !== undefined ? `body (${c.body.length} bytes): ${JSON.stringify(preview(c.body, maxBody))}`
    : c.chunkedBody ? `chunked body: ${c.chunkedBody.count} x ${c.chunkedBody.chunk.length} bytes starting ${JSON.stringify(preview(c.chunkedBody.chunk, 80))}`
    : 'no body';
  return hide(`#${c.index} [${c.category}] ${c.note}\n${c.method} ${preview(Buffer.from(c.path, 'latin1'), 300)}\n  ${headers}\n${body}`);
}

function preview(b: Buffer, max: number): string {
  const head = b.subarray(0, max).toString('latin1');
  return b.length > max ? `${head}…(+${b.length - max} bytes)` : head;
}

// ---------------------------------------------------------------------------------------------
// JSON bodies with raw splices
//
// A body is built as a JS value, serialised, and then placeholder strings in it are replaced by
// raw bytes that JSON.stringify cannot produce: NaN, 1e309, invalid UTF-8, duplicate or
// `__proto__` keys, 10,000-deep nesting.

class Splices {
  private readonly subs = new Map<string, Buffer>();
  private n = 0;

  /** A string that serialises to a placeholder replaced by `raw` (quotes included). */
  raw(raw: string | Buffer): string {
    const key = `@@fz${this.n++}@@`;
    this.subs.set(`"${key}"`, typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw);
    return key;
  }

  render(value: unknown): Buffer {
    const text = JSON.stringify(value) ?? 'null';
    return this.apply(Buffer.from(text, 'utf8'));
  }

  apply(buf: Buffer): Buffer {
    if (this.subs.size === 0) return buf;
    const parts: Buffer[] = [];
    let rest = buf;
    for (;;) {
      let best = -1;
      let bestKey = '';
      for (const k of this.subs.keys()) {
        const at = rest.indexOf(k);
        if (at >= 0 && (best < 0 || at < best)) {
          best = at;
          bestKey = k;
        }
      }
      if (best < 0) break;
      parts.push(rest.subarray(0, best), this.subs.get(bestKey)!);
      rest = rest.subarray(best + bestKey.length);
    }
    parts.push(rest);
    return Buffer.concat(parts);
  }
}

/** Literals that are not JSON, or are JSON that JavaScript reads oddly. */
const ODD_LITERALS = [
  'NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e-400', '0x10', '010', '+1', '.5', '1.', '1e', '--1', '-', '9007199254740993',
  '123456789012345678901234567890', '-0', '1E400', '0.0000000000000000000000000000001', 'undefined', 'True', 'None', 'nul', "'single'",
  '"\\u00"', '"\\x41"', '"\\ud800"', '"\\udc00\\ud800"', '"tab\there"', '"new\nline"', '"\\u0000"', '// comment', '/* c */1', '1,', '[1,]', '{"a":1,}',
  '{,}', '[,1]', '"\\"', '"unterminated', '{"a" 1}', '{a:1}', '[', '{', '}', ']', '"\\uD83D\\uDE00"', '1 2', 'tru', 'nulll', '"\u2028\u2029"',
];

/** Byte sequences that are not valid UTF-8. */
const BAD_UTF8: readonly number[][] = [
  [0xff], [0xfe, 0xff], [0xc3, 0x28], [0xa0, 0xa1], [0xe2, 0x28, 0xa1], [0xe2, 0x82, 0x28], [0xf0, 0x28, 0x8c, 0xbc], [0xf0, 0x90, 0x28, 0xbc],
  [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xbf], [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80], [0xc1, 0xbf], [0x00],
];

/** Keys that are hostile in JavaScript objects. */
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '__lookupGetter__', 'then'];

const WORDS = [
  'user', 'system', 'assistant', 'tool', 'function', 'developer', 'text', 'image_url', 'input_audio', 'file', 'refusal', 'json_schema', 'json_object',
  'none', 'auto', 'required', 'float', 'base64', 'vllm', 'static', 'admin', 'viewer', 'operator', 'tenant-admin', 'Function', 'Cluster', 'Tenant',
  'Deployment', 'ApiKey', 'true', 'false', 'null', '1', '-1', 'NaN', '{}', '[]', '<script>alert(1)</script>', "'; DROP TABLE resources; --",
  '../../etc/passwd', '%00', '\\', '"', '${jndi:ldap://x}', '{{7*7}}', 'sk-sy-', 'Bearer', '\u202e', '\u200b', '😀', 'Ω≈ç√', 'ﷺ', '\u0000', '\r\n',
];

const KEY_POOL = [
  'a', 'x', '', ' ', 'model', 'messages', 'role', 'content', 'type', 'text', 'name', 'stream', 'stream_options', 'include_usage', 'spec', 'metadata',
  'kind', 'items', 'labels', 'to', 'role\u0000', 'ключ', '😀', 'a'.repeat(300), '$ref', '$where', '__proto__', 'constructor', 'toString',
];

// ---------------------------------------------------------------------------------------------
// The generator of one case

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = readonly (string | number)[];

class Gen {
  private readonly sp = new Splices();

  constructor(
    private readonly r: Prng,
    private readonly ctx: FuzzContext,
  ) {}

  // ---- values ---------------------------------------------------------------------------------

  /** A random string of one of many shapes. */
  str(): string {
    const r = this.r;
    switch (r.int(12)) {
      case 0: return '';
      case 1: return r.pick(WORDS);
      case 2: return this.ascii(r.range(1, 40));
      case 3: return this.unicode(r.range(1, 30));
      case 4: return String.fromCharCode(...Array.from({ length: r.range(1, 10) }, () => r.int(32)));
      case 5: return r.pick(['\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\uffff', '\ufeff', '\ufffe']);
      case 6: return r.chance(0.5) ? 'x'.repeat(r.pick([100, 1000, 4096])) : this.words(r.pick([10_000, 65_536]));
      case 7: return this.ctx.model;
      case 8: return r.pick(['fz-a', 'fz-b', 'fx', 'a', '0', '-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(64)]);
      case 9: return String(r.int(1e9));
      case 10: return this.ascii(r.range(1, 8)) + r.pick(WORDS);
      default: return r.pick(WORDS) + r.pick(WORDS);
    }
  }

  /**
   * About `n` characters of space-separated words. Long prompt text is built this way: the
   * simulated engine's BPE tokenizer is quadratic in the length of a single word (reported
   * separately), and a fixture stuck for minutes on one request would hide everything else.
   */
  words(n: number): string {
    const w = ['lorem ', 'ipsum ', 'dolor ', 'sit ', 'amet ', 'x ', 'ünïcödé ', '数据 ', '🙂 ', 'tab\t', 'nl\n'];
    let s = '';
    while (s.length < n) s += this.r.pick(w);
    return s;
  }

  ascii(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.r.range(0x20, 0x7e));
    return s;
  }

  unicode(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const cp = this.r.pick([this.r.range(0x80, 0x7ff), this.r.range(0x800, 0xd7ff), this.r.range(0xe000, 0xffff), this.r.range(0x10000, 0x10ffff)]);
      s += String.fromCodePoint(cp);
    }
    return s;
  }

  num(): number {
    const r = this.r;
    return r.pick([
      0, -0, 1, -1, 2, 0.5, -0.5, 1.5, 20, 21, 100, 255, 256, 1024, 4096, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53),
      1e21, 1e300, -1e300, 5e-324, Number.MIN_VALUE, 1e-7, r.int(100), r.int(1e6) - 5e5, (r.next() - 0.5) * 10 ** r.int(30),
    ]);
  }

  /** A random JSON value of any type. */
  value(depth = 0): Json {
    const r = this.r;
    switch (r.int(depth > 2 ? 7 : 10)) {
      case 0: return null;
      case 1: return r.chance(0.5);
      case 2:
      case 3: return this.num();
      case 4:
      case 5: return this.str();
      case 6: return this.sp.raw(r.pick(ODD_LITERALS));
      case 7: return Array.from({ length: r.int(5) }, () => this.value(depth + 1));
      case 8: {
        const o: Record<string, Json> = {};
        for (let i = r.int(5); i > 0; i--) o[this.key()] = this.value(depth + 1);
        return o;
      }
      default: return r.chance(0.5) ? Array.from({ length: r.pick([100, 1000, 5000]) }, () => r.int(100_000)) : [this.value(depth + 1)];
    }
  }

  /** An object key, hostile ones included (spliced in raw so that `__proto__` stays a plain key). */
  key(): string {
    const r = this.r;
    if (r.chance(0.15)) return this.sp.raw(JSON.stringify(r.pick(PROTO_KEYS)));
    return r.chance(0.7) ? r.pick(KEY_POOL) : this.str();
  }

  deep(): string {
    const r = this.r;
    const d = r.pick([1000, 5000, 10_000, 10_000, 10_000, 20_000, 100_000]);
    switch (r.int(4)) {
      case 0: return '['.repeat(d) + ']'.repeat(d);
      case 1: return '{"a":'.repeat(d) + '1' + '}'.repeat(d);
      case 2: return '[{"a":'.repeat(d >> 1) + 'null' + '}]'.repeat(d >> 1);
      default: return '['.repeat(d) + (r.chance(0.5) ? ']'.repeat(d - 1) : ']'.repeat(d + 1)); // unbalanced
    }
  }

  badUtf8String(): Buffer {
    const r = this.r;
    const parts: Buffer[] = [Buffer.from('"' + this.ascii(r.int(5)))];
    for (let i = r.range(1, 3); i > 0; i--) parts.push(Buffer.from(r.pick(BAD_UTF8)), Buffer.from(this.ascii(r.int(4))));
    parts.push(Buffer.from('"'));
    return Buffer.concat(parts);
  }

  // ---- JSON paths -----------------------------------------------------------------------------

  /** Set `path` in `root` (creating containers), or delete it. */
  setPath(root: Record<string, Json>, path: Path, value: Json | undefined): void {
    let cur: Json = root;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      const nextIsIndex = typeof path[i + 1] === 'number';
      const holder = cur as Record<string | number, Json>;
      const child = holder[k];
      if (child === null || typeof child !== 'object' || Array.isArray(child) !== nextIsIndex) {
        if (value === undefined) return;
        holder[k] = nextIsIndex ? [] : {};
      }
      cur = holder[k]!;
    }
    const holder = cur as Record<string | number, Json>;
    const last = path[path.length - 1]!;
    if (value === undefined) {
      if (Array.isArray(holder) && typeof last === 'number') holder.splice(last, 1);
      else delete holder[last];
    } else {
      holder[last] = value;
    }
  }

  /**
   * Mutate a valid body. Returns the bytes, and what was done (for the report). `paths` are the
   * fields worth hitting (known fields, nested ones included).
   */
  mutateJson(base: Record<string, Json>, paths: readonly Path[], extra: { streamable?: boolean } = {}): { body: Buffer; note: string; contentType?: string } {
    const r = this.r;
    const roll = r.int(100);
    const pathStr = (p: Path) => p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
    if (roll < 12) return { body: this.sp.render(base), note: 'valid' };
    if (roll < 40) {
      const notes: string[] = [];
      for (let i = r.range(1, 3); i > 0; i--) {
        const p = r.pick(paths);
        const v = this.value();
        this.setPath(base, p, v);
        notes.push(`${pathStr(p)}=${typeof v === 'string' ? 'string' : Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v}`);
      }
      return { body: this.sp.render(base), note: `wrong values: ${notes.join(', ')}` };
    }
    if (roll < 48) {
      const p = r.pick(paths);
      this.setPath(base, p, undefined);
      if (r.chance(0.3)) this.setPath(base, r.pick(paths), undefined);
      return { body: this.sp.render(base), note: `missing ${pathStr(p)}` };
    }
    if (roll < 55) {
      for (let i = r.range(1, 6); i > 0; i--) base[this.key()] = this.value();
      return { body: this.sp.render(base), note: 'extra fields' };
    }
    if (roll < 59) {
      const p = r.chance(0.5) ? r.pick(paths) : [this.ascii(3)];
      this.setPath(base, p, this.sp.raw(this.deep()));
      if (extra.streamable && r.chance(0.5)) {
        base.stream = true;
        base.stream_options = r.chance(0.5) ? {} : { include_usage: false };
      }
      return { body: this.sp.render(base), note: `deep nesting at ${pathStr(p)}${base.stream === true ? ' (stream)' : ''}` };
    }
    if (roll < 66) {
      const p = r.pick(paths);
      this.setPath(base, p, this.sp.raw(this.badUtf8String()));
      return { body: this.sp.render(base), note: `invalid UTF-8 at ${pathStr(p)}` };
    }
    if (roll < 70) {
      const full = this.sp.render(base);
      const cut = r.int(full.length);
      return { body: full.subarray(0, cut), note: `truncated at ${cut}/${full.length}` };
    }
    if (roll < 75) {
      const type = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/xml', '', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/octet-stream', 'json', '*/*', 'application/json, text/plain', 'text/event-stream']);
      return { body: this.sp.render(base), note: `content-type '${type}'`, contentType: type };
    }
    if (roll < 81) {
      const p = r.pick(paths);
      const lit = r.pick(ODD_LITERALS);
      this.setPath(base, p, this.sp.raw(lit));
      return { body: this.sp.render(base), note: `literal ${JSON.stringify(lit)} at ${pathStr(p)}` };
    }
    if (roll < 85) {
      // Duplicate keys: JSON.parse keeps the last one.
      const text = this.sp.render(base).toString('utf8');
      const dupKey = r.pick(Object.keys(base).concat(['model', 'stream']));
      const dup = `${JSON.stringify(dupKey)}:${this.sp.render(this.value()).toString('utf8')}`;
      const body = r.chance(0.5) ? `{${dup},${text.slice(1)}` : `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${dup}}`;
      return { body: Buffer.from(body, 'utf8'), note: `duplicate key ${JSON.stringify(dupKey)}` };
    }
    if (roll < 89) {
      const polluting: Json = { polluted: 'yes', model: 'evil', isAdmin: true, stream: true, toString: 'x' };
      const where = r.pick(['__proto__', 'constructor', 'prototype']);
      const value: Json = where === 'constructor' ? { prototype: polluting } : polluting;
      if (r.chance(0.5)) base[this.sp.raw(JSON.stringify(where))] = value;
      else this.setPath(base, [...r.pick(paths), this.sp.raw(JSON.stringify(where))], value);
      return { body: this.sp.render(base), note: `prototype pollution via ${where}` };
    }
    if (roll < 93) {
      const body = r.pick<string | Buffer>(['', ' ', '\n', 'null', '[]', '{}', '"str"', '1', 'true', '[{}]', '\ufeff{}', '{"a":1}{"b":2}', '{"model":', '{}}', '\u0000', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), this.sp.render(base)]), this.r.bytes(this.r.range(1, 300)), Buffer.from(this.sp.render(base).toString('utf8'), 'utf16le')]);
      return { body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body, note: 'not a JSON object' };
    }
    if (extra.streamable && roll < 98) {
      base.stream = r.pick<Json>([true, true, 'true', 1, null]);
      base.stream_options = r.pick<Json>([this.value(), null, {}, [], 'yes', { include_usage: this.value() }, { include_usage: true, continuous_usage_stats: this.value() }, { include_usage: true, [this.key()]: this.value() }, { include_obfuscation: this.value() }, this.sp.raw(this.deep())]);
      if (r.chance(0.2)) delete base.stream;
      return { body: this.sp.render(base), note: 'stream with bad stream_options' };
    }
    // A bit of everything.
    for (let i = r.range(2, 4); i > 0; i--) {
      const what = r.int(4);
      if (what < 2) this.setPath(base, r.pick(paths), this.value());
      else if (what === 2) this.setPath(base, r.pick(paths), undefined);
      else base[this.key()] = this.value();
    }
    return { body: this.sp.render(base), note: 'combined mutations' };
  }

  // ---- auth and headers -------------------------------------------------------------------------

  private garbageAuth(): string | undefined {
    const r = this.r;
    const key = this.ctx.apiKey;
    return r.pick<() => string | undefined>([
      () => undefined,
      () => 'Bearer',
      () => 'Bearer ',
      () => 'Bearer  ',
      () => 'Basic dXNlcjpwYXNz',
      () => `bearer ${key}`,
      () => `BEARER ${this.ctx.adminToken}`,
      () => `Bearer ${key}x`,
      () => `Bearer ${key.slice(0, -1)}`,
      () => `Bearer sk-sy-${'A'.repeat(43)}`,
      () => `Bearer ${'x'.repeat(r.pick([1000, 10_000, 30_000]))}`,
      () => `Bearer ${key} ${key}`,
      () => `Token ${key}`,
      () => `Bearer\t${key}`,
      () => `Bearer ${key}\t`,
      () => `Bearer sy-agent-fx-rack.${'A'.repeat(20)}`,
      () => `Bearer sy-agent-${'a'.repeat(200)}.x`,
      () => `Bearer sy-tok-${this.ascii(10).replace(/\s/g, '')}`,
      () => `Bearer ${Buffer.from(this.r.bytes(20).map((b) => 0x80 | b)).toString('latin1')}`,
      () => `Bearer ${this.ascii(30)}`,
      () => '',
    ])();
  }

  openaiAuth(h: Record<string, string>): void {
    const p = this.r.next();
    const v = p < 0.72 ? `Bearer ${this.ctx.apiKey}` : p < 0.8 ? `Bearer ${this.ctx.adminToken}` : this.garbageAuth();
    if (v !== undefined) h.authorization = v;
  }

  adminAuth(h: Record<string, string>): void {
    const p = this.r.next();
    const v = p < 0.75 ? `Bearer ${this.ctx.adminToken}` : p < 0.85 ? `Bearer ${this.ctx.apiKey}` : this.garbageAuth();
    if (v !== undefined) h.authorization = v;
  }

  /** Now and then, odd extra headers. */
  extraHeaders(h: Record<string, string>): void {
    const r = this.r;
    if (!r.chance(0.25)) return;
    for (let i = r.range(1, 4); i > 0; i--) {
      const [k, v] = r.pick<[string, () => string]>([
        ['x-request-id', () => r.pick(['', 'a'.repeat(500), this.ascii(20), '\xff\xfe', 'id with spaces'])],
        ['x-session-id', () => r.pick(['', 'a'.repeat(5000), this.ascii(20)])],
        ['x-switchyard-user', () => r.pick(['', 'a'.repeat(500), this.ascii(20), 'root', '\xe9\xe8'])],
        ['last-event-id', () => r.pick(['', '-1', 'abc', '99999999999999999999999', '1e3', '0'])],
        ['accept', () => r.pick(['text/event-stream', '*/*', 'application/xml', '', 'a'.repeat(1000)])],
        ['accept-encoding', () => r.pick(['gzip', 'br', 'identity;q=0', '*'])],
        ['content-encoding', () => r.pick(['gzip', 'deflate', 'br', 'identity', 'x'])],
        ['x-forwarded-for', () => r.pick(['127.0.0.1', '::1, 10.0.0.1', this.ascii(30)])],
        ['cookie', () => `a=${this.ascii(20).replace(/[;\s]/g, '')}`],
        ['x-' + this.ascii(6).replace(/[^a-z]/gi, 'a').toLowerCase(), () => this.ascii(r.range(0, 100))],
      ]);
      h[k] = v();
    }
  }

  // ---- OpenAI API -------------------------------------------------------------------------------

  private modelValue(): Json {
    const r = this.r;
    const p = r.next();
    if (p < 0.8) return this.ctx.model;
    return r.pick<Json>(['', 'gpt-4', this.ctx.model.toUpperCase(), ` ${this.ctx.model}`, `${this.ctx.model}\u0000`, 'x'.repeat(5000), this.unicode(5), 'fzsrv-fz-a', null, 1, [this.ctx.model]]);
  }

  openai(index: number, kind: 'chat' | 'completions' | 'embeddings' | 'responses'): HttpCase {
    const r = this.r;
    const maxTokens = r.range(1, 6);
    let base: Record<string, Json>;
    let paths: Path[];
    switch (kind) {
      case 'chat': {
        const messages: Json[] = [{ role: 'user', content: `hello ${r.int(1000)}` }];
        if (r.chance(0.3)) messages.unshift({ role: 'system', content: 'be brief' });
        if (r.chance(0.15)) messages.push({ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }, { role: 'user', content: [{ type: 'text', text: 'and?' }] });
        base = { model: this.modelValue(), messages, max_tokens: maxTokens };
        if (r.chance(0.3)) base.stream = true;
        if (base.stream === true && r.chance(0.5)) base.stream_options = { include_usage: r.chance(0.5) };
        if (r.chance(0.2)) base.temperature = 0.5;
        if (r.chance(0.1)) Object.assign(base, { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }], tool_choice: 'auto' });
        if (r.chance(0.1)) base.response_format = { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' } } };
        if (r.chance(0.1)) base.ignore_eos = true;
        paths = [
          ['model'], ['messages'], ['messages', 0], ['messages', 0, 'role'], ['messages', 0, 'content'], ['messages', 0, 'content', 0], ['messages', 0, 'content', 0, 'type'],
          ['messages', 0, 'name'], ['messages', 1, 'tool_calls'], ['messages', 0, 'tool_call_id'], ['max_tokens'], ['max_completion_tokens'], ['temperature'], ['top_p'], ['n'],
          ['stream'], ['stream_options'], ['stream_options', 'include_usage'], ['stop'], ['seed'], ['user'], ['presence_penalty'], ['frequency_penalty'], ['logit_bias'],
          ['logprobs'], ['top_logprobs'], ['tools'], ['tools', 0, 'function'], ['tools', 0, 'function', 'parameters'], ['tool_choice'], ['response_format'],
          ['response_format', 'type'], ['response_format', 'json_schema', 'schema'], ['parallel_tool_calls'], ['metadata'], ['store'], ['service_tier'], ['ignore_eos'],
          ['min_tokens'], ['top_k'], ['repetition_penalty'], ['messages', 5], ['messages', 0, 'content', 'text'],
        ];
        break;
      }
      case 'completions':
        base = { model: this.modelValue(), prompt: r.pick<Json>([`once upon ${r.int(100)}`, ['a b c'], [1, 2, 3], [[4, 5]]]), max_tokens: maxTokens };
        if (r.chance(0.3)) base.stream = true;
        if (r.chance(0.1)) base.echo = true;
        paths = [['model'], ['prompt'], ['prompt', 0], ['prompt', 1], ['max_tokens'], ['echo'], ['logprobs'], ['suffix'], ['best_of'], ['stream'], ['stream_options'], ['stream_options', 'include_usage'], ['stop'], ['seed'], ['temperature'], ['n'], ['user'], ['logit_bias'], ['min_tokens'], ['ignore_eos']];
        break;
      case 'embeddings':
        base = { model: this.modelValue(), input: r.pick<Json>([`embed ${r.int(100)}`, ['a', 'b'], [1, 2, 3], [[1], [2, 3]]]) };
        if (r.chance(0.2)) base.encoding_format = r.pick(['float', 'base64']);
        if (r.chance(0.1)) base.dimensions = r.range(1, 64);
        paths = [['model'], ['input'], ['input', 0], ['input', 1], ['encoding_format'], ['dimensions'], ['user']];
        break;
      case 'responses':
        base = { model: this.modelValue(), input: r.pick<Json>(['hi', [{ role: 'user', content: 'hi' }]]), max_output_tokens: maxTokens };
        if (r.chance(0.3)) base.stream = true;
        if (r.chance(0.2)) base.instructions = 'be brief';
        paths = [['model'], ['input'], ['input', 0], ['input', 0, 'content'], ['instructions'], ['stream'], ['max_output_tokens'], ['temperature'], ['top_p'], ['user'], ['metadata'], ['store'], ['tools'], ['previous_response_id']];
        break;
    }
    const m = this.mutateJson(base, paths, { streamable: kind !== 'embeddings' });
    const headers: Record<string, string> = {};
    if (m.contentType === undefined) headers['content-type'] = 'application/json';
    else if (m.contentType !== '') headers['content-type'] = m.contentType;
    this.openaiAuth(headers);
    this.extraHeaders(headers);
    const path = `/v1/${kind === 'chat' ? 'chat/completions' : kind}${r.chance(0.05) ? r.pick(['?stream=true', '?', '?model=x', '?a=%zz', '#x']) : ''}`;
    return { type: 'http', index, category: kind, method: 'POST', path, headers, body: m.body, note: m.note };
  }

  models(index: number): HttpCase {
    const r = this.r;
    const headers: Record<string, string> = {};
    this.openaiAuth(headers);
    this.extraHeaders(headers);
    const path = r.pick(['/v1/models', '/v1/models', '/v1/models?limit=-1', '/v1/models?after=%00', `/v1/models?${'a=1&'.repeat(1000)}`, '/v1/models/', `/v1/models/${this.ctx.model}`, '/v1/models?x=' + 'y'.repeat(5000)]);
    return { type: 'http', index, category: 'models', method: 'GET', path, headers, note: 'list models' };
  }

  openaiMisc(index: number): HttpCase {
    const r = this.r;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    this.openaiAuth(headers);
    const path = r.pick(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/v1/models', '/v1/chat', '/v1/chat/completions/', '/v1/chat/completions/x', '/v1/', '/v1', '/v1/files', '/v1/images/generations', '/v1/audio/speech', '/v1/moderations', '/v1/batches', '/v1/responses/resp_1', '/v2/chat/completions', '/V1/CHAT/COMPLETIONS', '/v1//chat/completions', '/v1/chat/completions;x', '/v1/chat%2fcompletions']);
    const method = r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST', 'POST', 'TRACE', 'PROPFIND', 'FOO']);
    const withBody = method !== 'GET' && method !== 'HEAD' && method !== 'TRACE';
    const body = withBody ? this.sp.render({ model: this.ctx.model, messages: [{ role: 'user', content: 'x' }], max_tokens: 1, prompt: 'x', input: 'x' }) : undefined;
    return { type: 'http', index, category: 'openai-misc', method, path, headers, ...(body ? { body } : {}), note: `${method} on ${path}` };
  }

  // ---- admin API --------------------------------------------------------------------------------

  /** A name for a write: never a fixture's. */
  writeName(): string {
    const r = this.r;
    for (;;) {
      const n = r.chance(0.7) ? `fz-${r.pick(['a', 'b', 'c', 'x', 'y', String(r.int(50))])}` : r.pick(['', 'A', '-a', 'a-', 'a_b', 'a.b', 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(2000), '%2e%2e', '..', '.', '%00', 'caf%C3%A9', 'x%2Fy', '%ff', this.ascii(8).replace(/[/?#%\s]/g, 'z')]);
      if (!this.ctx.protectedNames.has(n)) return n;
    }
  }

  /** A name for a read: fixtures allowed. */
  readName(): string {
    const r = this.r;
    return r.chance(0.3) ? r.pick([this.ctx.fixtureCluster, this.ctx.fixtureFunction, this.ctx.fixtureDeployment, this.ctx.fixtureTenant]) : this.writeName();
  }

  private static readonly PLURALS = ['functions', 'clusters', 'deployments', 'tenants', 'apikeys'];
  private static readonly WRONG_PLURALS = ['function', 'Functions', 'fns', 'foo', '', 'tokens', 'watch', 'apply', 'history', 'secrets', '..', '%2e%2e'];

  /** A valid manifest of `kind` named `name` (fuzz-owned: it never touches the fixtures). */
  manifest(kind: string, name: string): Record<string, Json> {
    const r = this.r;
    const meta: Record<string, Json> = { name };
    if (r.chance(0.2)) meta.labels = { tier: 'fz' };
    let spec: Record<string, Json>;
    switch (kind) {
      case 'Function':
        spec = { model: 'org/fz-model', runtime: 'vllm', servedName: `fzsrv-${name}`, targetClusters: r.chance(0.7) ? [] : ['fz-nowhere'] };
        if (r.chance(0.3)) spec.scaling = { minReplicas: 0, maxReplicas: 1 };
        break;
      case 'Cluster':
        spec = { provider: 'static', static: { endpoints: [{ url: 'http://127.0.0.1:9', model: `fzsrv-${name}` }] } };
        break;
      case 'Deployment':
        spec = { function: 'fz-nofn', cluster: 'fz-nowhere', replicas: 1 };
        break;
      case 'Tenant':
        spec = { displayName: 'fuzz', limits: { rpm: 100 }, priority: 1 };
        break;
      default:
        spec = { tenant: 'fz-a' };
    }
    return { apiVersion: r.chance(0.95) ? API_VERSION : this.str(), kind, metadata: meta, spec };
  }

  private static readonly MANIFEST_PATHS: Path[] = [
    ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'labels'], ['metadata', 'annotations'], ['metadata', 'resourceVersion'], ['metadata', 'uid'],
    ['metadata', 'generation'], ['spec'], ['spec', 'model'], ['spec', 'runtime'], ['spec', 'servedName'], ['spec', 'targetClusters'], ['spec', 'targetClusters', 0],
    ['spec', 'scaling'], ['spec', 'scaling', 'minReplicas'], ['spec', 'resources'], ['spec', 'resources', 'gpu', 'count'], ['spec', 'env'], ['spec', 'args'],
    ['spec', 'provider'], ['spec', 'static'], ['spec', 'static', 'endpoints'], ['spec', 'static', 'endpoints', 0, 'url'], ['spec', 'latency'],
    ['spec', 'maxMissedHeartbeats'], ['spec', 'function'], ['spec', 'cluster'], ['spec', 'replicas'], ['spec', 'limits'], ['spec', 'limits', 'rpm'],
    ['spec', 'budget'], ['spec', 'priority'], ['spec', 'allowedModels'], ['spec', 'displayName'], ['status'], ['spec', 'sim'],
  ];

  private adminBody(kind: string, name: string): { body: Buffer; note: string; contentType?: string } {
    return this.mutateJson(this.manifest(kind, name), Gen.MANIFEST_PATHS);
  }

  private adminHeaders(contentType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    if (contentType === undefined) headers['content-type'] = 'application/json';
    else if (contentType !== '') headers['content-type'] = contentType;
    this.adminAuth(headers);
    this.extraHeaders(headers);
    return headers;
  }

  adminResources(index: number): HttpCase {
    const r = this.r;
    const plural = r.chance(0.92) ? r.pick(Gen.PLURALS) : r.pick(Gen.WRONG_PLURALS);
    const kind = ({ functions: 'Function', clusters: 'Cluster', deployments: 'Deployment', tenants: 'Tenant', apikeys: 'ApiKey' } as Record<string, string>)[plural] ?? 'Function';
    const method = r.pick(['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'PUT', 'DELETE', 'DELETE', r.pick(['PATCH', 'OPTIONS', 'HEAD', 'TRACE'])]);
    const write = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
    const name = write ? this.writeName() : this.readName();
    const bodyKind = r.chance(0.85) ? kind : r.pick(['Function', 'Cluster', 'Tenant', 'Deployment', 'ApiKey', 'Secret', '']);
    let path: string;
    let sub = '';
    if (method === 'POST' && r.chance(0.3)) {
      sub = r.pick(['heartbeat', 'token', 'logs', 'revoke', 'rotate', 'keys', 'x']);
      path = `/api/v1/${plural}/${name}/${sub}`;
    } else if (method === 'GET' && r.chance(0.15)) {
      sub = 'logs';
      path = `/api/v1/${r.chance(0.8) ? 'deployments' : plural}/${name}/logs?${r.pick(['', 'follow=true', 'tail=5', 'tail=-1', 'tail=abc', 'tail=1e999', 'replica=-1', 'replica=1.5', 'replica=99999999999', 'replica=abc&follow=true', `tail=${'9'.repeat(400)}`])}`;
    } else if (method === 'POST' || (method === 'GET' && r.chance(0.3))) {
      path = `/api/v1/${plural}`;
    } else {
      path = `/api/v1/${plural}/${name}`;
    }
    if (sub === '' && r.chance(0.15)) path += r.pick(['?cascade=true', '?cascade=false', '?dryRun=true', '?cascade=true&cascade=false', '?x=%zz', `?${'a=b&'.repeat(500)}`, '?cascade']);
    const withBody = method === 'POST' || method === 'PUT' || (method === 'DELETE' && r.chance(0.1));
    let body: Buffer | undefined;
    let note = `${method} ${plural}`;
    let contentType: string | undefined;
    if (withBody) {
      const b = sub === 'heartbeat' ? this.mutateJson({ agentVersion: 'fz', nodes: [], endpoints: [], simulated: true, intervalMs: 1000 }, [['agentVersion'], ['nodes'], ['nodes', 0], ['nodes', 0, 'gpus'], ['endpoints'], ['endpoints', 0, 'url'], ['intervalMs'], ['simulated']])
        : sub === 'rotate' ? this.mutateJson({ expiresIn: '1h' }, [['expiresIn'], ['expiresAt']])
        : this.adminBody(bodyKind, r.chance(0.9) ? name : this.writeName());
      body = b.body;
      contentType = b.contentType;
      note += `: ${b.note}`;
    }
    return { type: 'http', index, category: 'admin-resources', method, path, headers: this.adminHeaders(contentType), ...(body ? { body } : {}), firstChunkOnly: sub === 'logs', note };
  }

  adminTenancy(index: number): HttpCase {
    const r = this.r;
    const what = r.int(7);
    let method = 'POST';
    let path: string;
    let b: { body: Buffer; note: string; contentType?: string } | undefined;
    switch (what) {
      case 0:
      case 1: {
        const tenant = r.chance(0.4) ? this.ctx.fixtureTenant : this.writeName();
        path = `/api/v1/tenants/${tenant}/keys`;
        b = this.mutateJson({ description: 'fuzz', expiresIn: r.pick(['1h', '30d', '1m']), scopes: { models: ['fzsrv-none'] }, limits: { rpm: 5 } }, [['description'], ['expiresIn'], ['expiresAt'], ['scopes'], ['scopes', 'models'], ['scopes', 'models', 0], ['limits'], ['limits', 'rpm'], ['limits', 'tpm'], ['limits', 'maxConcurrent']]);
        break;
      }
      case 2:
        method = 'GET';
        path = `/api/v1/tenants/${this.readName()}/keys${r.chance(0.1) ? '?limit=-1' : ''}`;
        break;
      case 3:
        path = `/api/v1/apikeys/${this.writeName()}/${r.pick(['rotate', 'revoke', 'delete', ''])}`;
        b = this.mutateJson({ expiresIn: '1h' }, [['expiresIn'], ['expiresAt']]);
        break;
      case 4:
        path = '/api/v1/tokens';
        b = this.mutateJson({ name: this.writeName(), role: r.pick(['viewer', 'operator', 'tenant-admin', 'admin', 'root', '']), ...(r.chance(0.3) ? { tenant: r.chance(0.5) ? this.ctx.fixtureTenant : 'fz-a' } : {}) }, [['name'], ['role'], ['tenant']]);
        break;
      case 5:
        method = r.pick(['GET', 'PUT', 'PATCH']);
        path = '/api/v1/tokens';
        if (method !== 'GET') b = { body: this.sp.render(this.value()), note: 'random body' };
        break;
      default:
        method = 'DELETE';
        path = `/api/v1/tokens/${this.writeName()}`;
        break;
    }
    const headers = this.adminHeaders(b?.contentType);
    return { type: 'http', index, category: 'admin-tenancy', method, path, headers, ...(b ? { body: b.body } : {}), note: `${method} ${path.split('/').slice(3).join('/')}${b ? `: ${b.note}` : ''}` };
  }

  adminApply(index: number): HttpCase {
    const r = this.r;
    const q = r.pick(['', '?dryRun=true', '?dryRun=false', '?dryRun=true&source=%00', `?source=${'s'.repeat(3000)}`, '?dryRun']);
    const yaml = r.chance(0.35);
    let body: Buffer;
    let note: string;
    let contentType: string | undefined;
    if (!yaml) {
      const items: Json[] = [];
      for (let i = r.range(0, 3); i > 0; i--) items.push(this.manifest(r.pick(['Function', 'Cluster', 'Tenant', 'Deployment', 'ApiKey']), this.writeName()));
      const m = this.mutateJson({ items }, [['items'], ['items', 0], ['items', 0, 'kind'], ['items', 0, 'metadata'], ['items', 0, 'metadata', 'name'], ['items', 0, 'spec'], ['items', 1], ['items', 0, 'spec', 'runtime'], ['items', 0, 'apiVersion'], ['kind']]);
      body = m.body;
      note = `json: ${m.note}`;
      contentType = m.contentType;
    } else {
      contentType = r.pick(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain', '']);
      const doc = (name: string) => `apiVersion: ${API_VERSION}\nkind: Tenant\nmetadata:\n  name: ${name}\nspec:\n  displayName: fuzz\n`;
      const choice = r.int(14);
      const texts: string[] = [
        doc(this.writeName()),
        `${doc(this.writeName())}---\n${doc(this.writeName())}`,
        // alias bomb ("billion laughs")
        `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n`,
        (() => {
          const d = r.pick([200, 800, 1000, 1000, 1200, 1500, 3000, 10_000]);
          return '['.repeat(d) + ']'.repeat(r.chance(0.7) ? d : r.pick([0, 1000, 10_000]));
        })(),
        '{a: '.repeat(5000) + '1' + '}'.repeat(5000),
        Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}- `).join('\n') + 'x',
        `!!js/function "function(){return 1}"\n`,
        `kind: !!binary |\n  R0lGODlhDAAMAIQAAP\napiVersion: !!python/object:os.system "ls"\n`,
        `apiVersion: ${API_VERSION}\nkind: Function\nmetadata: {name: ${this.writeName()}}\nspec: &s\n  <<: *s\n`,
        '---\n'.repeat(r.pick([100, 5000])),
        `\t- tab\n  : bad\n:::\n`,
        `apiVersion: ${API_VERSION}\nkind: Function\nmetadata:\n  name: ${this.writeName()}\n  name: dup\nspec: {model: org/m, runtime: vllm, targetClusters: []}\n`,
        this.ascii(r.range(1, 500)),
        `${doc(this.writeName())}\n__proto__: {polluted: yes}\nconstructor: {prototype: {polluted: yes}}\n`,
      ];
      body = Buffer.from(texts[choice]!, 'utf8');
      if (r.chance(0.1)) body = Buffer.concat([body.subarray(0, r.int(body.length)), Buffer.from(r.pick(BAD_UTF8))]);
      note = `yaml #${choice}`;
    }
    return { type: 'http', index, category: 'admin-apply', method: r.chance(0.93) ? 'POST' : r.pick(['GET', 'PUT', 'DELETE']), path: `/api/v1/apply${q}`, headers: this.adminHeaders(contentType), body, note };
  }

  adminWatch(index: number): HttpCase {
    const r = this.r;
    const rv = r.pick(['garbage', '', '-1', '0', '1', '1.5', '1e3', '99999999999999999999', '9007199254740993', '%00', ' 1', '1 ', '0x10', String(r.int(100_000)), '99999', 'NaN', 'Infinity']);
    const params: string[] = [];
    if (r.chance(0.8)) params.push(`resourceVersion=${encodeURIComponent(rv)}`);
    if (r.chance(0.4)) params.push(`kinds=${encodeURIComponent(r.pick(['Function', 'functions,Cluster', 'garbage', '', ',', 'Function,,', 'ApiKey', 'x'.repeat(2000), '__proto__', 'constructor']))}`);
    if (r.chance(0.1)) params.push('resourceVersion=1&resourceVersion=garbage');
    const headers = this.adminHeaders(undefined);
    if (r.chance(0.3)) headers['last-event-id'] = r.pick(['garbage', '-1', '0', '99999999999999999999', '1']);
    const method = r.chance(0.9) ? 'GET' : r.pick(['POST', 'DELETE', 'PUT']);
    return { type: 'http', index, category: 'admin-watch', method, path: `/api/v1/watch${params.length ? '?' + params.join('&') : ''}`, headers, firstChunkOnly: true, note: `${method} watch` };
  }

  adminHistory(index: number): HttpCase {
    const r = this.r;
    const plural = r.chance(0.9) ? r.pick(Gen.PLURALS) : r.pick(Gen.WRONG_PLURALS);
    if (r.chance(0.5)) {
      const path = `/api/v1/history/${plural}/${this.readName()}${r.chance(0.1) ? r.pick(['/x', '?limit=-1', '/']) : ''}`;
      return { type: 'http', index, category: 'admin-history', method: r.chance(0.9) ? 'GET' : 'POST', path, headers: this.adminHeaders(undefined), note: 'history' };
    }
    const to = r.pick<Json>(['garbage', '', '0', '1', '-1', 'abcdef012345', 'a'.repeat(5000), '../../etc/passwd', '%00', '\u0000', 99, null, ['1'], { rv: 1 }, '99999999999999999999', 'HEAD', 'HEAD~1', 'latest']);
    const m = this.mutateJson({ to }, [['to']]);
    return { type: 'http', index, category: 'admin-history', method: 'POST', path: `/api/v1/rollback/${plural}/${this.writeName()}`, headers: this.adminHeaders(m.contentType), body: m.body, note: `rollback: ${m.note}` };
  }

  oddPaths(index: number): HttpCase {
    const r = this.r;
    const path = r.pick([
      '/api/v1/..%2f..%2f..%2fetc%2fpasswd', '/api/v1/functions/..%2f..%2fclusters', '/api/v1/functions/%2e%2e%2f%2e%2e%2f', '/%2e%2e/%2e%2e/etc/passwd', '/api/v1/functions/%00',
      '/api/v1/functions/%ff', '/api/v1/functions/%', '/api/v1/functions/%zz', '/api/v1/functions/%E2%80%AE', '/api/v1/' + 'a'.repeat(r.pick([100, 2000, 8000])),
      '/api/v1/functions/' + 'a'.repeat(r.pick([64, 5000])), '/api/v1//functions', '/api/v1///', '/api/v1/functions/x/y/z', '/API/V1/FUNCTIONS', '/api', '/api/', '/api/v2/functions',
      '/api/v1', '/api/v1/', '/api/v1/functions?' + 'x=%80&'.repeat(200), '/api/v1/functions;x=1', '/api/v1/functions%3fx=1', '/api/v1/functions%2f', '/api/v1/%66unctions',
      '/api/v1/functions/fx-fn/..', '/api/v1/tenants/fx-tenant/keys/..', '/api/v1/clusters/fx-rack/heartbeat/../token', '/.env', '/.git/config', '/metrics', '/metrics?x=1',
      '/debug/routing', '/debug/routing/x', '/docs', '/docs/', '/docs/../openapi.json', '/openapi.json', '/openapi.json?x', '/health', '/ready', '/favicon.ico', '/',
      '/index.html', '/api/v1/%D1%84%D1%83%D0%BD%D0%BA%D1%86%D0%B8%D0%B8', '/api/v1/\u00e9', '/api/v1/functions?cascade=true', '/v1/models/../../api/v1/functions', '/api/v1/watch/../functions',
      '/api/v1/tokens/', '/api/v1/tokens/..', '/api/v1/apply/x', '/api/v1/history', '/api/v1/history/functions', '/api/v1/rollback', '/' + 'x'.repeat(r.pick([1000, 20_000, 40_000])),
    ]);
    const method = r.pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH']);
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    // Dot segments and encoded names may resolve to a fixture: writes never send the admin token there.
    const protectedHit = /fx-/.test(path) || /\.\.|%2e/i.test(path);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (write && protectedHit) {
      if (r.chance(0.5)) headers.authorization = `Bearer ${this.ctx.apiKey}`;
    } else {
      this.adminAuth(headers);
    }
    const body = write && method !== 'DELETE' ? this.sp.render(this.value()) : undefined;
    return { type: 'http', index, category: 'odd-paths', method, path, headers, ...(body ? { body } : {}), note: `${method} odd path`, firstChunkOnly: true };
  }

  // ---- raw HTTP ---------------------------------------------------------------------------------

  private validChatBody(): Buffer {
    return Buffer.from(JSON.stringify({ model: this.ctx.model, messages: [{ role: 'user', content: 'raw' }], max_tokens: 2 }));
  }

  private rawRequest(method: string, target: string, headers: [string, string][], body?: Buffer, version = 'HTTP/1.1'): Buffer {
    const head = `${method} ${target} ${version}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
  }

  raw(index: number): RawCase {
    const r = this.r;
    const host: [string, string] = ['Host', '127.0.0.1'];
    const key: [string, string] = ['Authorization', `Bearer ${this.ctx.apiKey}`];
    const admin: [string, string] = ['Authorization', `Bearer ${this.ctx.adminToken}`];
    const json: [string, string] = ['Content-Type', 'application/json'];
    const chat = this.validChatBody();
    const cl = (b: Buffer): [string, string] => ['Content-Length', String(b.length)];
    const sub = r.int(12);
    const make = (bytes: Buffer, note: string): RawCase => ({ type: 'raw', index, category: 'raw-http', bytes, note });
    switch (sub) {
      case 0: {
        const line = r.pick([
          'GARBAGE', 'GET', 'GET /', 'GET / HTTP/9.9', 'GET / FOO/1.1', 'GET / HTTP/1.1 extra', ' GET / HTTP/1.1', 'get /v1/models HTTP/1.1', 'GET  /v1/models  HTTP/1.1',
          'G\u00c9T / HTTP/1.1', 'GET / HTTP/1', 'GET / http/1.1', 'GET / HTTP/01.1', 'GET / HTTP/1.10', 'POST /v1/chat/completions HTTP/2.0', 'PRI * HTTP/2.0',
          `${'A'.repeat(r.pick([100, 5000]))} / HTTP/1.1`, 'GET /\u0000 HTTP/1.1', 'GET /\u007f HTTP/1.1', 'GET / HTTP/1.1\u0000', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003',
          `GET /${'a'.repeat(r.pick([40_000, 70_000]))} HTTP/1.1`, 'DELETE /api/v1/functions/fz-a HTTP/1.1\nHost: x\n', '\r\n\r\nGET /health HTTP/1.1',
        ]);
        return make(Buffer.from(`${line}\r\nHost: 127.0.0.1\r\n\r\n`, 'latin1'), `request line ${JSON.stringify(line.slice(0, 60))}`);
      }
      case 1: {
        const target = r.pick([
          '//[', '//[::1', '//a:99999/api/v1/functions', '//user:pass@/api/v1/functions', '//evil.example/api/v1/functions', 'http://evil.example/api/v1/functions',
          'http://127.0.0.1/v1/models', 'https://x/api/v1/tokens', '*', 'api/v1/functions', '/api/v1/functions#frag', '/api/%zz', '/api/v1/\u00ff\u00fe', '/api/v1/functions\t',
          '/api/v1/functions/%E0%A4%A', '/api/v1/../../../etc/passwd', '/v1/../api/v1/functions', '/api/v1/./functions', '//', '///', '/?', '/api/v1/functions?\u00ff',
          'http://[::1', 'http://a:b:c/api/v1/functions', '//%zz/api/v1/x', '/\\api\\v1\\functions', 'h://x', '//a@b@c/api/v1/functions',
        ]);
        const method = r.pick(['GET', 'GET', 'POST', 'DELETE', 'OPTIONS']);
        const body = method === 'POST' ? Buffer.from('{}') : undefined;
        const hdrs: [string, string][] = [host, r.chance(0.5) ? admin : key, ...(body ? [json, cl(body)] : [])];
        return make(this.rawRequest(method, target, hdrs, body), `request target ${JSON.stringify(target)}`);
      }
      case 2: {
        const bad = r.pick<[string, string]>([
          ['X-Test', 'a\rb'], ['X-Test', 'a\nInjected: yes'], ['X-Test', 'a\u0000b'], ['Bad Header', 'x'], ['X-Test', '\u00ff\u00fe'], ['X-Test:', 'double colon'],
          ['', 'empty name'], [' X-Lead', 'space before name'], ['X-Test ', 'space before colon'], ['X-Fold', 'a\r\n continued'], ['Authorization', `Bearer ${this.ctx.apiKey}\r\nX-Injected: 1`],
          ['Authorization', `Bearer ${this.ctx.adminToken}\u0000`], ['Authorization', `Bearer \u00ff${this.ctx.apiKey}`], ['Content-Type', 'application/json\r\nContent-Length: 5'],
          ['X-Request-Id', '\u00e9\u00e8\u00ea'], ['Host', 'a\rb'], ['Transfer-Encoding', 'chunked\r\nX: y'], ['X-\u00e9', 'non-token name'], ['X-Test', '\t\t'],
          ['Expect', '100-continue'], ['Expect', 'garbage'], ['Connection', 'upgrade'], ['Upgrade', 'websocket'], ['Upgrade', 'h2c'],
        ]);
        const path = r.pick(['/v1/chat/completions', '/api/v1/functions', '/api/v1/apply', '/v1/models']);
        const method = path === '/v1/models' ? 'GET' : 'POST';
        const body = method === 'POST' ? (path.startsWith('/v1') ? chat : Buffer.from('{}')) : undefined;
        const hdrs: [string, string][] = r.chance(0.2) ? [bad, json] : [host, path.startsWith('/v1') ? key : admin, json, bad];
        if (body) hdrs.push(cl(body));
        return make(this.rawRequest(method, path, hdrs, body), `header ${JSON.stringify(bad)}${hdrs.includes(host) ? '' : ' without Host'}`);
      }
      case 3: {
        const variant = r.int(5);
        let hdrs: [string, string][];
        let note: string;
        if (variant === 0) {
          hdrs = [host, key, ['X-Big', 'x'.repeat(r.pick([33_000, 100_000]))]];
          note = 'one huge header';
        } else if (variant === 1) {
          const n = r.pick([101, 150, 199, 250, 1000, 3000]);
          hdrs = [host, key, ...Array.from({ length: n }, (_, i): [string, string] => [`X-H${i}`, String(i)])];
          note = `${n} headers`;
        } else if (variant === 2) {
          hdrs = [host, ['Authorization', `Bearer ${'k'.repeat(r.pick([20_000, 31_000, 40_000]))}`]];
          note = 'huge Authorization';
        } else if (variant === 3) {
          hdrs = [host, key, ...Array.from({ length: r.pick([50, 99, 500]) }, (): [string, string] => ['Authorization', `Bearer ${this.ascii(10).replace(/\s/g, 'z')}`])];
          note = 'many Authorization headers';
        } else {
          hdrs = [host, key, ...Array.from({ length: 300 }, (): [string, string] => ['Cookie', 'a=' + 'b'.repeat(100)])];
          note = 'many cookies';
        }
        const path = r.pick(['/v1/chat/completions', '/api/v1/functions', '/v1/models']);
        const body = path === '/v1/chat/completions' ? chat : undefined;
        if (body) hdrs.push(json, cl(body));
        return make(this.rawRequest(body ? 'POST' : 'GET', path, hdrs, body), note);
      }
      case 4: {
        const [value, extra] = r.pick<[string, string]>([
          ['abc', ''], ['-1', ''], ['1e3', ''], ['99999999999999999999', ''], ['18446744073709551617', ''], [' 5', ''], ['+5', ''], ['0x10', ''], ['', ''], ['5, 6', ''],
          ['5\r\nContent-Length: 6', ''], [String(chat.length + 100), 'short'], [String(Math.max(0, chat.length - 10)), 'long'], ['0', 'long'], [String(chat.length), 'te'],
          [String(chat.length), 'dup-same'], [String(chat.length), 'dup-diff'], ['1'.repeat(400), ''], [String(16 * 1024 * 1024 + 1), 'short'],
        ]);
        const path = r.pick(['/v1/chat/completions', '/api/v1/apply', '/api/v1/functions']);
        const hdrs: [string, string][] = [host, path.startsWith('/v1') ? key : admin, json, ['Content-Length', value]];
        if (extra === 'te') hdrs.push(['Transfer-Encoding', 'chunked']);
        if (extra === 'dup-same') hdrs.push(['Content-Length', value]);
        if (extra === 'dup-diff') hdrs.push(['Content-Length', String(Number(value) + 1)]);
        const body = extra === 'short' ? chat.subarray(0, r.int(chat.length)) : chat;
        return make(this.rawRequest('POST', path, hdrs, body), `Content-Length ${JSON.stringify(value.slice(0, 40))} ${extra}`);
      }
      case 5: {
        const half = chat.length >> 1;
        const hex = (n: number) => n.toString(16);
        const bodies: [string, Buffer][] = [
          ['bad size', Buffer.from('ZZ\r\nabc\r\n0\r\n\r\n')],
          ['size without data', Buffer.from(`${hex(100)}\r\nabc`)],
          ['no final chunk', Buffer.concat([Buffer.from(`${hex(chat.length)}\r\n`), chat, Buffer.from('\r\n')])],
          ['huge size', Buffer.from('FFFFFFFFFFFFFFFF\r\nabc\r\n')],
          ['64-bit overflow size', Buffer.from('1000000000000000000\r\nabc\r\n')],
          ['negative size', Buffer.from('-1\r\nabc\r\n0\r\n\r\n')],
          ['extension garbage', Buffer.concat([Buffer.from(`${hex(chat.length)};${'x'.repeat(5000)}=\u0000\r\n`), chat, Buffer.from('\r\n0\r\n\r\n')])],
          ['missing CRLF after data', Buffer.concat([Buffer.from(`${hex(half)}\r\n`), chat.subarray(0, half), Buffer.from(`${hex(chat.length - half)}\r\n`), chat.subarray(half), Buffer.from('\r\n0\r\n\r\n')])],
          ['bad trailer', Buffer.concat([Buffer.from(`${hex(chat.length)}\r\n`), chat, Buffer.from('\r\n0\r\nBad Trailer\r\n\r\n')])],
          ['valid chunked', Buffer.concat([Buffer.from(`${hex(half)}\r\n`), chat.subarray(0, half), Buffer.from(`\r\n${hex(chat.length - half)}\r\n`), chat.subarray(half), Buffer.from('\r\n0\r\n\r\n')])],
          ['LF only', Buffer.concat([Buffer.from(`${hex(chat.length)}\n`), chat, Buffer.from('\n0\n\n')])],
          ['many tiny chunks', Buffer.concat([...Array.from(chat, (b) => Buffer.concat([Buffer.from('1\r\n'), Buffer.from([b]), Buffer.from('\r\n')])), Buffer.from('0\r\n\r\n')])],
        ];
        const [what, body] = r.pick(bodies);
        const te = r.pick(['chunked', 'chunked', 'chunked', 'gzip, chunked', 'chunked, identity', 'xchunked', 'CHUNKED', 'chunked, chunked', ' chunked']);
        const path = r.pick(['/v1/chat/completions', '/api/v1/functions', '/api/v1/apply']);
        return make(this.rawRequest('POST', path, [host, path.startsWith('/v1') ? key : admin, json, ['Transfer-Encoding', te]], body), `chunked (${te}): ${what}`);
      }
      case 6: {
        if (r.chance(0.25)) {
          // The same hostile request again and again on one connection (state left behind by the
          // first one — caches, JIT tiers — is what the next one meets).
          const n = r.range(2, 3);
          const one = r.pick([
            () => { const d = r.range(800, 1600); const b = Buffer.from('['.repeat(d) + ']'.repeat(d)); return this.rawRequest('POST', '/api/v1/apply', [host, admin, ['Content-Type', 'application/yaml'], cl(b)], b); },
            () => { const b = Buffer.from(`{"model":"${this.ctx.model}","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`); return this.rawRequest('POST', '/v1/chat/completions', [host, key, json, cl(b)], b); },
            () => { const b = Buffer.from(JSON.stringify({ items: [this.manifest('Tenant', this.writeName())] })); return this.rawRequest('POST', '/api/v1/apply?dryRun=true', [host, admin, json, cl(b)], b); },
          ])();
          return make(Buffer.concat(Array.from({ length: n }, () => one)), `${n} pipelined requests (the same one)`);
        }
        const parts: Buffer[] = [];
        const n = r.range(2, 5);
        for (let i = 0; i < n; i++) {
          parts.push(r.pick([
            this.rawRequest('POST', '/v1/chat/completions', [host, key, json, cl(chat)], chat),
            this.rawRequest('GET', '/v1/models', [host, key]),
            this.rawRequest('GET', '/api/v1/functions', [host, admin]),
            this.rawRequest('GET', '/health', [host]),
            Buffer.from('GARBAGE\r\n\r\n'),
            this.rawRequest('POST', '/v1/embeddings', [host, key, json, ['Content-Length', '5']], Buffer.from('{"model":1}')),
          ]));
        }
        return make(Buffer.concat(parts), `${n} pipelined requests`);
      }
      case 7: {
        const variant = r.int(6);
        if (variant === 0) return make(this.rawRequest('POST', '/v1/chat/completions', [key, json, cl(chat)], chat, 'HTTP/1.0'), 'HTTP/1.0 without Host');
        if (variant === 1) return make(this.rawRequest('GET', '/api/v1/watch', [host, admin, ['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13']]), 'websocket upgrade of watch');
        if (variant === 2) return make(this.rawRequest('CONNECT', '127.0.0.1:22', [host]), 'CONNECT');
        if (variant === 3) return make(this.rawRequest('POST', '/v1/chat/completions', [host, key, json, cl(chat), ['Expect', '100-continue']], chat), 'Expect: 100-continue');
        if (variant === 4) return make(this.rawRequest('GET', '/v1/models', [host, key, ['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA']]), 'h2c upgrade');
        return make(this.rawRequest('OPTIONS', '*', [host]), 'OPTIONS *');
      }
      case 8: {
        const body = r.chance(0.5) ? chat : Buffer.from('{"to":"x"}');
        const method = r.pick(['GET', 'DELETE', 'OPTIONS', 'GET']);
        const path = r.pick(['/v1/models', '/api/v1/functions', '/api/v1/functions/fz-a', '/api/v1/watch?resourceVersion=garbage', '/health']);
        return make(this.rawRequest(method, path, [host, path.startsWith('/v1') ? key : admin, json, cl(body)], body), `${method} with a body`);
      }
      case 9: {
        const full = this.rawRequest('POST', '/v1/chat/completions', [host, key, json, cl(chat)], chat);
        const cut = r.range(1, full.length - 1);
        return make(full.subarray(0, cut), `truncated request at ${cut}/${full.length}`);
      }
      case 10: {
        const junk = r.bytes(r.pick([1, 16, 200, 4096]));
        return make(r.chance(0.5) ? junk : Buffer.concat([this.rawRequest('GET', '/health', [host]), junk]), 'random bytes');
      }
      default: {
        // Bodies with bytes that are invalid UTF-8 / not JSON, with exact framing.
        const body = Buffer.concat([Buffer.from(`{"model":"${this.ctx.model}","messages":[{"role":"user","content":"`), Buffer.from(r.pick(BAD_UTF8)), Buffer.from(r.chance(0.5) ? '"}],"max_tokens":2}' : '')]);
        const path = r.pick(['/v1/chat/completions', '/v1/completions', '/api/v1/functions']);
        return make(this.rawRequest('POST', path, [host, path.startsWith('/v1') ? key : admin, json, cl(body)], body), 'invalid UTF-8 body, exact framing');
      }
    }
  }

  // ---- memory -----------------------------------------------------------------------------------

  /**
   * Valid requests whose per-request values a server might keep: a unique 1 MB `user` (a session
   * key, like x-session-id) or a unique 30 KB x-session-id header. Whatever is remembered per
   * session must not keep them whole: 120 of these would otherwise hold ~60 MB.
   */
  memory(index: number, ordinal: number): HttpCase {
    const r = this.r;
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${this.ctx.apiKey}` };
    const body: Record<string, Json> = { model: this.ctx.model, messages: [{ role: 'user', content: 'remember me' }], max_tokens: 1 };
    if (ordinal % 2 === 0) {
      body.user = `${index}-${this.ascii(8)}-${'u'.repeat((1 << 20) - 32)}`;
      return { type: 'http', index, category: 'memory', method: 'POST', path: '/v1/chat/completions', headers, body: this.sp.render(body), note: 'a unique 1 MB user' };
    }
    headers['x-session-id'] = `${index}-${this.ascii(8).replace(/\s/g, '_')}-${'s'.repeat(30_000)}`;
    if (r.chance(0.5)) body.stream = true;
    return { type: 'http', index, category: 'memory', method: 'POST', path: '/v1/chat/completions', headers, body: this.sp.render(body), note: 'a unique 30 KB x-session-id' };
  }

  // ---- huge bodies ------------------------------------------------------------------------------

  huge(index: number, ordinal: number): HttpCase {
    const r = this.r;
    const limit = this.ctx.maxBodyBytes;
    const adminLimit = this.ctx.adminMaxBodyBytes;
    const chatHeaders = (): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${this.ctx.apiKey}` });
    const adminHeaders = (): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${this.ctx.adminToken}` });
    /** A chat request of exactly `size` bytes (content padded). */
    const chatOfSize = (size: number): Buffer => {
      const head = Buffer.from(`{"model":"${this.ctx.model}","max_tokens":1,"messages":[{"role":"user","content":"`);
      const tail = Buffer.from('"}]}');
      const pad = Buffer.alloc(size - head.length - tail.length, 0x61);
      return Buffer.concat([head, pad, tail]);
    };
    switch (ordinal) {
      case 0:
        return { type: 'http', index, category: 'huge', method: 'POST', path: '/v1/chat/completions', headers: chatHeaders(), body: chatOfSize(limit + 1), mayResetUpload: true, note: `chat body of maxBodyBytes + 1 (${limit + 1}) bytes, with Content-Length` };
      case 1:
        return { type: 'http', index, category: 'huge', method: 'POST', path: '/v1/embeddings', headers: chatHeaders(), chunkedBody: { chunk: Buffer.alloc(1 << 20, 0x61), count: (limit >> 20) + 1 }, mayResetUpload: true, note: `chunked body of ${(limit >> 20) + 1} MiB (over maxBodyBytes), no Content-Length` };
      case 2:
        return { type: 'http', index, category: 'huge', method: 'POST', path: '/api/v1/apply', headers: adminHeaders(), body: Buffer.alloc(adminLimit + 1, 0x20), mayResetUpload: true, note: `admin apply body of ${adminLimit + 1} bytes (over the admin limit)` };
      case 3:
        return { type: 'http', index, category: 'huge', method: 'POST', path: '/api/v1/functions', headers: adminHeaders(), chunkedBody: { chunk: Buffer.alloc(1 << 20, 0x7b), count: (adminLimit >> 20) + 1 }, mayResetUpload: true, note: 'chunked admin body over the admin limit' };
      case 4: {
        const head = Buffer.from(`{"model":"${this.ctx.model}","prompt":"x","max_tokens":1,"pad":"`);
        const tail = Buffer.from('"}');
        const body = Buffer.concat([head, Buffer.alloc(limit - head.length - tail.length, 0x62), tail]);
        return { type: 'http', index, category: 'huge', method: 'POST', path: '/v1/completions', headers: chatHeaders(), body, note: `completions body of exactly maxBodyBytes (${limit} bytes; a big unknown field)` };
      }
    }
    // 1 MB strings in random places.
    const mb = r.pick([1 << 20, (1 << 20) + 1, 1_000_000]);
    const kind = r.int(6);
    if (kind <= 2) {
      const ep = r.pick(['chat/completions', 'completions', 'embeddings', 'responses']);
      const base: Record<string, Json> = ep === 'chat/completions' ? { model: this.ctx.model, messages: [{ role: 'user', content: 'x' }], max_tokens: 1 }
        : ep === 'completions' ? { model: this.ctx.model, prompt: 'x', max_tokens: 1 }
        : { model: this.ctx.model, input: 'x' };
      const where = r.pick<Path>(ep === 'chat/completions' ? [['model'], ['messages', 0, 'content'], ['messages', 0, 'name'], ['messages', 0, 'role'], ['user'], ['stop'], ['x'], ['metadata', 'k']] : [['model'], ['user'], ['x'], ep === 'completions' ? ['prompt'] : ['input']]);
      // Prompt text reaches the engine's tokenizer: words, not one 1 MB word (see words()).
      const prompt = ['content', 'prompt', 'input'].includes(String(where[where.length - 1]));
      this.setPath(base, where, prompt ? (r.chance(0.5) ? this.words(mb) : this.unicode(mb >> 2)) : r.chance(0.6) ? 'a'.repeat(mb) : this.unicode(mb >> 2));
      return { type: 'http', index, category: 'huge', method: 'POST', path: `/v1/${ep}`, headers: chatHeaders(), body: this.sp.render(base), note: `1 MB string at ${where.join('.')} of /v1/${ep}` };
    }
    const name = this.writeName();
    const m = this.manifest(r.pick(['Function', 'Tenant', 'Cluster']), name);
    const where = r.pick<Path>([['metadata', 'name'], ['spec', 'displayName'], ['spec', 'model'], ['metadata', 'labels', 'k'], ['spec', 'servedName'], ['kind'], ['apiVersion'], ['metadata', 'annotations', 'k']]);
    this.setPath(m, where, r.chance(0.6) ? 'a'.repeat(mb) : this.unicode(mb >> 2));
    return { type: 'http', index, category: 'huge', method: 'POST', path: `/api/v1/apply?dryRun=true`, headers: adminHeaders(), body: this.sp.render({ items: [m] }), note: `1 MB string at ${where.join('.')} of a manifest (dry run)` };
  }
}

// ---------------------------------------------------------------------------------------------
// The target, in a child process

/** What a child process of the fuzz test runs, passed in SWITCHYARD_FUZZ_CHILD (JSON). */
export type ChildOptions = { mode: 'server'; dataDir: string; adminToken: string } | { mode: 'engine'; model: string };

/** Messages from a child. */
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'crash'; what: string; stack: string }
  | { type: 'mem'; heapUsed: number; rss: number; gc: boolean; polluted: string[] }
  | { type: 'snapshot'; file: string };

/**
 * A child process of the fuzz test: the `SwitchyardServer` under test (no demo), or the
 * simulated engine behind it. Each runs in a process of its own so that a fatal error (which no
 * handler can catch) or a frozen event loop shows up as a dead or silent process the test can
 * attribute to the requests in flight, kill and restart; and so that the memory measured is the
 * server's alone. Uncaught exceptions and unhandled rejections are reported to the parent (and
 * survived). On {type:'mem'} it collects garbage (it runs with --expose-gc) and reports heap and
 * RSS; on {type:'stop'} it shuts down.
 */
async function runChild(o: ChildOptions): Promise<void> {
  const send = (m: ChildMessage): void => void process.send?.(m);
  const stackOf = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.on('uncaughtException', (e) => send({ type: 'crash', what: 'uncaughtException', stack: stackOf(e) }));
  process.on('unhandledRejection', (e) => send({ type: 'crash', what: 'unhandledRejection', stack: stackOf(e) }));
  process.on('disconnect', () => process.exit(0));
  let close: () => Promise<void>;
  let url: string;
  if (o.mode === 'server') {
    const { SwitchyardServer } = await import('../../src/server.js');
    const bin = new URL('../../bin/switchyard.js', import.meta.url).pathname;
    const server = await SwitchyardServer.start({ dataDir: o.dataDir, port: 0, adminToken: o.adminToken, switchyardBin: [process.execPath, bin] });
    close = () => server.close({ stopReplicas: true });
    url = server.url;
  } else {
    const { SimWorker } = await import('../../src/engines/index.js');
    // A small context keeps requests without max_tokens short; a high speed-up keeps them fast.
    const worker = await SimWorker.start({ model: o.model, port: 0, speedup: 1000, maxModelLen: 1024, seed: 7 });
    close = () => worker.close();
    url = worker.url;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  // Prototype pollution would show as new properties on the shared prototypes.
  const prototypes: [string, object][] = [['Object', Object.prototype], ['Array', Array.prototype], ['Function', Function.prototype], ['String', String.prototype]];
  const before = new Map(prototypes.map(([n, p]) => [n, new Set(Object.getOwnPropertyNames(p))]));
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'mem') {
      gc?.();
      gc?.();
      const u = process.memoryUsage();
      const polluted = prototypes.flatMap(([n, p]) => Object.getOwnPropertyNames(p).filter((k) => !before.get(n)!.has(k)).map((k) => `${n}.prototype.${k}`));
      send({ type: 'mem', heapUsed: u.heapUsed, rss: u.rss, gc: gc !== undefined, polluted });
    } else if (m.type === 'snapshot') {
      // FUZZ_HEAP_SNAPSHOTS (debugging a growth): a heap snapshot, after a collection.
      gc?.();
      void import('node:v8').then((v8) => send({ type: 'snapshot', file: v8.writeHeapSnapshot((m as { file?: string }).file) }));
    } else if (m.type === 'stop') {
      void close().then(() => process.exit(0));
    }
  });
  send({ type: 'ready', url });
}

if (process.env.SWITCHYARD_FUZZ_CHILD) void runChild(JSON.parse(process.env.SWITCHYARD_FUZZ_CHILD) as ChildOptions);
