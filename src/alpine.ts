/**
 * `syncwire/alpine`: puts a sync store into `Alpine.store(name)` and the
 * client into a magic. The plugin receives Alpine and touches no globals.
 */
// Types only, from the core entry, so alpine.d.ts refers to the core's declarations.
import type { NamespacedClient, SyncHealth, SyncMode, SyncStore } from './index';

/** The slice of Alpine the plugin uses. */
export interface AlpineLike {
  store(name: string, value: object): void;
  store(name: string): unknown;
  magic(name: string, callback: () => unknown): void;
}

/** Options of {@link syncwirePlugin}. */
export interface SyncwirePluginOptions<S, H extends SyncHealth = SyncHealth> {
  /** A sync store, or a shared one (`syncwire/tabs`, whose health has the tab's `role`). */
  store: SyncStore<S> & { readonly health: H };
  /**
   * Exposed as `$<magic>` in templates: a client, or a shared store's `client` (its calls work
   * in every tab).
   */
  client?: NamespacedClient | Pick<NamespacedClient, 'request' | 'emit' | 'on' | 'off'>;
  /** `Alpine.store` name. @default 'sync' */
  name?: string;
  /** Magic name for the client. @default 'syncwire' */
  magic?: string;
  /** Start the store when the plugin registers (not from a component). @default true */
  start?: boolean;
}

/** What `$store.<name>` holds. State is the store's own object: read it, never write it. */
export interface AlpineSyncStore<S, H extends SyncHealth = SyncHealth> {
  mode: SyncMode;
  state: S;
  health: H;
  resync(reason?: string): void;
  start(): Promise<void>;
  stop(): void;
}

/** An Alpine plugin with a disposer, and a typed way to read the store it registered. */
export type SyncwirePlugin<S = unknown, H extends SyncHealth = SyncHealth> = ((
  Alpine: AlpineLike,
) => void) & {
  dispose(): void;
  /**
   * `$store.<name>` of `Alpine` (the plugin's `name`), typed with the store's state: code
   * outside templates reads it without a cast. Throws if the plugin is not registered there.
   */
  alpineStore(Alpine: AlpineLike): AlpineSyncStore<S, H>;
};

/**
 * `$store.<name>` as registered by {@link syncwirePlugin}, typed: for code that has Alpine but
 * not the plugin object. `S` is the state of the store given to the plugin (with the plugin
 * at hand, `plugin.alpineStore(Alpine)` infers it). Throws if no store is registered under `name`.
 *
 * @example
 * ```ts
 * const sync = syncStore<AgentZeroState>(Alpine); // name 'sync', as the plugin's default
 * sync.state.contexts.length;
 * ```
 */
export function syncStore<S, H extends SyncHealth = SyncHealth>(
  Alpine: AlpineLike,
  name = 'sync',
): AlpineSyncStore<S, H> {
  const value = Alpine.store(name) as AlpineSyncStore<S, H> | undefined;
  // A plain Error: alpine.js shares no run-time code with the core (it stays ~1 kB and never
  // makes a second copy of SyncwireError), and this is a wiring mistake, not a sync condition.
  if (!value || typeof value.resync !== 'function')
    throw new Error(`syncwire/alpine: no sync store '${name}' (register syncwirePlugin first)`);
  return value;
}

/**
 * Creates the plugin.
 *
 * @example
 * ```ts
 * import Alpine from 'alpinejs'
 * Alpine.plugin(syncwirePlugin({ store, client }))
 * Alpine.start()
 * // <span x-text="$store.sync.mode"></span>
 * ```
 */
export function syncwirePlugin<S, H extends SyncHealth = SyncHealth>(
  options: SyncwirePluginOptions<S, H>,
): SyncwirePlugin<S, H> {
  const { store, client, name = 'sync', magic = 'syncwire' } = options;
  let off: (() => void) | undefined;
  const plugin = ((Alpine: AlpineLike) => {
    off?.();
    Alpine.store(name, {
      mode: store.mode,
      state: store.state,
      health: store.health,
      resync: (reason?: string) => store.resync(reason),
      start: () => store.start(),
      stop: () => store.stop(),
    } satisfies AlpineSyncStore<S, H>);
    // Writes go through Alpine's proxy (writes to the raw object are not reactive);
    // the store keeps the raw state, so persistence never sees a proxy.
    const reactive = Alpine.store(name) as AlpineSyncStore<S, H>;
    off = store.subscribe((event) => {
      reactive.health = store.health;
      if (event.type === 'mode') reactive.mode = event.to;
      else if (event.type === 'state') reactive.state = store.state;
    });
    if (client) Alpine.magic(magic, () => client);
    if (options.start !== false) void store.start();
  }) as SyncwirePlugin<S, H>;
  plugin.alpineStore = (Alpine) => syncStore<S, H>(Alpine, name);
  plugin.dispose = () => {
    off?.();
    off = undefined;
    store.stop();
  };
  return plugin;
}

export default syncwirePlugin;
