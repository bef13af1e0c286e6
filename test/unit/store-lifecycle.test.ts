// The sync store's lifecycle on fakes: start() and stop() (from anywhere, even from its own
// listeners, twice, again on a live connection), the warm start from its cache, and disposal.
import { describe, expect, it } from 'vitest';
import { persistence, type PersistedRecord } from '../../src/persist';
import { createSyncStore, type CachedState, type PersistSession } from '../../src/index';
import { flush } from '../helpers/fake-clock';
import { type Log, logModel, mapStorage, storeHarness } from '../helpers/store-harness';

describe('sync store: lifecycle and warm start', () => {
  it('stop() leaves no timer, listener, poll or request behind', async () => {
    const h = storeHarness();
    const baseline = h.socket === undefined ? 0 : 0;
    await h.healthy({ v: 2 });
    h.store.resync(); // a handshake in flight
    await flush();
    h.store.stop();
    await flush();
    expect(h.clock.pending()).toBe(0);
    expect(h.env.listeners).toBe(baseline);
    expect(h.socket().listenerCount('state_push')).toBe(0);
    expect(h.store.mode).toBe('DISCONNECTED');
    const calls = h.fetch.calls.length;
    await h.clock.advance(60_000);
    expect(h.fetch.calls).toHaveLength(calls);
    await h.push(3, { v: 3 });
    expect(h.store.state).toEqual({ v: 2 });
  });

  it('restores cached state before the network answers, then resumes', async () => {
    const storage = mapStorage();
    const record: PersistedRecord = {
      format: 1,
      version: 1,
      epoch: 'E1',
      savedAt: 1_699_999_990_000,
      state: { cached: true },
    };
    storage.data.set('syncwire:state', record);
    const h = storeHarness({ persist: persistence({ storage }) });
    void h.store.start();
    await flush();
    expect(h.store.state).toEqual({ cached: true });
    expect(h.store.health.source).toBe('cache');
    expect(h.store.health.staleMs).toBe(10_000);
    await h.connect();
    await h.ack('E1');
    await h.push(2, { live: true });
    await h.clock.advance(1000);
    const saved = storage.data.get('syncwire:state') as PersistedRecord;
    expect(saved).toMatchObject({ format: 1, version: 1, epoch: 'E1', state: { live: true } });
  });

  it('a changed epoch after a restart means a full resync, not a resume', async () => {
    const storage = mapStorage();
    storage.data.set('syncwire:state', {
      format: 1,
      version: 1,
      epoch: 'OLD',
      savedAt: 0,
      state: { cached: true },
    });
    const h = storeHarness({ persist: persistence({ storage }) });
    void h.store.start();
    await flush();
    await h.connect();
    await h.ack('NEW');
    expect(h.requests()).toHaveLength(2); // the resume was answered by another process: ask again, in full
    await h.ack('NEW');
    await h.push(2, { fresh: true }, 'NEW');
    expect(h.store.state).toEqual({ fresh: true });
  });

  it('ignores a record of another version', async () => {
    const storage = mapStorage();
    storage.data.set('syncwire:state', {
      format: 1,
      version: 1,
      epoch: 'E1',
      savedAt: 0,
      state: { old: true },
    });
    const h = storeHarness({ persist: persistence({ storage, version: 2 }) });
    void h.store.start();
    await flush();
    expect(h.store.state).toEqual({});
  });

  it('broken storage is reported and never stops syncing', async () => {
    const storage = mapStorage();
    storage.broken = true;
    const h = storeHarness({ persist: persistence({ storage }) });
    await h.healthy({ v: 1 });
    await h.clock.advance(2000);
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ v: 1 });
    expect(h.errors.filter((e) => e.code === 'STORAGE_ERROR').length).toBeGreaterThanOrEqual(1);
  });

  it('reports a failing storage once per failure streak, not on every save', async () => {
    const storage = mapStorage();
    const h = storeHarness({ persist: persistence({ storage, throttleMs: 100 }) });
    await h.healthy({ v: 1 });
    storage.broken = true;
    const saveErrors = () => h.errors.filter((e) => e.code === 'STORAGE_ERROR').length;
    for (let seq = 3; seq < 8; seq++) {
      await h.push(seq, { v: seq });
      await h.clock.advance(150);
    }
    expect(saveErrors()).toBe(1);
    storage.broken = false;
    await h.push(8, { v: 8 });
    await h.clock.advance(150);
    expect((storage.data.get('syncwire:state') as PersistedRecord).state).toEqual({ v: 8 });
    storage.broken = true;
    await h.push(9, { v: 9 });
    await h.clock.advance(150);
    expect(saveErrors()).toBe(2); // a new streak is reported again
  });

  it('a storage whose get() throws synchronously leaves no timer behind', async () => {
    const storage = {
      get: (): Promise<unknown> => {
        throw new Error('no IndexedDB here');
      },
      set: () => Promise.resolve(),
    };
    const h = storeHarness({ persist: persistence({ storage }) });
    await h.store.start();
    expect(h.errors.some((e) => e.code === 'STORAGE_ERROR')).toBe(true);
    h.store.stop();
    h.client.dispose();
    expect(h.clock.pending()).toBe(0);
  });

  it('flushes a pending save on pagehide', async () => {
    const storage = mapStorage();
    const h = storeHarness({ persist: persistence({ storage, throttleMs: 60_000 }) });
    await h.healthy({ v: 9 });
    expect(storage.data.size).toBe(0);
    h.env.leave();
    await flush();
    expect((storage.data.get('syncwire:state') as PersistedRecord).state).toEqual({ v: 9 });
  });

  it('validates its options', () => {
    expect(() => createSyncStore({} as never)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR' }),
    );
    const h = storeHarness();
    expect(() => createSyncStore({ client: h.client, timing: { pollIntervalMs: -1 } })).toThrow(
      /timing.pollIntervalMs/,
    );
    expect(() => createSyncStore({ client: h.client, timing: { nope: 1 } as never })).toThrow(
      /timing.nope/,
    );
    // Zero would spin (a 0 ms backoff or poll interval); only the notify gap may be 0.
    expect(() => createSyncStore({ client: h.client, timing: { backoffBaseMs: 0 } })).toThrow(
      /timing.backoffBaseMs/,
    );
    expect(() => createSyncStore({ client: h.client, timing: { pollIntervalMs: 0 } })).toThrow(
      /timing.pollIntervalMs/,
    );
    expect(() =>
      createSyncStore({ client: h.client, timing: { notifyIntervalMs: 0 } }),
    ).not.toThrow();
    // A misspelled option is refused, listing the known ones.
    expect(() => createSyncStore({ client: h.client, pollurl: '/x' } as never)).toThrow(
      /^options\.pollurl: expected one of the known options \(client, pollUrl, payload, reduce, initialState, persist, timing, hasChanged, fetch, environment, random\)/,
    );
  });

  it('persistence() checks its options when it is created', () => {
    const storage = mapStorage();
    expect(() => persistence({ storage, key: 5 as never })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', details: { field: 'persist.key' } }),
    );
    expect(() => persistence({ storage, throttleMs: -5 })).toThrow(
      /^persist\.throttleMs: expected a number >= 0, got number/,
    );
    expect(() => persistence({ storage, loadTimeoutMs: 0 })).toThrow(
      /persist\.loadTimeoutMs: expected a number > 0/,
    );
    expect(() => persistence({ storage, version: 1.5 })).toThrow(
      /persist\.version: expected an integer/,
    );
    expect(() => persistence({ storage, throttle: 5 } as never)).toThrow(
      /persist\.throttle: expected one of the known options \(key, dbName, storeName, version, throttleMs, loadTimeoutMs, storage\)/,
    );
    expect(() => persistence({ storage, key: 'k', throttleMs: 0 })).not.toThrow();
  });
});

