/**
 * createSharedSyncStore on fake time: tabs with clients on fake sockets, meeting over a fake
 * BroadcastChannel and fake Web Locks. What the integration tests cannot reach easily: the
 * fallbacks, option checks, health identity, role events, and that stop and dispose leave
 * nothing behind, from wherever they are called.
 */
import { describe, expect, it } from 'vitest';
import { createNamespacedClient, isSyncwireError, type SyncwireError } from '../../src/index';
import type { LocksLike } from '../../src/tabs/election';
import { BROADCAST_ELECTION_DEFAULTS } from '../../src/tabs/election-bc';
import { fakeEnvironment } from '../helpers/store-harness';
import { createSharedSyncStore, type TabsEnvironment } from '../../src/tabs';
import { flush } from '../helpers/fake-clock';
import { envelope } from '../helpers/fake-socket';
import {
  leaderAndFollower,
  sharedTab as tabOf,
  tabsWorld,
  type SharedTab,
  type TabsWorld,
} from '../helpers/shared-tabs';

type S = { v: number };

const world = tabsWorld;
type World = TabsWorld;
/** Tab `name`: its handshake says where its state stands (`from`). */
const sharedTab = (w: World, name: string, tabs: TabsEnvironment = {}, environment?: Page) =>
  tabOf<S>(w, name, {
    initialState: { v: 0 },
    payload: (state) => ({ from: state.v }),
    tabs,
    environment,
  });
type Page = ReturnType<typeof fakeEnvironment>;

