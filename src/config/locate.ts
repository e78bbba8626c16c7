/** Map value paths back to line/column in YAML (or JSON) source text. */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/** Find where a path lives in the text; callers pass the nearest existing ancestor when missing. */
export type Locator = (path: readonly PropertyKey[]) => Position | undefined;

/** A locator over an already-parsed document. */
export function documentLocator(doc: Document, lineCounter: LineCounter): Locator {
  return (path) => {
    // Walk as deep as the document goes; a missing leaf points at its parent.
    let node: unknown = doc.contents;
    let offset: number | undefined = rangeStart(node);
    for (const seg of path) {
      let next: unknown;
      let at: number | undefined;
      if (isMap(node)) {
        const want = String(seg);
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === want);
        if (pair) {
          next = pair.value;
          at = rangeStart(pair.key) ?? rangeStart(pair.value);
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
        at = rangeStart(next);
      }
      if (at === undefined) break;
      node = next;
      offset = at;
    }
    if (offset === undefined) return undefined;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
}

/** Parse text only to locate paths (used for JSON, which is parsed with JSON.parse). */
export function textLocator(text: string): Locator {
  let locate: Locator | undefined;
  return (path) => {
    if (!locate) {
      const lineCounter = new LineCounter();
      const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
      locate = doc.errors.length > 0 ? () => undefined : documentLocator(doc, lineCounter);
    }
    return locate(path);
  };
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined;
  const range = node.range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}
