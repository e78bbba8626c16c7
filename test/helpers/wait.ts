import { parsePrometheusText, selectSamples } from '../../src/observability/index.js';

/** Poll `cond` until it returns a truthy value or the deadline passes. Never sleeps a fixed time. */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 10));
  }
}

/** Sum of a metric's samples matching `labelFilter` in Prometheus text; NaN when no sample matches. */
export function metricValue(text: string, name: string, labelFilter: Record<string, string> = {}): number {
  const samples = selectSamples(parsePrometheusText(text, { include: (n) => n === name }), name, labelFilter);
  return samples.length === 0 ? NaN : samples.reduce((sum, s) => sum + s.value, 0);
}
