/**
 * syncwire/tabs against the reference server: several shared stores in one process, one per
 * "tab", each with a client of its own, meeting over a fake BroadcastChannel and fake Web Locks
 * (or the BroadcastChannel election). Only the leader connects; followers see its state, have
 * their calls carried out by it, and one of them takes over when it goes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createAgentZeroModel, type AgentZeroState } from '../../src/agent-zero';
import {
  createNamespacedClient,
  isSyncwireError,
  type NamespacedClient,
  type SyncwireError,
} from '../../src/index';
import { createSharedSyncStore, type SharedSyncStore } from '../../src/tabs';
import { createFakeBus } from '../helpers/fake-bus';
import { createFakeLocks } from '../helpers/fake-locks';
import { fakeEnvironment, mapStorage } from '../helpers/store-harness';
import { persistence, type PersistStorage } from '../../src/persist';
import { waitFor } from '../helpers/wait';

interface RefServer {
  url: string;
  stats: {
    connections: number;
    stateRequests: number;
    fullStateRequests: number;
    received: Map<string, number>;
  };
  world: {
    addChat(name: string): string;
    appendLog(ctx: string, item: { content?: string }): number;
    notify(message: string): void;
  };
  faults: { bumpEpoch(): void };
  close(): Promise<void>;
}

const FAST = {
  handshakeTimeoutMs: 400,
  connectGraceMs: 500,
  pollIntervalMs: 100,
  backoffBaseMs: 100,
  backoffMaxMs: 400,
  livenessMs: 30000,
  notifyIntervalMs: 0,
};

interface Tab {
  name: string;
  client: NamespacedClient;
  store: SharedSyncStore<AgentZeroState>;
  errors: SyncwireError[];
  /** States this tab showed, as seen by its subscribers. */
  seen: { notifications_version: number; log_version: number; logs: number }[];
}

let server: RefServer;
let bus: ReturnType<typeof createFakeBus>;
let locks: ReturnType<typeof createFakeLocks>;
let tabs: Tab[];
const env = fakeEnvironment();
const storage = mapStorage();
/** Tabs that wrote the cache, in order. */
const writers = new Set<string>();
const writer = (name: string): PersistStorage => ({
  get: (key) => storage.get(key),
  set: (key, value) => {
    writers.add(name);
    return storage.set(key, value);
  },
});

function openTab(name: string, { useLocks = true, persist = false } = {}): Tab {
  const client = createNamespacedClient('/state_sync', {
    url: server.url,
    retry: { baseMs: 50, maxMs: 300 },
    socketOptions: { transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 300 },
  });
  const errors: SyncwireError[] = [];
  client.onError((e) => void errors.push(e));
  const store = createSharedSyncStore({
    channel: 'app',
    client,
    ...createAgentZeroModel({ timezone: 'UTC' }),
    environment: env,
    timing: FAST,
    ...(persist
      ? {
          persist: persistence<AgentZeroState>({
            key: 'tabs',
            storage: writer(name),
            throttleMs: 0,
          }),
        }
      : {}),
    tabs: { broadcast: (n) => bus.open(n), locks: useLocks ? locks.forTab(name) : null },
  });
  const tab: Tab = { name, client, store, errors, seen: [] };
  store.subscribe(() => {
    const s = store.state;
    tab.seen.push({
      notifications_version: s.notifications_version,
      log_version: s.log_version,
      logs: s.logs.length,
    });
  });
  tabs.push(tab);
  return tab;
}

/** Closes a tab as the browser does: its lock released, its channel gone, no goodbye. */
function crash(tab: Tab) {
  locks.close(tab.name);
  tab.store.dispose(); // what a page that is gone keeps: nothing (its socket closes with it)
  tab.client.dispose();
  tabs.splice(tabs.indexOf(tab), 1);
}

