/** One HTTP GET with a short timeout and no keep-alive: the readiness/liveness probe of providers. */
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Outcome of a probe: `ok` on HTTP 200; otherwise the status or the error. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
}

/** GET `url` (http or https) and discard the body. Never throws. */
export async function httpProbe(url: string, timeoutMs: number): Promise<ProbeResult> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, error: `invalid URL ${url}` };
  }
  const send = u.protocol === 'https:' ? httpsRequest : request;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = send(u, { method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      res.once('end', () => finish(status === 200 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` }));
      res.once('error', (e) => finish({ ok: false, status, error: e.message }));
    });
    const timer = setTimeout(() => {
      finish({ ok: false, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}