describe('sync store: stop, start and disposal from anywhere', () => {
  it('a store whose client is disposed goes FAILED with a DISPOSED error and leaves nothing behind', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.client.dispose();
    expect(h.store.mode).toBe('FAILED');
    expect(h.store.health.lastError?.code).toBe('DISPOSED');
    expect(h.env.listeners).toBe(0);
    expect(h.clock.pending()).toBe(0);
    const polls = h.fetch.calls.length;
    await h.clock.advance(60_000);
    expect(h.fetch.calls).toHaveLength(polls);
    await h.store.start(); // stays FAILED: there is nothing to sync with
    expect(h.store.mode).toBe('FAILED');
    expect(h.env.listeners).toBe(0);
    expect(h.clock.pending()).toBe(0);
  });

  it('a store started on a disposed client is FAILED at once', async () => {
    const h = storeHarness();
    h.client.dispose();
    await h.store.start();
    expect(h.store.mode).toBe('FAILED');
    expect(h.store.health.lastError).toMatchObject({ code: 'DISPOSED' });
    expect(h.clock.pending()).toBe(0);
  });

  it('a subscriber that stops the store during the warm-start notification leaves it stopped, with nothing scheduled', async () => {
    const storage = mapStorage();
    storage.data.set('syncwire:state', {
      format: 1,
      version: 1,
      epoch: 'E1',
      savedAt: 1_699_999_990_000,
      state: { cached: true },
    });
    const h = storeHarness({ persist: persistence({ storage }) });
    h.store.subscribe((e) => e.type === 'state' && h.store.stop());
    await h.store.start();
    expect(h.store.state).toEqual({ cached: true });
    await h.clock.advance(60_000);
    expect(h.store.mode).toBe('DISCONNECTED');
    expect(h.fetch.calls).toHaveLength(0);
    expect(h.env.listeners).toBe(0);
  });

  it('stop() then start() from a subscriber leaves the store running: the last call wins', async () => {
    const h = storeHarness();
    let once = true;
    h.store.subscribe((e) => {
      if (e.type !== 'mode' || e.to !== 'HANDSHAKE_PENDING' || !once) return;
      once = false;
      h.store.stop();
      void h.store.start();
    });
    void h.store.start();
    await flush();
    await h.connect();
    await flush();
    expect(h.env.listeners).toBe(1);
    await h.ack();
    await h.push(2, { v: 2 });
    expect(h.store.mode).toBe('HEALTHY');
  });

  it('a restarted store knows at once whether its client connected while it was stopped, cache read or not', async () => {
    const storage = mapStorage();
    storage.data.set('syncwire:state', {
      format: 1,
      version: 1,
      epoch: 'E1',
      savedAt: 1_699_999_990_000,
      state: { cached: true },
    });
    const h = storeHarness({ persist: persistence({ storage, loadTimeoutMs: 1000 }) });
    let release = () => {};
    storage.get = () =>
      new Promise((resolve) => (release = () => resolve(storage.data.get('syncwire:state'))));
    void h.store.start();
    await flush();
    release();
    await flush();
    h.store.stop();
    await h.connect(); // connects while nobody listens
    void h.store.start(); // the cache read is pending
    await flush();
    expect(h.store.health.connected).toBe(true);
    release();
  });

  it("health.counters count over the store's whole life, across stop() and start()", async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    const { handshakes, pushesApplied } = h.store.health.counters;
    h.store.stop();
    void h.store.start();
    await flush();
    expect(h.store.health.counters).toMatchObject({ handshakes: handshakes + 1, pushesApplied });
  });
});

