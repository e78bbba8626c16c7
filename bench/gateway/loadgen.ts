/**
 * Open-loop, constant-rate HTTP/1.1 load generator (what wrk2 does, which Debian does not ship):
 * request i is due at i / rate seconds, whatever happened to earlier ones, and its latency is
 * measured from that due time (so queueing behind a slow proxy counts, no coordinated omission),
 * with microsecond resolution. Raw keep-alive sockets, pre-built request bytes and a minimal
 * response parser (Content-Length or chunked) keep the generator's own CPU cost low.
 *
 * Why not autocannon's `overallRate`: autocannon 8 rate-limits per connection per second (each
 * connection sends back-to-back until its quota for the second is spent, then pauses: see
 * node_modules/autocannon/lib/httpClient.js, `reqsMadeThisSecond`), so "half load" is full load
 * half of the time; and its latency histogram has a 1 ms lowest discernible value
 * (lib/histUtil.js), too coarse for a 0.5 ms target.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RateSpec {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Requests per second. */
  rate: number;
  warmupMs: number;
  durationMs: number;
  /** Connections opened up front; more are opened (up to maxConnections) when all are busy. */
  initialConnections: number;
  maxConnections: number;
  /** SSE responses must end with `data: [DONE]`. */
  expectSse: boolean;
  /** After the schedule ends, wait this long for in-flight requests. */
  drainMs: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface RateResult {
  rate: number;
  /** Responses completed inside the measured window, per second. */
  achievedRps: number;
  /** Requests due inside the window. */
  scheduled: number;
  completed: number;
  errors: number;
  non200: number;
  badBody: number;
  /** Window requests still unanswered at the end (or never sent). */
  incomplete: number;
  /** The schedule fell more than 2 s behind: the target cannot sustain this rate. */
  overloaded: boolean;
  maxInFlight: number;
  connectionsOpened: number;
  /** ms, from the due time to the last byte of the response (includes any queueing). */
  latency: Percentiles;
  /** ms, from writing the request to the last byte (what a closed-loop tool like wrk reports). */
  service: Percentiles;
  /** Generator CPU, % of one core, over the window. */
  generatorCpuPct: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const v = Float64Array.from(values).sort();
  const at = (q: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))]!;
  let sum = 0;
  for (const x of v) sum += x;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: v[v.length - 1]!, mean: sum / v.length };
}

interface InFlight {
  due: number;
  sentAt: number;
}

type ParseState = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'trailer';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection with at most one request in flight. */
class Conn {
  readonly sock: Socket;
  ready = false;
  closed = false;
  cur: InFlight | null = null;
  private pending: Buffer | null = null;
  private state: ParseState = 'head';
  private remaining = 0;
  private status = 0;
  private tail = '';

  constructor(
    host: string,
    port: number,
    private readonly onReady: (c: Conn) => void,
    private readonly onDone: (c: Conn, req: InFlight, ok: 'ok' | 'non200' | 'badBody') => void,
    private readonly onFail: (c: Conn, req: InFlight | null) => void,
    private readonly expectSse: boolean,
  ) {
    this.sock = connect({ host, port, noDelay: true });
    this.sock.on('connect', () => {
      this.ready = true;
      this.onReady(this);
    });
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', () => this.fail());
    this.sock.on('close', () => this.fail());
  }

  send(req: InFlight, bytes: Buffer): void {
    this.cur = req;
    this.state = 'head';
    this.tail = '';
    this.sock.write(bytes);
  }

  private fail(): void {
    if (this.closed) return;
    this.closed = true;
    const req = this.cur;
    this.cur = null;
    this.sock.destroy();
    this.onFail(this, req);
  }

  private onData(d: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    this.pending = null;
    let off = 0;
    while (off < buf.length || this.state === 'trailer') {
      if (this.state === 'head') {
        const end = buf.indexOf(HEAD_END, off);
        if (end < 0) break;
        const head = buf.toString('latin1', off, end);
        off = end + 4;
        this.status = Number(head.slice(9, 12));
        const lower = head.toLowerCase();
        const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
        if (cl) {
          this.remaining = Number(cl[1]);
          this.state = 'length';
          if (this.remaining === 0) this.finish();
        } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
          this.state = 'chunk-size';
        } else {
          this.fail(); // read-until-close bodies are not expected from any target
          return;
        }
      } else if (this.state === 'length') {
        const take = Math.min(this.remaining, buf.length - off);
        this.keepTail(buf, off, off + take);
        off += take;
        this.remaining -= take;
        if (this.remaining === 0) this.finish();
      } else if (this.state === 'chunk-size') {
        const eol = buf.indexOf(CRLF, off);
        if (eol < 0) break;
        const size = parseInt(buf.toString('latin1', off, eol), 16);
        off = eol + 2;
        if (!Number.isFinite(size)) {
          this.fail();
          return;
        }
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size + 2;
          this.state = 'chunk-data';
        }
      } else if (this.state === 'chunk-data') {
        const take = Math.min(this.remaining, buf.length - off);
        this.keepTail(buf, off, off + Math.min(take, Math.max(0, this.remaining - 2)));
        off += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'chunk-size';
      } else {
        // trailer: (header lines)* CRLF; we only ever see the empty one
        const eol = buf.indexOf(CRLF, off);
        if (eol < 0) break;
        const empty = eol === off;
        off = eol + 2;
        if (empty) this.finish();
      }
    }
    if (off < buf.length) this.pending = buf.subarray(off);
  }

  private keepTail(buf: Buffer, from: number, to: number): void {
    if (!this.expectSse || to <= from) return;
    this.tail = (this.tail + buf.toString('latin1', Math.max(from, to - 32), to)).slice(-32);
  }

  private finish(): void {
    const req = this.cur;
    this.cur = null;
    this.state = 'head';
    if (!req) return;
    const verdict = this.status !== 200 ? 'non200' : this.expectSse && !this.tail.includes('data: [DONE]') ? 'badBody' : 'ok';
    this.onDone(this, req, verdict);
  }
}

