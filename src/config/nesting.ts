/**
 * A bound on how deeply a YAML (or JSON) text nests, computed by one linear scan before the text
 * is parsed. The `yaml` parser recurses per nesting level, and at around a thousand levels V8
 * aborts the whole process inside a regular-expression call (a fatal error, not a catchable
 * RangeError), so hostile input must be refused before it reaches the parser.
 *
 * The bound is conservative: flow depth (`[` `{` outside quotes and comments) plus, per line, the
 * indentation and the number of compact block indicators (`- `, `? `, `: `). Block nesting needs
 * at least one more column or one more indicator per level, so real nesting never exceeds it.
 */

/**
 * The bound a config or manifest text may reach (columns of indentation count one each, so this
 * allows some 30 levels at 4-space indentation): far beyond any real one, far below the crash.
 */
export const MAX_CONFIG_NESTING = 128;

export interface NestingExcess {
  /** 1-based line where the bound was first exceeded. */
  readonly line: number;
  readonly depth: number;
}

/** Where `text` first nests deeper than `limit`, or undefined. O(length). */
export function excessiveNesting(text: string, limit = MAX_CONFIG_NESTING): NestingExcess | undefined {
  let flow = 0;
  let line = 1;
  let lineStart = true;
  let indent = 0;
  let indicators = 0;
  let quote = 0; // 0, '"' or "'"
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */) {
      line++;
      lineStart = true;
      indent = 0;
      indicators = 0;
      if (quote === 0) continue;
    }
    if (quote !== 0) {
      if (quote === 34 && c === 92 /* \ */) i++;
      else if (c === quote) quote = 0;
      continue;
    }
    if (lineStart) {
      if (c === 32 || c === 9) {
        indent++;
        if (indent > limit) return { line, depth: indent };
        continue;
      }
      lineStart = false;
    }
    const prev = i === 0 ? 10 : text.charCodeAt(i - 1);
    const prevBlank = prev === 32 || prev === 9 || prev === 10 || prev === 13;
    const next = i + 1 < n ? text.charCodeAt(i + 1) : 10;
    const nextBlank = next === 32 || next === 9 || next === 10 || next === 13;
    switch (c) {
      case 34: // "
      case 39: // '
        quote = c;
        break;
      case 35: // # starts a comment after a blank
        if (prevBlank) {
          const eol = text.indexOf('\n', i);
          i = (eol === -1 ? n : eol) - 1;
        }
        break;
      case 91: // [
      case 123: // {
        flow++;
        break;
      case 93: // ]
      case 125: // }
        if (flow > 0) flow--;
        break;
      case 45: // -
      case 63: // ?
      case 58: // :
        if (nextBlank && (prevBlank || c === 58)) indicators++;
        break;
      default:
        break;
    }
    const depth = flow + indent + indicators;
    if (depth > limit) return { line, depth };
  }
  return undefined;
}

/**
 * Whether a parsed value nests deeper than `limit` (arrays and objects), checked iteratively so
 * that the check itself cannot overflow the stack.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child as object, d + 1]);
    }
  }
  return false;
}
