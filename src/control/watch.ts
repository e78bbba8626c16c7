/**
 * GET /api/v1/watch: resource changes as Server-Sent Events, resumable.
 *
 *   id: <resourceVersion>
 *   event: ADDED | MODIFIED | DELETED
 *   data: <the resource, JSON>
 *
 * Without a resourceVersion (query or Last-Event-ID) the stream starts with an ADDED event per
 * existing object (a consistent snapshot), then follows changes. With one, it replays every
 * change after it from the store's event log, or answers 410 when that part of the log was
 * compacted (list again, then watch from the list's resourceVersion). A comment line is sent
 * every 15 s so proxies keep the connection open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KIND_NAMES, resolveKind, type Kind } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import { SSE_HEADERS } from '../openai/index.js';
import type { WatchEvent } from '../store/index.js';
import type { ControlPlane } from './control-plane.js';
import { toResource } from './resources.js';

const KEEPALIVE_MS = 15_000;

function parseKinds(text: string | null): Set<Kind> {
  if (!text) return new Set(KIND_NAMES);
  const out = new Set<Kind>();
  for (const part of text.split(',')) {
    const k = resolveKind(part.trim());
    if (!k) throw new SwitchyardError('invalid_argument', `unknown kind '${part}' (kinds: ${KIND_NAMES.join(', ')})`, { param: 'kinds' });
    out.add(k);
  }
  return out;
}

export async function serveWatch(cp: ControlPlane, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const kinds = parseKinds(url.searchParams.get('kinds'));
  const given = url.searchParams.get('resourceVersion') ?? (req.headers['last-event-id'] as string | undefined);
  if (given !== undefined && !/^\d+$/.test(given)) throw new SwitchyardError('invalid_argument', 'resourceVersion must be a number', { param: 'resourceVersion' });
  const store = cp.service.store;

  let since: number;
  const initial: string[] = [];
  if (given === undefined) {
    // Snapshot: objects as of one revision (re-read if a write raced the listing).
    for (;;) {
      since = await store.currentRv();
      initial.length = 0;
      for (const k of kinds) for (const o of await store.list(k)) initial.push(frame(o.rv, 'ADDED', toResource(o)));
      if ((await store.currentRv()) === since) break;
    }
  } else {
    since = Number(given);
    await store.eventsSince(since, 1); // throws `gone` (410) before any byte is sent
  }

  res.writeHead(200, { ...SSE_HEADERS, 'x-accel-buffering': 'no' });
  res.write(`: watching ${[...kinds].join(',')} from resourceVersion ${since}\n\n`);
  for (const f of initial) res.write(f);

  let closed = false;
  let wake: (() => void) | null = null;
  let committed = false;
  const unsubscribe = store.onCommit(() => {
    committed = true;
    wake?.();
  });
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  const stop = (): void => {
    closed = true;
    wake?.();
  };
  res.on('close', stop);
  cp.closing.addEventListener('abort', stop, { once: true });
  try {
    while (!closed) {
      let events: WatchEvent[];
      committed = false;
      try {
        events = await store.eventsSince(since, 500);
      } catch (e) {
        if (e instanceof SwitchyardError && e.code === 'gone') {
          res.write(`event: ERROR\ndata: ${JSON.stringify({ code: 'gone', message: 'watch fell behind the retained history; list again and re-watch' })}\n\n`);
          break;
        }
        throw e;
      }
      if (events.length === 0) {
        if (committed) continue; // a commit landed while we were reading
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      for (const ev of events) {
        since = ev.rv;
        if (!kinds.has(ev.kind as Kind)) continue;
        const resource = toResource({ kind: ev.kind, name: ev.name, rv: ev.rv, body: ev.body });
        if (!res.write(frame(ev.rv, ev.type, resource))) await new Promise((r) => res.once('drain', r));
      }
    }
  } finally {
    clearInterval(keepalive);
    unsubscribe();
    cp.closing.removeEventListener('abort', stop);
    res.end();
  }
}

function frame(rv: number, type: string, resource: unknown): string {
  return `id: ${rv}\nevent: ${type}\ndata: ${JSON.stringify(resource)}\n\n`;
}