describe('createSharedSyncStore', () => {
  it('checks its own options, naming the field', () => {
    const w = world();
    const client = createNamespacedClient('/state_sync', { url: 'http://127.0.0.1:9' });
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(isSyncwireError(e, 'VALIDATION_ERROR')).toBe(true);
        return (e as SyncwireError & { details: { field: string } }).details.field;
      }
      return 'nothing thrown';
    };
    expect(field(() => createSharedSyncStore({ channel: '', client }))).toBe('channel');
    expect(field(() => createSharedSyncStore({ channel: 'x'.repeat(101), client }))).toBe(
      'channel',
    );
    const tabs = { broadcast: null, lokcs: null } as TabsEnvironment;
    expect(field(() => createSharedSyncStore({ channel: 'a', client, tabs }))).toBe(
      'options.tabs.lokcs',
    );
    // The store's own options are checked by createSyncStore, at once, in every tab.
    expect(field(() => createSharedSyncStore({ channel: 'a', client, pollUrl: 'http://[' }))).toBe(
      'pollUrl',
    );
    client.dispose();
    void w;
  });

  it('one leader connects; a follower shows its state, mode and health with its own role', async () => {
    const w = world();
    const a = sharedTab(w, 'a');
    const b = sharedTab(w, 'b');
    await a.store.start();
    await flush();
    await b.store.start();
    await flush();
    expect([a.store.role, b.store.role]).toEqual(['leader', 'follower']);
    await a.serve({ v: 7 });
    await flush();
    expect(b.factory.sockets).toHaveLength(0); // a follower never opens a socket
    expect(b.store.state).toEqual({ v: 7 });
    expect(b.store.mode).toBe('HEALTHY');
    expect(b.store.health).toMatchObject({ role: 'follower', mode: 'HEALTHY', epoch: 'E1' });
    expect(a.store.health).toMatchObject({ role: 'leader', mode: 'HEALTHY', epoch: 'E1' });
    // Snapshot-stable, on both sides, while nothing changes.
    expect(a.store.health).toBe(a.store.health);
    expect(b.store.health).toBe(b.store.health);
    expect(a.store.sharing).toBe('locks');
    for (const t of [a, b]) t.store.dispose();
  });

  it('a role change is a health event, and the new leader shows no older state meanwhile', async () => {
    const w = world();
    const a = sharedTab(w, 'a');
    const b = sharedTab(w, 'b');
    await a.store.start();
    await flush();
    await b.store.start();
    await a.serve({ v: 3 });
    await flush();
    const seen: number[] = [];
    b.store.subscribe(() => void seen.push(b.store.state.v));
    b.events.length = 0;
    w.locks.close('a');
    a.store.dispose();
    await flush();
    expect(b.store.role).toBe('leader');
    expect(b.events).toContain('health');
    expect(b.store.state).toEqual({ v: 3 }); // from the mirror, then from its own store's seed
    await flush();
    expect(b.store.health.source).toBe('cache'); // the mirrored state, not yet confirmed
    await b.serve({ v: 4 });
    expect(b.store.state).toEqual({ v: 4 });
    expect(Math.min(...seen)).toBe(3);
    // It resumed: its handshake was built from the state it mirrored.
    const req = b.socket().sent.find((s) => s.event === 'state_request')!;
    expect((req.payload as { data: unknown }).data).toEqual({ from: 3 });
    b.store.dispose();
  });

  it('taking over, events say what reads show: the mode followed from mode events is the mode', async () => {
    // As the Alpine plugin follows it: the mode from mode events, the state from state events.
    const follow = (t: SharedTab<S>) => {
      const seen = { mode: t.store.mode, state: t.store.state, wrong: [] as string[] };
      t.store.subscribe((e) => {
        if (e.type === 'mode') seen.mode = e.to;
        if (e.type === 'state') seen.state = t.store.state;
        if (seen.mode !== t.store.mode) seen.wrong.push(`${seen.mode} shown, ${t.store.mode} read`);
      });
      return seen;
    };
    // The leader's page closes (nothing of it runs), or its store stops (its last snapshot
    // reaches the follower while that takes over).
    for (const close of ['crash', 'stop'] as const) {
      const { a, b, dispose } = await leaderAndFollower<S>({ v: 3 }, { initialState: { v: 0 } });
      const seen = follow(b);
      expect(seen.mode).toBe('HEALTHY');
      if (close === 'crash') a.crash();
      else a.store.stop();
      await flush();
      await flush();
      expect(b.store.role).toBe('leader');
      expect(seen.wrong).toEqual([]);
      expect(seen.mode).toBe(b.store.mode);
      expect(b.store.mode).not.toBe('HEALTHY'); // its own store: not connected yet
      await b.serve({ v: 4 });
      expect([seen.mode, seen.state]).toEqual(['HEALTHY', { v: 4 }]);
      expect(seen.wrong).toEqual([]);
      dispose();
    }
  });

  it("a follower that stops and starts again shows the leader's latest state at once", async () => {
    // Found by the tabs model: its hello named the leader it followed, which that leader
    // takes for "I heard a lower one" and does not answer; it stayed on its old state.
    const w = world();
    const a = sharedTab(w, 'a');
    const b = sharedTab(w, 'b');
    await a.store.start();
    await flush();
    await b.store.start();
    await a.serve({ v: 1 });
    await flush();
    expect(b.store.state).toEqual({ v: 1 });
    b.store.stop();
    await a.push(3, { v: 2 });
    expect(b.store.state).toEqual({ v: 1 }); // stopped: it heard nothing
    await b.store.start();
    await flush();
    expect(b.store.state).toEqual({ v: 2 });
    for (const t of [a, b]) t.store.dispose();
  });

  it('without BroadcastChannel each tab runs its own store', async () => {
    const w = world();
    const a = sharedTab(w, 'a', { broadcast: null });
    expect(a.store.sharing).toBe('none');
    await a.store.start();
    expect(a.store.role).toBe('leader');
    await a.serve({ v: 1 });
    expect(a.store.state).toEqual({ v: 1 });
    expect(a.store.health.role).toBe('leader');
    a.store.stop();
    expect(w.clock.pending()).toBe(0);
    a.store.dispose();
  });

  it('a lock manager that fails falls back to the election over the channel', async () => {
    const w = world();
    const broken: LocksLike = {
      request: () => Promise.reject(new DOMException('opaque origin', 'SecurityError')),
    };
    const a = sharedTab(w, 'a', { locks: broken });
    await a.store.start();
    await flush();
    expect(a.store.sharing).toBe('broadcast');
    expect(a.errors.some((e) => e.code === 'HANDLER_ERROR')).toBe(true);
    await w.clock.advance(2000);
    expect(a.store.role).toBe('leader');
    a.store.dispose();
    expect(w.clock.pending()).toBe(0);
  });

  it('with the channel election, a leader whose page goes says goodbye: the next leads at once', async () => {
    const w = world();
    const page = fakeEnvironment();
    const a = sharedTab(w, 'a', { locks: null }, page);
    const b = sharedTab(w, 'b', { locks: null });
    await a.store.start();
    await w.clock.advance(2000);
    await b.store.start();
    await w.clock.advance(2000);
    expect([a.store.role, b.store.role]).toEqual(['leader', 'follower']);
    expect(b.store.sharing).toBe('broadcast');
    page.leave();
    // The goodbye: b claims at once and leads after one claim wait, long before a heartbeat
    // would have been missed.
    await w.clock.advance(BROADCAST_ELECTION_DEFAULTS.claimMs + 1);
    expect([a.store.role, b.store.role]).toEqual(['follower', 'leader']);
    await w.clock.advance(5000); // and a, back as a candidate, does not take it back
    expect([a.store.role, b.store.role]).toEqual(['follower', 'leader']);
    for (const t of [a, b]) t.store.dispose();
    expect(w.clock.pending()).toBe(0);
  });

  it('a leader whose lock is stolen steps down: its store stops and its socket closes', async () => {
    const w = world();
    const a = sharedTab(w, 'a');
    const b = sharedTab(w, 'b');
    await a.store.start();
    await flush();
    await b.store.start();
    await a.serve({ v: 5 });
    w.locks.steal('syncwire:tabs:app', 'page code'); // some other code of the page takes it
    await flush();
    expect(a.store.role).toBe('follower');
    expect(a.client.isConnected()).toBe(false);
    expect(a.store.state).toEqual({ v: 5 });
    w.locks.releaseStolen('syncwire:tabs:app', 'page code');
    await flush();
    // b waited in the queue first; a queued again behind it.
    expect([a.store.role, b.store.role]).toEqual(['follower', 'leader']);
    for (const t of [a, b]) t.store.dispose();
  });

  it.each(['steps down (its lock stolen)', 'stops'])(
    'a leader that %s does not post its stopped store as the leader state',
    async (how) => {
      // Found by the tabs model: the stopped store's DISCONNECTED went out as the leader's
      // snapshot, and the tabs that took it kept it while the next leader's state was no newer.
      const w = world();
      const a = sharedTab(w, 'a');
      const b = sharedTab(w, 'b');
      const c = sharedTab(w, 'c');
      await a.store.start();
      await flush();
      await b.store.start();
      await c.store.start();
      await a.serve({ v: 5 });
      await flush();
      expect(c.store.mode).toBe('HEALTHY');
      // Each mode c shows, and whether a new leader (b) runs yet: c may show the new leader's
      // store connecting, never the old one's stopped store.
      const modes: string[] = [];
      c.store.subscribe((e) => void (e.type === 'mode' && modes.push(`${e.to} ${b.store.role}`)));
      if (how === 'stops') a.store.stop();
      else w.locks.steal('syncwire:tabs:app', 'page code');
      await flush();
      expect(a.store.role).toBe('follower');
      expect(modes).not.toContain('DISCONNECTED follower');
      expect(c.store.state).toEqual({ v: 5 });
      for (const t of [a, b, c]) t.store.dispose();
    },
  );

  it('stop and dispose leave nothing, even called from a subscriber', async () => {
    const w = world();
    const a = sharedTab(w, 'a');
    const b = sharedTab(w, 'b');
    await a.store.start();
    await flush();
    await b.store.start();
    await a.serve({ v: 1 });
    const pending = b.store.client.request('echo', { x: 1 }).catch((e: unknown) => e);
    await flush();
    b.store.subscribe(() => b.store.stop());
    a.socket().serverEmit(
      'state_push',
      envelope({ runtime_epoch: 'E1', seq: 3, snapshot: { v: 2 } }),
    );
    await w.clock.advance(0);
    await flush();
    expect(b.store.role).toBe('follower');
    // A call sent to the leader is lost with the stop: it settles now, not at its deadline.
    expect(isSyncwireError(await pending, 'DISCONNECTED')).toBe(true);
    a.store.stop();
    await flush();
    expect(w.clock.pending()).toBe(0);
    expect(a.client.isConnected()).toBe(false);
    for (const t of [a, b]) t.store.dispose();
    expect(w.clock.pending()).toBe(0);
  });
});
