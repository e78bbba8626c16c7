/** Deep freezing of loaded configs, so no component can mutate shared settings. */

/**
 * Recursively Object.freeze plain objects, arrays, Maps' and Sets' contents (the containers
 * themselves stay mutable; JS cannot freeze them) and return the same value. Typed arrays are
 * left alone (freezing a non-empty one throws).
 */
export function deepFreeze<T>(value: T): T {
  freeze(value, new WeakSet());
  return value;
}

function freeze(value: unknown, seen: WeakSet<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value) || ArrayBuffer.isView(value)) return;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      freeze(k, seen);
      freeze(v, seen);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) freeze(v, seen);
    return;
  }
  for (const key of Reflect.ownKeys(value)) freeze((value as Record<PropertyKey, unknown>)[key], seen);
  Object.freeze(value);
}
