/** The plugin registry: plugin TYPES by name. Profiles are compiled against one. */
import { SwitchyardError } from '../core/index.js';
import type { PluginKind, PluginType } from './plugin.js';

export class PluginRegistry {
  private readonly defs = new Map<string, PluginType>();
  private sealed = false;

  constructor(defs: Iterable<PluginType> = []) {
    for (const d of defs) this.register(d);
  }

  /** Add a plugin type. Throws on a duplicate type name or when the registry is frozen. */
  register(def: PluginType): this {
    if (this.sealed) throw new SwitchyardError('invalid_argument', `plugin registry is frozen; use createRegistry() for a registry you can extend (registering '${def.type}')`);
    if (!/^[a-z][a-z0-9_]*$/.test(def.type)) throw new SwitchyardError('invalid_argument', `plugin type '${def.type}' must be snake_case`);
    if (this.defs.has(def.type)) throw new SwitchyardError('conflict', `plugin type '${def.type}' is already registered`);
    this.defs.set(def.type, def);
    return this;
  }

  get(type: string): PluginType | undefined {
    return this.defs.get(type);
  }

  has(type: string): boolean {
    return this.defs.has(type);
  }

  /** Registered types (optionally of one kind), sorted by name. */
  list(kind?: PluginKind): PluginType[] {
    const out = [...this.defs.values()].filter((d) => kind === undefined || d.kind === kind);
    return out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  /** Forbid further registration (the shared default registry is frozen). */
  freeze(): this {
    this.sealed = true;
    return this;
  }

  get frozen(): boolean {
    return this.sealed;
  }

  /** A mutable copy. */
  clone(): PluginRegistry {
    return new PluginRegistry(this.defs.values());
  }
}