const leaders = () => tabs.filter((t) => t.store.role === 'leader');
const leader = () => {
  const all = leaders();
  expect(all).toHaveLength(1);
  return all[0]!;
};
const sameState = (a: AgentZeroState, b: AgentZeroState) =>
  a.notifications_version === b.notifications_version &&
  a.log_version === b.log_version &&
  a.logs.length === b.logs.length &&
  JSON.stringify(a.contexts) === JSON.stringify(b.contexts);
const allShowLeader = () => {
  const l = leaders();
  return l.length === 1 && tabs.every((t) => sameState(t.store.state, l[0]!.store.state));
};
/** Positions in the server's history never go back in any tab. */
const expectMonotonic = (tab: Tab) => {
  for (let i = 1; i < tab.seen.length; i++) {
    expect(tab.seen[i]!.notifications_version).toBeGreaterThanOrEqual(
      tab.seen[i - 1]!.notifications_version,
    );
    expect(tab.seen[i]!.logs).toBeGreaterThanOrEqual(tab.seen[i - 1]!.logs);
  }
};

beforeEach(async () => {
  server = await createReferenceServer({ testHandlersOn: ['/state_sync'] });
  bus = createFakeBus();
  locks = createFakeLocks();
  tabs = [];
  storage.data.clear();
  writers.clear();
});
afterEach(async () => {
  for (const t of tabs) {
    t.store.dispose();
    t.client.dispose();
  }
  await server.close();
});

