/** Flag parsing shared by the benchmark scripts (`--flag value` pairs and bare switches). */

/** Calls `on(flag, value)` for every flag; `value()` consumes the next argument or throws. */
export function eachFlag(argv: readonly string[], on: (flag: string, value: () => string) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    on(f, () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${f} needs a value`);
      return x;
    });
  }
}

/** `a, b,,c` → ['a', 'b', 'c']. */
export const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