describe('sync store: start() twice and a restart on a live connection', () => {
  it('start() called twice sends one state_request per connect, not two', async () => {
    const h = storeHarness();
    void h.store.start();
    void h.store.start(); // e.g. the Alpine plugin starts it, and the page calls $store.sync.start() too
    await flush();
    await h.connect();
    expect(h.requests()).toHaveLength(1);
    await h.ack();
    await h.push(2, { v: 1 });
    expect(h.store.mode).toBe('HEALTHY');
    // Every later reconnect: still one handshake.
    h.socket().drop('transport close');
    await h.connect();
    expect(h.requests()).toHaveLength(2);
  });

  it("a restart on a live connection does not take the previous run's first push as the new period's (untagged server)", async () => {
    const h = storeHarness<Log>(logModel());
    void h.store.start();
    await flush();
    await h.connect(); // run 1: state_request #1 sent; the server opens a period for it
    h.store.stop(); // e.g. a component unmounted right away...
    void h.store.start(); // ...and mounted again: the socket is still connected
    await flush();
    expect(h.requests()).toHaveLength(2);
    // The server answered #1 with its first push (seq 2, full: items [1]) before it saw #2.
    await h.push(2, { items: [1], cursor: 1 });
    // #2 resets the period: ack, then the new period's full snapshot (items [1, 2]) and a delta.
    await h.ack();
    await h.push(2, { items: [1, 2], cursor: 2 });
    await h.push(3, { items: [3], cursor: 3 });
    expect(h.store.state.items).toEqual([1, 2, 3]); // not [1, 3], item 2 lost for good
  });

  // "Only a full snapshot applies after a reduce failure" must not outlive the run: a store
  // stopped and started again resumes from its last good state (its cursors come from it), so
  // the resumed period's pushes apply, rather than all being skipped while the store says HEALTHY.
  it('after a reduce failure, stop() and start() with a cache: the resumed period applies its pushes', async () => {
    type S = { v: number };
    const cache: PersistSession<S> = {
      load: () => Promise.resolve<CachedState<S>>({ epoch: 'E1', savedAt: 0, state: { v: 1 } }),
      save: () => {},
      flush: () => {},
    };
    const h = storeHarness<S>({
      initialState: { v: 0 },
      persist: () => cache,
      reduce: (_s, snap) => {
        if ((snap as { bad?: boolean }).bad) throw new Error('malformed snapshot');
        return snap as S;
      },
    });
    void h.store.start();
    await flush();
    await h.connect();
    await h.ack();
    await h.push(2, { v: 2 });
    expect(h.store.state).toEqual({ v: 2 });
    await h.push(3, { bad: true }); // REDUCE_ERROR: a full resync is asked for
    expect(h.errors.map((e) => e.code)).toContain('REDUCE_ERROR');
    h.store.stop(); // before the full snapshot came
    void h.store.start();
    await flush();
    await h.ack(); // a resume (the cache has an epoch), not a full sync
    await h.push(2, { v: 5 });
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ v: 5 }); // not still { v: 2 } with every push skipped
    await h.push(3, { v: 6 });
    expect(h.store.state).toEqual({ v: 6 });
  });
});

