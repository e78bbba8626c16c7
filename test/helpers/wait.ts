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

/** Read one metric sample value from Prometheus text (sums all series of that name if no labels match given). */
export function metricValue(text: string, name: string, labelFilter: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const labelsPart = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : '';
    if (!Object.entries(labelFilter).every(([k, v]) => labelsPart.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? sum : NaN;
}
