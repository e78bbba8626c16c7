/**
 * A tiny Chrome DevTools Protocol client for a Node process started with `--inspect=127.0.0.1:0`:
 * force a full GC and read process.memoryUsage() inside it, so per-stream memory is measured on
 * live objects, not on garbage that happens to be uncollected.
 */
import { readFileSync } from 'node:fs';
import { WebSocket } from 'undici';
import { waitFor } from './proc.js';

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  /** Find the `Debugger listening on ws://...` line in a log file and connect. */
  static async fromLog(logPath: string): Promise<Inspector> {
    const url = await waitFor(
      'inspector URL',
      () => {
        const m = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(logPath, 'utf8'));
        return m?.[1];
      },
      10_000,
    );
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${url}`)), { once: true });
    });
    return new Inspector(ws);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async gc(): Promise<void> {
    await this.send('HeapProfiler.collectGarbage');
  }

  async memoryUsage(): Promise<MemoryUsage> {
    const r = (await this.send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result?: { value?: unknown } };
    const v = r.result?.value;
    if (typeof v !== 'string') throw new Error('Runtime.evaluate returned no memory usage');
    return JSON.parse(v) as MemoryUsage;
  }

  close(): void {
    this.ws.close();
  }
}