// stop() called from a subscriber, while the store is running a transition's effects.
describe('sync store: stop() from a mode listener', () => {
  it('stopping on the first HEALTHY leaves no timer behind and applies nothing after stop()', async () => {
    const h = storeHarness();
    // A one-shot sync: take the first good state, then stop.
    h.store.subscribe((e) => e.type === 'mode' && e.to === 'HEALTHY' && h.store.stop());
    void h.store.start();
    await flush();
    await h.connect();
    await h.push(2, { v: 2 }); // the period's pushes arrive before the ack
    await h.push(3, { v: 3 });
    await h.ack(); // replays 2 (HEALTHY → stop()), then 3
    expect(h.store.mode).toBe('DISCONNECTED');
    const stateAtStop = h.store.state;
    const events = h.events.length;
    expect(h.clock.pending()).toBe(0); // no 'notify' timer scheduled by an apply after stop()
    await h.clock.advance(1000);
    expect(h.events.slice(events)).toEqual([]); // no 'state' event after stop()
    expect(h.store.state).toBe(stateAtStop);
  });

  it('stopping on HANDSHAKE_PENDING sends no state_request after stop()', async () => {
    const h = storeHarness();
    h.store.subscribe((e) => e.type === 'mode' && e.to === 'HANDSHAKE_PENDING' && h.store.stop());
    void h.store.start();
    await flush();
    await h.connect();
    expect(h.store.mode).toBe('DISCONNECTED');
    await flush();
    expect(h.requests()).toHaveLength(0); // the handshake effect does not run after stop()
  });

  it('stopping on the first HEALTHY drops the events still queued: a resync the reducer asked for sends nothing', async () => {
    const h = storeHarness({
      reduce: (_s, snap, ctx) => {
        ctx.requestResync('reducer wants a full view');
        return snap as Record<string, unknown>;
      },
    });
    h.store.subscribe((e) => e.type === 'mode' && e.to === 'HEALTHY' && h.store.stop());
    void h.store.start();
    await flush();
    await h.connect();
    await h.ack();
    await h.push(2, { v: 2 }); // apply queues the resync, then HEALTHY → stop()
    expect(h.store.mode).toBe('DISCONNECTED');
    await h.clock.advance(5000);
    expect(h.requests()).toHaveLength(1); // the queued resync sends no second state_request
    expect(h.clock.pending()).toBe(0);
  });
});

describe('sync store: stop() while work is in flight', () => {
  it('stop() during a liveness audit reports nothing afterwards', async () => {
    // A fetch that honours its AbortSignal, as the browser's does, and never answers by itself.
    const fetch = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () =>
          reject(new DOMException('The operation was aborted.', 'AbortError')),
        ),
      );
    const h = storeHarness({ fetch, timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 1 });
    await h.clock.advance(10_000); // the audit poll is in flight
    const before = h.errors.length;
    h.store.stop();
    await flush();
    await flush();
    expect(h.errors.slice(before).map((e) => `${e.code}: ${e.message}`)).toEqual([]); // no VALIDATION_ERROR after stop()
  });

  it('stop() during a slow cache read leaves no persist timer behind, and reports nothing later', async () => {
    const storage = { get: () => new Promise<unknown>(() => {}), set: () => Promise.resolve() }; // IndexedDB slow to open
    const h = storeHarness({ persist: persistence({ storage }) });
    void h.store.start();
    await flush();
    h.store.stop();
    h.client.dispose();
    await flush();
    expect(h.clock.pending()).toBe(0); // the 1000 ms loadTimeoutMs timer is cleared
    await h.clock.advance(2000);
    expect(h.errors.map((e) => e.code)).toEqual([]); // no STORAGE_ERROR "reading the cached state failed" after stop()
  });
});
