/**
 * The shared store's public types (see shared-store.ts): its options, the store itself, and the
 * client calls every tab can make.
 */
// From the core entry, so tabs.d.ts refers to the core's declarations rather than copies.
import type { EventMap, NamespacedClient, SyncStore, SyncStoreOptions } from '../index';
import type { ChannelLike } from './channel';
import type { LocksLike, TabRole } from './election';
import type { SharedHealth } from './mirror';

/** Where the tabs meet. Each default is what the browser has; tests and other runtimes inject. */
export interface TabsEnvironment {
  /**
   * Opens the BroadcastChannel named `name`. null: there is none, and each tab runs its own
   * store. @default `(name) => new BroadcastChannel(name)` where the browser has it
   */
  broadcast?: ((name: string) => ChannelLike) | null;
  /** The Web Locks lock manager. null: elect over the channel instead. @default `navigator.locks` */
  locks?: LocksLike | null;
}

/**
 * Options of `createSharedSyncStore`: `createSyncStore`'s, plus the channel name. A client with
 * an event map (`E`) types the shared store's `client` the same way.
 */
export interface SharedSyncStoreOptions<
  S,
  Snap extends object = object,
  P extends object = object,
  E extends EventMap = EventMap,
> extends Omit<SyncStoreOptions<S, Snap, P>, 'client'> {
  /** As `createSyncStore`'s: the leader's store runs on it; followers never connect it. */
  client: NamespacedClient<E>;
  /**
   * The name the tabs share under: tabs of one origin with the same name share one store. Use
   * one name per store (namespace and state), at most 100 characters.
   */
  channel: string;
  /** Where the tabs meet (tests and other runtimes). */
  tabs?: TabsEnvironment;
}

/**
 * The client calls of a shared store, in any tab: the leader's run on its client, a follower's
 * are carried out by the leader and settle with the same values and error codes (see the README).
 */
export type SharedClient<E extends EventMap = EventMap> = Pick<
  NamespacedClient<E>,
  'request' | 'emit' | 'on' | 'off'
>;

/** A sync store shared between tabs: a `SyncStore` with the part this tab plays. */
export interface SharedSyncStore<S, E extends EventMap = EventMap> extends SyncStore<S> {
  /** `'leader'`: this tab runs the store; `'follower'`: it mirrors the leader's (and while stopped). */
  readonly role: TabRole;
  /**
   * How the tabs share: `'locks'` (Web Locks election), `'broadcast'` (election over
   * BroadcastChannel, where Web Locks are missing or fail), or `'none'` (no BroadcastChannel:
   * this tab runs its own store).
   */
  readonly sharing: 'locks' | 'broadcast' | 'none';
  /** As a store's health, with `role`. */
  readonly health: SharedHealth;
  /** `request`, `emit`, `on` and `off`, in every tab (see {@link SharedClient}). */
  readonly client: SharedClient<E>;
  /** Stops, and lets go of everything for good: the channel, the relay, the subscribers. */
  dispose(): void;
}
