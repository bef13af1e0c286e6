/**
 * syncwire/tabs: one connection per browser. Tabs that name the same channel share one sync
 * store: a leader tab connects, handshakes, polls and writes the cache; the others mirror its
 * state and send their calls through it; when it goes, another takes over from where it was.
 *
 * @example
 * ```ts
 * import { getNamespacedClient } from 'syncwire'
 * import { createSharedSyncStore } from 'syncwire/tabs'
 *
 * const store = createSharedSyncStore({ channel: 'app', client: getNamespacedClient('/state_sync') })
 * store.subscribe(() => render(store.state, store.health.role))
 * await store.start()
 * ```
 */
export { createSharedSyncStore } from './tabs/shared-store';
export type {
  SharedClient,
  SharedSyncStore,
  SharedSyncStoreOptions,
  TabsEnvironment,
} from './tabs/shared-api';
export type { SharedHealth } from './tabs/mirror';
export type { TabRole, LocksLike } from './tabs/election';
export type { ChannelLike } from './tabs/channel';
