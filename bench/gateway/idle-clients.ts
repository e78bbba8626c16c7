/**
 * Open N concurrent streaming chat requests through a proxy and hold them.
 *
 *   node --import tsx bench/gateway/idle-clients.ts '<IdleClientsSpec JSON>'
 *
 * Prints `HELD <json>` once every stream has either received its first chunk or failed (or the
 * timeout passed), then waits for a line `close` on stdin, checks how many streams are still
 * open, destroys them all, prints `CLOSED <json>` and exits.
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

export interface IdleClientsSpec {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  body: string;
  n: number;
  /** At most this many requests waiting for their first chunk at once (a ramp, not a SYN flood). */
  openingConcurrency: number;
  timeoutMs: number;
}

export interface HeldReport {
  requested: number;
  held: number;
  failed: number;
  errors: Record<string, number>;
  openMs: number;
}

export interface ClosedReport {
  /** Streams that were still open when we closed them. */
  stillOpen: number;
  /** Streams that ended or failed while being held. */
  droppedWhileHeld: number;
}

function main(spec: IdleClientsSpec): void {
  const agent = new Agent({ keepAlive: false, maxSockets: spec.n + 16 });
  const body = Buffer.from(spec.body);
  const errors: Record<string, number> = {};
  const reqs: ReturnType<typeof request>[] = [];
  let started = 0;
  let pendingFirst = 0;
  let held = 0;
  let failed = 0;
  let dropped = 0;
  let reported = false;
  let closing = false;
  const open = new Set<number>();
  const t0 = performance.now();
  const fail = (kind: string): void => {
    errors[kind] = (errors[kind] ?? 0) + 1;
  };

  const report = (): void => {
    if (reported) return;
    reported = true;
    const r: HeldReport = { requested: spec.n, held, failed, errors, openMs: performance.now() - t0 };
    process.stdout.write(`HELD ${JSON.stringify(r)}\n`);
  };
  const settle = (): void => {
    if (held + failed >= spec.n) report();
  };

  const openOne = (i: number): void => {
    started++;
    pendingFirst++;
    let first = false;
    const done = (ok: boolean, kind?: string): void => {
      if (first) return;
      first = true;
      pendingFirst--;
      if (ok) {
        held++;
        open.add(i);
      } else {
        failed++;
        fail(kind ?? 'error');
      }
      settle();
      pump();
    };
    const req = request({ host: spec.host, port: spec.port, path: spec.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...spec.headers } }, (res) => {
      if (res.statusCode !== 200) {
        done(false, `status ${res.statusCode}`);
        res.resume();
        return;
      }
      res.on('data', () => done(true));
      const ended = (): void => {
        if (open.delete(i) && !closing) dropped++;
        done(false, 'ended before first chunk');
      };
      res.once('end', ended);
      res.once('close', ended);
      res.once('error', ended);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (open.delete(i) && !closing) dropped++;
      done(false, e.code ?? e.message);
    });
    req.end(body);
    reqs.push(req);
  };
  const pump = (): void => {
    while (started < spec.n && pendingFirst < spec.openingConcurrency) openOne(started);
  };
  pump();
  setTimeout(report, spec.timeoutMs).unref();

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() !== 'close') return;
    const still = open.size;
    closing = true;
    for (const r of reqs) r.destroy();
    agent.destroy();
    const c: ClosedReport = { stillOpen: still, droppedWhileHeld: dropped };
    process.stdout.write(`CLOSED ${JSON.stringify(c)}\n`);
    rl.close();
    setTimeout(() => process.exit(0), 200);
  });
}

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: idle-clients.ts <IdleClientsSpec JSON>\n');
  process.exit(2);
}
main(JSON.parse(arg) as IdleClientsSpec);