for (const election of ['locks', 'broadcast'] as const)
  describe(`elected with ${election}`, () => {
    const useLocks = election === 'locks';

    it('shares one connection: one leader, the others mirror its state', async () => {
      for (const name of ['a', 'b', 'c']) await openTab(name, { useLocks }).store.start();
      await waitFor(() => leaders().length === 1 && leader().store.mode === 'HEALTHY');
      const ctx = server.world.addChat('one');
      server.world.appendLog(ctx, { content: 'hello' });
      server.world.notify('n1');
      await waitFor(() => leader().store.state.notifications_version > 0 && allShowLeader());
      expect(server.stats.connections).toBe(1);
      expect(tabs.map((t) => t.store.sharing)).toEqual(Array(3).fill(election));
      for (const t of tabs) {
        expect(t.store.health.role).toBe(t.store.role);
        expect(t.store.mode).toBe('HEALTHY');
        expect(t.errors).toEqual([]);
      }
      // Only the leader's socket ever connected.
      for (const t of tabs)
        if (t.store.role === 'follower') expect(t.client.isConnected()).toBe(false);
    });

    it('a follower calls through the leader: values and typed errors', async () => {
      for (const name of ['a', 'b']) await openTab(name, { useLocks }).store.start();
      await waitFor(
        () => leaders().length === 1 && allShowLeader() && tabs[1]!.store.health.source !== null,
      );
      const follower = tabs.find((t) => t.store.role === 'follower')!;
      const ack = await follower.store.client.request('echo', { text: 'hi' });
      expect(ack.results[0]).toMatchObject({ ok: true, data: { echo: { text: 'hi' } } });
      // A handler that throws is a failed result in the ack, relayed as the leader got it.
      const failed = await follower.store.client.request('fail', { message: 'no' });
      expect(failed.results[0]).toMatchObject({ ok: false, error: { code: 'HANDLER_ERROR' } });
      const timeout = await follower.store.client
        .request('delayed', { delayMs: 2000 }, { timeoutMs: 100 })
        .catch((e: unknown) => e);
      expect(isSyncwireError(timeout, 'TIMEOUT')).toBe(true);
      expect(server.stats.connections).toBe(1);
    });

    it('failover: a follower takes over from what it mirrored, with no full resync', async () => {
      for (const name of ['a', 'b', 'c']) await openTab(name, { useLocks }).store.start();
      const ctx = server.world.addChat('one');
      for (let i = 0; i < 5; i++) server.world.appendLog(ctx, { content: `line ${i}` });
      server.world.notify('n1');
      await waitFor(() => leaders().length === 1 && leader().store.state.notifications_version > 0);
      await waitFor(allShowLeader);
      const fullBefore = server.stats.fullStateRequests;
      const old = leader();
      const asker = tabs.find((t) => t.store.role === 'follower')!;
      // In flight at the leader when it goes: it settles, with DISCONNECTED, and never hangs.
      const inFlight = asker.store.client
        .request('delayed', { delayMs: 5000 }, { timeoutMs: 10000 })
        .catch((e: unknown) => e);
      await waitFor(() => server.stats.received.size > 0);
      crash(old);
      await waitFor(() => leaders().length === 1 && leader().store.mode === 'HEALTHY', 3000);
      expect(isSyncwireError(await inFlight, 'DISCONNECTED')).toBe(true);
      // And the next call goes to the new leader.
      const again = await asker.store.client.request('echo', { text: 'again' });
      expect(again.results[0]).toMatchObject({ ok: true });
      server.world.notify('n2');
      await waitFor(() => allShowLeader() && leader().store.state.notifications_version >= 2);
      // Same epoch: the new leader resumed from its cursors, not from scratch.
      expect(server.stats.fullStateRequests).toBe(fullBefore);
      expect(server.stats.connections).toBe(1);
      for (const t of tabs) expectMonotonic(t);
    });

    it('a new epoch after failover resyncs in full', async () => {
      for (const name of ['a', 'b']) await openTab(name, { useLocks }).store.start();
      server.world.notify('n1');
      await waitFor(() => leaders().length === 1 && allShowLeader());
      await waitFor(() => tabs.every((t) => t.store.state.notifications_version > 0));
      const fullBefore = server.stats.fullStateRequests;
      const old = leader();
      old.client.disconnect(); // the leader is frozen while the server restarts
      server.faults.bumpEpoch();
      crash(old);
      await waitFor(() => leaders().length === 1 && leader().store.mode === 'HEALTHY', 3000);
      await waitFor(() => server.stats.fullStateRequests > fullBefore);
      expect(leader().store.health.epoch).not.toBe(null);
    });

    it("a follower's resync runs on the leader", async () => {
      for (const name of ['a', 'b']) await openTab(name, { useLocks }).store.start();
      await waitFor(() => leaders().length === 1 && leader().store.mode === 'HEALTHY');
      await waitFor(allShowLeader);
      const follower = tabs.find((t) => t.store.role === 'follower')!;
      const before = server.stats.fullStateRequests;
      follower.store.resync('user asked');
      await waitFor(() => server.stats.fullStateRequests > before);
      await waitFor(() => follower.store.health.counters.resyncs > 0);
    });

    it("only the leader writes the cache; a new leader's first apply writes it", async () => {
      for (const name of ['a', 'b', 'c'])
        await openTab(name, { useLocks, persist: true }).store.start();
      server.world.notify('n1');
      await waitFor(() => leaders().length === 1 && allShowLeader());
      await waitFor(() => writers.size > 0);
      const first = leader();
      expect([...writers]).toEqual([first.name]);
      crash(first);
      await waitFor(() => leaders().length === 1 && leader().store.mode === 'HEALTHY', 3000);
      server.world.notify('n2');
      await waitFor(() => writers.size > 1);
      expect([...writers]).toEqual([first.name, leader().name]);
    });

    it('stop leaves nothing: the next tab leads, and the stopped one keeps its state', async () => {
      for (const name of ['a', 'b']) await openTab(name, { useLocks }).store.start();
      server.world.notify('n1');
      await waitFor(() => leaders().length === 1 && allShowLeader());
      await waitFor(() => tabs.every((t) => t.store.state.notifications_version > 0));
      const old = leader();
      const shown = old.store.state;
      old.store.stop();
      expect(old.store.role).toBe('follower');
      expect(old.store.state).toBe(shown);
      await waitFor(() => tabs.filter((t) => t.store.role === 'leader').length === 1);
      await waitFor(() => !old.client.isConnected() && server.stats.connections === 1, 3000);
      await old.store.start();
      await waitFor(() => leaders().length === 1 && allShowLeader());
      expect(server.stats.connections).toBe(1);
    });
  });