export function requestBytes(spec: Pick<RateSpec, 'host' | 'port' | 'path' | 'headers' | 'body'>): Buffer {
  const body = Buffer.from(spec.body);
  const headers: Record<string, string> = { Host: `${spec.host}:${spec.port}`, 'Content-Type': 'application/json', 'Content-Length': String(body.length), Connection: 'keep-alive', ...spec.headers };
  const head = `POST ${spec.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Run one constant-rate measurement. */
export async function runRate(spec: RateSpec): Promise<RateResult> {
  const bytes = requestBytes(spec);
  const interval = 1000 / spec.rate;
  const total = spec.warmupMs + spec.durationMs;
  const winStart = spec.warmupMs;
  const winEnd = total;
  const latencies: number[] = [];
  const services: number[] = [];
  let completedInWindow = 0;
  let windowDone = 0;
  let errors = 0;
  let non200 = 0;
  let badBody = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let opened = 0;
  let overloaded = false;
  const idle: Conn[] = [];
  const conns = new Set<Conn>();
  let connecting = 0;
  const queue: number[] = [];
  let qHead = 0;
  let nextIdx = 0;
  let t0 = 0;
  const now = (): number => performance.now() - t0;
  const inWin = (due: number): boolean => due >= winStart && due < winEnd;

  const openConn = (): void => {
    opened++;
    connecting++;
    const c = new Conn(spec.host, spec.port, onReady, onDone, onFail, spec.expectSse);
    conns.add(c);
  };
  const dispatch = (): void => {
    while (qHead < queue.length) {
      const c = idle.pop();
      if (!c) {
        if (conns.size < spec.maxConnections && connecting < 8) openConn();
        return;
      }
      const due = queue[qHead++]!;
      if (qHead > 4096 && qHead * 2 > queue.length) {
        queue.splice(0, qHead);
        qHead = 0;
      }
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      c.send({ due, sentAt: now() }, bytes);
    }
  };
  function onReady(c: Conn): void {
    connecting--;
    idle.push(c);
    dispatch();
  }
  function onDone(c: Conn, req: InFlight, verdict: 'ok' | 'non200' | 'badBody'): void {
    const t = now();
    inFlight--;
    if (verdict === 'non200') non200++;
    else if (verdict === 'badBody') badBody++;
    if (inWin(req.due)) {
      windowDone++;
      if (verdict === 'ok') {
        latencies.push(t - req.due);
        services.push(t - req.sentAt);
      }
    }
    if (t >= winStart && t < winEnd && verdict === 'ok') completedInWindow++;
    idle.push(c);
    dispatch();
  }
  function onFail(c: Conn, req: InFlight | null): void {
    conns.delete(c);
    const i = idle.indexOf(c);
    if (i >= 0) idle.splice(i, 1);
    if (!c.ready) connecting--;
    if (req) {
      inFlight--;
      errors++;
      if (inWin(req.due)) windowDone++;
    }
    if (!stopped) dispatch();
  }

  let stopped = false;
  t0 = performance.now();
  for (let i = 0; i < Math.min(spec.initialConnections, spec.maxConnections); i++) openConn();
  // Give the initial connections a moment before the schedule starts.
  await new Promise<void>((r) => setTimeout(r, 50));
  t0 = performance.now();
  let cpuAtWinStart: NodeJS.CpuUsage | null = null;
  let cpuWindow: NodeJS.CpuUsage | null = null;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = now();
      if (cpuAtWinStart === null && t >= winStart) cpuAtWinStart = process.cpuUsage();
      if (cpuWindow === null && cpuAtWinStart !== null && t >= winEnd) cpuWindow = process.cpuUsage(cpuAtWinStart);
      while (nextIdx * interval <= t && nextIdx * interval < total) {
        queue.push(nextIdx * interval);
        nextIdx++;
      }
      dispatch();
      if (queue.length - qHead > Math.max(100, spec.rate * 2)) overloaded = true;
      if (t >= total || overloaded) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  if (cpuWindow === null) cpuWindow = process.cpuUsage(cpuAtWinStart ?? undefined);
  // Drain: wait for in-flight requests of the window.
  const scheduled = Math.max(0, Math.min(nextIdx, Math.ceil(winEnd / interval)) - Math.ceil(winStart / interval));
  const drainUntil = performance.now() + spec.drainMs;
  while (!overloaded && windowDone < scheduled && inFlight > 0 && performance.now() < drainUntil) await new Promise<void>((r) => setTimeout(r, 5));
  stopped = true;
  for (const c of conns) c.sock.destroy();
  const cpu = cpuWindow;
  return {
    rate: spec.rate,
    achievedRps: completedInWindow / (spec.durationMs / 1000),
    scheduled,
    completed: latencies.length,
    errors,
    non200,
    badBody,
    incomplete: Math.max(0, scheduled - windowDone),
    overloaded,
    maxInFlight,
    connectionsOpened: opened,
    latency: percentiles(latencies),
    service: percentiles(services),
    generatorCpuPct: ((cpu.user + cpu.system) / 1000 / spec.durationMs) * 100,
  };
}
