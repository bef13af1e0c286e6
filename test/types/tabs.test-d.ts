// A shared store (syncwire/tabs) goes wherever a store goes, with no cast: the adapters and the
// Alpine plugin take it, and their health is the shared store's, with the tab's role.
import Alpine from 'alpinejs';
import { describe, expectTypeOf, test } from 'vitest';
import { syncwirePlugin, type AlpineSyncStore, type SyncwirePlugin } from '../../src/alpine';
import {
  createSyncStore,
  getNamespacedClient,
  type SyncHealth,
  type SyncStore,
} from '../../src/index';
import * as react from '../../src/react';
import { syncHealth, syncState, type SyncReadable } from '../../src/svelte';
import {
  createSharedSyncStore,
  type SharedClient,
  type SharedHealth,
  type SharedSyncStore,
  type TabRole,
} from '../../src/tabs';
import * as vue from '../../src/vue';
import type { SyncRef } from '../../src/vue';

type S = { count: number; names: string[] };
const client = getNamespacedClient('/state_sync');
const shared = createSharedSyncStore<S>({ channel: 'app', client, initialState: {} as S });
const plain = createSyncStore<S>({ client, initialState: {} as S });

test('a shared store is a SyncStore of its state', () => {
  expectTypeOf(shared).toEqualTypeOf<SharedSyncStore<S>>();
  expectTypeOf(shared).toMatchTypeOf<SyncStore<S>>();
  expectTypeOf(shared.health.role).toEqualTypeOf<TabRole>();
  expectTypeOf(shared.client).toEqualTypeOf<SharedClient>();
});

describe('syncwire/react', () => {
  test('useSyncState reads a shared store as any store', () => {
    expectTypeOf(react.useSyncState(shared)).toEqualTypeOf<S>();
    expectTypeOf(react.useSyncState(shared, (s) => s.names)).toEqualTypeOf<string[]>();
  });

  test("useSyncHealth gives the store's health: a shared store's has the role", () => {
    expectTypeOf(react.useSyncHealth(shared)).toEqualTypeOf<SharedHealth>();
    expectTypeOf(react.useSyncHealth(shared).role).toEqualTypeOf<TabRole>();
    expectTypeOf(react.useSyncHealth(plain)).toEqualTypeOf<SyncHealth>();
    // @ts-expect-error: a store of one tab has no role
    void react.useSyncHealth(plain).role;
    // The state type given explicitly, as before.
    expectTypeOf(react.useSyncHealth<S>(shared)).toEqualTypeOf<SyncHealth>();
  });
});

describe('syncwire/vue', () => {
  test('useSyncState and useSyncHealth take a shared store', () => {
    expectTypeOf(vue.useSyncState(shared)).toEqualTypeOf<SyncRef<S>>();
    expectTypeOf(vue.useSyncState(shared, (s) => s.count)).toEqualTypeOf<SyncRef<number>>();
    expectTypeOf(vue.useSyncHealth(shared)).toEqualTypeOf<SyncRef<SharedHealth>>();
    expectTypeOf(vue.useSyncHealth(shared).value.role).toEqualTypeOf<TabRole>();
    expectTypeOf(vue.useSyncHealth(plain)).toEqualTypeOf<SyncRef<SyncHealth>>();
  });
});

describe('syncwire/svelte', () => {
  test('syncState and syncHealth take a shared store', () => {
    expectTypeOf(syncState(shared)).toEqualTypeOf<SyncReadable<S>>();
    expectTypeOf(syncState(shared, (s) => s.names)).toEqualTypeOf<SyncReadable<string[]>>();
    expectTypeOf(syncHealth(shared)).toEqualTypeOf<SyncReadable<SharedHealth>>();
    expectTypeOf(syncHealth(plain)).toEqualTypeOf<SyncReadable<SyncHealth>>();
  });
});

describe('syncwire/alpine', () => {
  test('the plugin takes a shared store and its client; $store.<name> has the role', () => {
    const plugin = syncwirePlugin({ store: shared, client: shared.client, name: 'shared' });
    expectTypeOf(plugin).toEqualTypeOf<SyncwirePlugin<S, SharedHealth>>();
    const sync = plugin.alpineStore(Alpine);
    expectTypeOf(sync).toEqualTypeOf<AlpineSyncStore<S, SharedHealth>>();
    expectTypeOf(sync.health.role).toEqualTypeOf<TabRole>();
    expectTypeOf(sync.state.count).toEqualTypeOf<number>();
  });

  test('a store of one tab, with a full client, is typed as before', () => {
    const plugin = syncwirePlugin({ store: plain, client });
    expectTypeOf(plugin).toEqualTypeOf<SyncwirePlugin<S>>();
    // @ts-expect-error: no role in a one-tab store's health
    void plugin.alpineStore(Alpine).health.role;
    // @ts-expect-error: the magic's client needs request, emit, on and off
    syncwirePlugin({ store: plain, client: { request: client.request } });
  });
});
