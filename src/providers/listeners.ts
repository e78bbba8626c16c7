/** The `onChange` listeners of a provider: add/remove, and emit without letting one listener break the others. */
export class ChangeListeners {
  private readonly set = new Set<(deployment: string) => void>();

  /** Register `cb`; returns the function that unregisters it. */
  add(cb: (deployment: string) => void): () => void {
    this.set.add(cb);
    return () => this.set.delete(cb);
  }

  /** Call every listener with `deployment`; a throwing listener is reported to `onError` (default: ignored). */
  emit(deployment: string, onError?: (e: unknown) => void): void {
    for (const cb of [...this.set]) {
      try {
        cb(deployment);
      } catch (e) {
        onError?.(e);
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
