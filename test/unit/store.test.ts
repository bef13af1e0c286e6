import { describe, expect, it } from 'vitest';
import { persistence, type PersistedRecord } from '../../src/persist';
import { createSyncStore, type ReduceContext } from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope } from '../helpers/fake-socket';
import { mapStorage, storeHarness } from '../helpers/store-harness';

type Log = { items: number[]; cursor: number; guid?: string };
const logReduce = (s: Log, snap: object, ctx: ReduceContext): Log => {
  const d = snap as { items?: number[]; cursor?: number; guid?: string };
  if (s.guid && d.guid && d.guid !== s.guid) ctx.requestResync('guid changed');
  return {
    items: [...s.items, ...(d.items ?? [])],
    cursor: d.cursor ?? s.cursor,
    guid: d.guid ?? s.guid,
  };
};
const logPayload = (s: Log) => ({
  context: null,
  log_from: s.cursor,
  notifications_from: 0,
  timezone: 'UTC',
});

describe('sync store: handshake and pushes', () => {
  it('handshakes with the default payload and becomes HEALTHY on the first snapshot', async () => {
    const h = storeHarness();
    void h.store.start();
    await flush();
    expect(h.store.mode).toBe('DISCONNECTED');
    await h.connect();
    expect(h.store.mode).toBe('HANDSHAKE_PENDING');
    const req = h.requests()[0]?.payload as { data: Record<string, unknown> };
    expect(Object.keys(req.data).sort()).toEqual([
      'context',
      'log_from',
      'notifications_from',
      'timezone',
    ]);
    expect(req.data).toMatchObject({ context: null, log_from: 0, notifications_from: 0 });
    expect(typeof req.data.timezone).toBe('string');
    await h.ack();
    expect(h.store.mode).toBe('HANDSHAKE_PENDING');
    await h.push(2, { hello: 'world' });
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ hello: 'world' });
    expect(h.store.health).toMatchObject({
      mode: 'HEALTHY',
      epoch: 'E1',
      lastSeq: 2,
      source: 'push',
      staleMs: 0,
      counters: { pushesApplied: 1 },
    });
    expect(h.modes()).toEqual(['HANDSHAKE_PENDING', 'HEALTHY']);
  });

  it('reduces a burst in order but notifies subscribers once per macrotask', async () => {
    const h = storeHarness<Log>({
      reduce: logReduce,
      payload: logPayload,
      initialState: { items: [], cursor: 0 },
    });
    await h.healthy({ items: [1], cursor: 1 });
    h.events.length = 0;
    for (let seq = 3; seq < 53; seq++)
      h.socket().serverEmit('state_push', {
        handlerId: 'h',
        eventId: `e${seq}`,
        correlationId: 'c',
        ts: '2026-11-23T00:00:00.000Z',
        data: { runtime_epoch: 'E1', seq, snapshot: { items: [seq], cursor: seq } },
      });
    expect(h.store.state.items).toHaveLength(51); // reduced synchronously, in order
    expect(h.events).toEqual([]);
    await h.clock.advance(16); // at most one notification per notifyIntervalMs
    expect(h.events).toEqual([{ type: 'state', state: h.store.state }]);
    expect(h.store.state.items).toEqual([1, ...Array.from({ length: 50 }, (_, i) => i + 3)]);
  });

  it('pushes arriving one per macrotask are notified at most once per notifyIntervalMs, none later than that', async () => {
    const h = storeHarness<Log>({
      reduce: logReduce,
      payload: logPayload,
      initialState: { items: [], cursor: 0 },
    });
    await h.healthy({ items: [1], cursor: 1 });
    await h.clock.advance(100);
    h.events.length = 0;
    const notifiedAt: number[] = [];
    h.store.subscribe((e) => e.type === 'state' && notifiedAt.push(h.clock.now()));
    const start = h.clock.now();
    for (let seq = 3; seq < 103; seq++) {
      await h.push(seq, { items: [seq], cursor: seq }); // 100 pushes, 1 ms apart: 1,000 per second
      await h.clock.advance(1);
    }
    await h.clock.advance(16);
    expect(notifiedAt.length).toBeLessThanOrEqual(100 / 16 + 2);
    expect(notifiedAt.at(-1)).toBeLessThanOrEqual(start + 100 + 16);
    expect(
      Math.max(...notifiedAt.map((t, i) => t - (notifiedAt[i - 1] ?? start))),
    ).toBeLessThanOrEqual(17);
    expect(h.store.state.items.at(-1)).toBe(102);
  });

  it('drops stale and duplicate pushes: an older snapshot never overwrites a newer one', async () => {
    const h = storeHarness();
    await h.healthy({ v: 2 });
    await h.push(3, { v: 3 });
    await h.push(2, { v: 2 });
    await h.push(3, { v: 3.5 });
    expect(h.store.state).toEqual({ v: 3 });
    expect(h.store.health.counters.pushesDropped).toBe(2);
  });

  it('resyncs in full on a gap, keeping the last good state until the swap', async () => {
    const h = storeHarness<Log>({
      reduce: logReduce,
      payload: logPayload,
      initialState: { items: [], cursor: 0 },
    });
    await h.healthy({ items: [1, 2], cursor: 2 });
    await h.push(5, { items: [9], cursor: 9 });
    expect(h.store.state.items).toEqual([1, 2]); // no empty flash
    const full = h.requests().at(-1)?.payload as { data: { log_from: number } };
    expect(full.data.log_from).toBe(0); // payload(initialState)
    await h.ack();
    await h.push(2, { items: [1, 2, 3], cursor: 3 });
    expect(h.store.state).toEqual({ items: [1, 2, 3], cursor: 3 }); // swapped in one step, not appended
    expect(h.store.health.counters.resyncs).toBe(1);
  });

  it('resumes with the current cursors after a reconnect to the same epoch', async () => {
    const h = storeHarness<Log>({
      reduce: logReduce,
      payload: logPayload,
      initialState: { items: [], cursor: 0 },
    });
    await h.healthy({ items: [1, 2, 3], cursor: 3 });
    h.socket().drop('transport close');
    expect(h.store.mode).toBe('DISCONNECTED');
    await h.connect();
    const resume = h.requests().at(-1)?.payload as { data: { log_from: number } };
    expect(resume.data.log_from).toBe(3);
    await h.ack();
    await h.push(2, { items: [4], cursor: 4 });
    expect(h.store.state.items).toEqual([1, 2, 3, 4]);
  });

  it('a reducer can ask for a full resync', async () => {
    const h = storeHarness<Log>({
      reduce: logReduce,
      payload: logPayload,
      initialState: { items: [], cursor: 0 },
    });
    await h.healthy({ items: [1], cursor: 1, guid: 'g1' });
    const before = h.requests().length;
    await h.push(3, { items: [], cursor: 0, guid: 'g2' });
    expect(h.requests()).toHaveLength(before + 1);
    expect((h.requests().at(-1)?.payload as { data: { log_from: number } }).data.log_from).toBe(0);
  });

  it('replays pushes that arrive before the ack', async () => {
    const h = storeHarness();
    void h.store.start();
    await flush();
    await h.connect();
    await h.push(2, { v: 2 });
    await h.push(3, { v: 3 });
    expect(h.store.state).toEqual({});
    await h.ack();
    expect(h.store.state).toEqual({ v: 3 });
    expect(h.store.mode).toBe('HEALTHY');
  });

  it('uses tagged pushes when the server promises push_correlation', async () => {
    const h = storeHarness();
    await h.healthy({ v: 2 });
    h.store.resync('context switch');
    await flush();
    const cid = (h.requests().at(-1)?.payload as { correlationId: string }).correlationId;
    await h.push(3, { v: 'old period' }); // untagged: from the old period
    await h.push(2, { v: 'new' }, 'E1', cid);
    await h.ack('E1', { push_correlation: true });
    expect(h.store.state).toEqual({ v: 'new' });
    await h.push(4, { v: 'old again' });
    expect(h.store.state).toEqual({ v: 'new' });
  });

  it('drops a malformed push, keeps the state and reports INVALID_ENVELOPE', async () => {
    const h = storeHarness();
    await h.healthy({ v: 2 });
    h.socket().serverEmit('state_push', {
      handlerId: 'h',
      eventId: 'e',
      correlationId: 'c',
      ts: '2026-11-23T00:00:00.000Z',
      data: { runtime_epoch: 'E1', seq: '3', snapshot: {} },
    });
    h.socket().serverEmit('state_push', {
      handlerId: 'h',
      eventId: 'e',
      correlationId: 'c',
      ts: '2026-11-23T00:00:00.000Z',
      data: { runtime_epoch: 'E1', seq: 3, snapshot: [] },
    });
    await flush();
    expect(h.store.state).toEqual({ v: 2 });
    expect(h.errors.map((e) => e.code)).toEqual(['INVALID_ENVELOPE', 'INVALID_ENVELOPE']);
    expect(h.store.health.counters.pushesDropped).toBe(2);
  });
});

describe('sync store: failures', () => {
  it('a stalled handshake degrades to polling, ignores pushes, and recovers', async () => {
    const h = storeHarness();
    h.fetch.respond(() => ({ status: 200, body: { from: 'poll' } }));
    void h.store.start();
    await flush();
    await h.connect();
    await h.clock.advance(2000); // state_request ack timeout
    expect(h.store.mode).toBe('DEGRADED');
    expect(h.store.health.lastError?.code).toBe('TIMEOUT');
    expect(h.fetch.calls).toHaveLength(1);
    const call = h.fetch.calls[0];
    expect(call?.url).toBe('http://127.0.0.1:9/poll');
    expect(call?.headers['X-CSRF-Token']).toBe('tok-1');
    expect(h.store.state).toEqual({ from: 'poll' });
    expect(h.store.health.source).toBe('poll');
    await h.push(7, { from: 'push' });
    expect(h.store.state).toEqual({ from: 'poll' });
    await h.clock.advance(1000);
    expect(h.fetch.calls.length).toBeGreaterThanOrEqual(3);
    const retry = h.requests().length;
    while (h.requests().length === retry) await h.clock.advance(50);
    await h.ack();
    // A poll that landed between that handshake and its ack makes the store ask again from the newer state.
    if (h.requests().length > retry + 1) await h.ack();
    const polls = h.fetch.calls.length;
    await h.push(2, { from: 'push' });
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ from: 'push' });
    await h.clock.advance(5000);
    expect(h.fetch.calls).toHaveLength(polls); // polling stopped
  });

  it('a deterministic error puts the store in FAILED with bounded requests', async () => {
    const h = storeHarness();
    void h.store.start();
    await flush();
    await h.connect();
    await h.nack('INVALID_REQUEST', 'timezone must be a valid IANA timezone name');
    expect(h.store.mode).toBe('FAILED');
    // The server's own code is no code of ours: HANDSHAKE_FAILED, with details.serverCode.
    expect(h.store.health.lastError).toEqual({
      code: 'HANDSHAKE_FAILED',
      message:
        'the server refused state_request (INVALID_REQUEST): timezone must be a valid IANA timezone name',
    });
    expect(h.errors.at(-1)).toMatchObject({
      code: 'HANDSHAKE_FAILED',
      details: { serverCode: 'INVALID_REQUEST' },
    });
    await h.clock.advance(120_000);
    h.socket().drop('transport close');
    await h.connect();
    await h.clock.advance(60_000);
    expect(h.requests()).toHaveLength(1);
    expect(h.fetch.calls).toHaveLength(0);
    h.store.resync();
    await flush();
    expect(h.requests()).toHaveLength(2);
  });

  it('treats an ok:true item carrying { code, message } as the error it is (anchor §4.2-B)', async () => {
    const h = storeHarness();
    void h.store.start();
    await flush();
    await h.connect();
    const req = h.requests()[0];
    req?.ack?.({
      correlationId: 'x',
      results: [
        {
          handlerId: 'h',
          ok: true,
          data: { code: 'INVALID_REQUEST', message: 'log_from must be an integer >= 0' },
        },
      ],
    });
    await flush();
    expect(h.store.mode).toBe('FAILED');
    expect(h.store.health.lastError?.code).toBe('HANDSHAKE_FAILED');
    expect(h.errors.at(-1)?.details).toEqual({ serverCode: 'INVALID_REQUEST' });
  });

  it('with no connection at all, state arrives by polling within the grace period', async () => {
    const h = storeHarness({ timing: { connectGraceMs: 1500 } });
    h.fetch.respond(() => ({ status: 200, body: { n: h.fetch.calls.length } }));
    void h.store.start();
    await h.clock.advance(1499);
    expect(h.fetch.calls).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.store.mode).toBe('DEGRADED');
    expect(h.store.state).toEqual({ n: 1 });
    await h.clock.advance(1000);
    expect(h.fetch.calls.length).toBeGreaterThanOrEqual(4);
    expect(h.store.health.staleMs).toBeLessThan(300);
  });

  it('pauses polling while hidden or offline, and polls at once when back', async () => {
    const h = storeHarness();
    void h.store.start();
    await h.clock.advance(3000);
    expect(h.store.mode).toBe('DEGRADED');
    h.env.set({ hidden: true });
    const n = h.fetch.calls.length;
    await h.clock.advance(10_000);
    expect(h.fetch.calls.length).toBeLessThanOrEqual(n + 1); // at most the poll already in flight
    const m = h.fetch.calls.length;
    h.env.set({ hidden: false });
    await h.clock.advance(0);
    expect(h.fetch.calls).toHaveLength(m + 1);
    h.env.set({ online: false });
    await h.clock.advance(10_000);
    const k = h.fetch.calls.length;
    expect(k).toBeLessThanOrEqual(m + 2);
    h.env.set({ online: true });
    await h.clock.advance(0);
    expect(h.fetch.calls).toHaveLength(k + 1);
  });

  it('refreshes the CSRF token once when a poll gets 403', async () => {
    let refreshed = 0;
    const h = storeHarness();
    await h.client.refreshAuth(); // a token is known, as after a first connect
    expect(h.client.csrfToken).toBe('tok-1');
    h.client.refreshAuth = () => Promise.resolve(void refreshed++);
    h.fetch.respond(() =>
      h.fetch.calls.length === 1 ? { status: 403 } : { status: 200, body: { ok: 1 } },
    );
    void h.store.start();
    await h.clock.advance(3000);
    expect(refreshed).toBe(1);
    expect(h.store.state).toEqual({ ok: 1 });
  });

  it('notices a silent push channel within livenessMs and recovers', async () => {
    const h = storeHarness({ timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 2 });
    h.fetch.respond(() => ({ status: 200, body: { v: 3 } })); // the server moved on
    const before = h.requests().length;
    await h.clock.advance(10_000);
    expect(h.fetch.calls).toHaveLength(1); // exactly one audit poll
    expect(h.requests()).toHaveLength(before + 1); // re-handshake
    expect(h.store.mode).toBe('HANDSHAKE_PENDING');
  });

  it('a healthy channel costs no extra request', async () => {
    const h = storeHarness({ timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 2 });
    for (let seq = 3; seq < 13; seq++) {
      await h.clock.advance(5_000);
      await h.push(seq, { v: seq });
    }
    expect(h.fetch.calls).toHaveLength(0);
  });

  it('a reducer that throws leaves the state unchanged, resyncs, and fails on a repeat', async () => {
    let bomb = false;
    const h = storeHarness({
      reduce: (_s, snap) => {
        if (bomb) throw new Error('bad snapshot');
        return snap as Record<string, unknown>;
      },
    });
    await h.healthy({ v: 2 });
    bomb = true;
    await h.push(3, { v: 3 });
    expect(h.store.state).toEqual({ v: 2 });
    expect(h.errors.some((e) => e.code === 'REDUCE_ERROR')).toBe(true);
    await h.ack();
    await h.push(2, { v: 'full' });
    expect(h.store.mode).toBe('FAILED');
    expect(h.store.health.lastError?.code).toBe('REDUCE_ERROR');
  });
});

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

describe('sync store: never stuck, never a zombie', () => {
  /** A store DEGRADED on polling (no connection within the grace period). */
  const degraded = async (h: ReturnType<typeof storeHarness>) => {
    void h.store.start();
    await h.clock.advance(2000);
    expect(h.store.mode).toBe('DEGRADED');
  };

  it('a DEGRADED store whose recovery connection drops between the ack and the first push goes on polling', async () => {
    const h = storeHarness();
    await degraded(h);
    await h.connect();
    await h.ack(); // the recovery period opens: polling pauses for its first push
    const polls = h.fetch.calls.length;
    h.socket().drop('transport close');
    await h.clock.advance(1000);
    expect(h.store.mode).toBe('DEGRADED');
    expect(h.fetch.calls.length).toBeGreaterThan(polls);
  });

  it('takes the handshake ack in wire order: a first push delivered with it in one batch counts', async () => {
    // Long-polling carries several packets per response: the ack and the period's first push
    // are handled in one go, before any promise callback. Taken after the push, the ack made
    // the push look like an older period's, and an idle server then never made it HEALTHY.
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.store.resync('model');
    await flush();
    const req = h.requests().at(-1);
    const cid = (req?.payload as { correlationId: string }).correlationId;
    req?.ack?.({
      correlationId: cid,
      results: [{ handlerId: 'h', ok: true, data: { runtime_epoch: 'E1', seq_base: 1 } }],
    });
    h.socket().serverEmit(
      'state_push',
      envelope({ runtime_epoch: 'E1', seq: 2, snapshot: { v: 2 } }),
    );
    await flush();
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ v: 2 });
  });

  it('recovers from DEGRADED when its handshakes take longer than a poll cycle', async () => {
    // Polls land while the handshake is in flight; resuming again would meet the same race
    // every time, so the second handshake asks for a full snapshot, which polls cannot outdate.
    const h = storeHarness({ timing: { pollIntervalMs: 250 } });
    h.fetch.respond(() => ({ status: 200, body: { v: 'polled' } }));
    await degraded(h);
    await h.connect();
    await h.clock.advance(1000); // several polls applied meanwhile
    await h.ack();
    expect(h.store.mode).toBe('DEGRADED');
    const [first, second] = h
      .requests()
      .slice(-2)
      .map((r) => r.payload as { data: { log_from: number } });
    expect(first && second).toBeTruthy();
    await h.clock.advance(1000);
    await h.ack();
    await h.push(2, { v: 'pushed' });
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ v: 'pushed' });
  });

  it('restarted after its connection dropped while stopped, it sends no handshake that outlives the next connect', async () => {
    // It did not hear the drop while stopped. A handshake queued for the old connection went out
    // after the new one's on reconnect; the server then pushed that stale period for ever.
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.store.stop();
    h.socket().drop('transport close');
    void h.store.start();
    await flush();
    expect(h.store.mode).toBe('DISCONNECTED');
    const before = h.requests().length;
    await h.connect();
    await flush();
    expect(h.requests()).toHaveLength(before + 1);
  });

  it('counts only applied pushes as proof that the push channel lives', async () => {
    // Pushes that are all dropped (another period's, stale ones) prove nothing: the audit runs.
    const h = storeHarness({ timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 1 });
    h.fetch.respond(() => ({ status: 200, body: { v: 'moved on' } }));
    for (let i = 0; i < 4; i++) {
      await h.clock.advance(2_500);
      await h.push(2, { v: 'stale' });
    }
    expect(h.fetch.calls).toHaveLength(1); // the audit poll
    expect(h.store.mode).toBe('HANDSHAKE_PENDING');
  });

  it('after the Manager gave up reconnecting, a successful poll makes the client connect again and the store recovers', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.socket().drop('transport close');
    h.socket().giveUp(); // socketOptions.reconnectionAttempts reached
    const attempts = h.socket().connectCalls;
    await h.clock.advance(3000); // grace, then polls; the first one answered says the server is back
    expect(h.store.mode).toBe('DEGRADED');
    expect(h.socket().connectCalls).toBeGreaterThan(attempts);
    await h.connect();
    await h.ack();
    await h.push(2, { v: 2 });
    expect(h.store.mode).toBe('HEALTHY');
  });

  it('a token refresh that never settles costs the poll one deadline, and the poll still goes out', async () => {
    const h = storeHarness(
      { timing: { handshakeTimeoutMs: 1000 } },
      { auth: () => new Promise(() => {}) },
    );
    await degraded(h);
    expect(h.fetch.calls).toHaveLength(0);
    await h.clock.advance(5000); // the poll deadline: max(5 × handshakeTimeoutMs, 5000)
    expect(h.fetch.calls.length).toBeGreaterThan(0);
  });

  it('an auth that answers without a csrf_token is asked once, not before every poll', async () => {
    let asked = 0;
    const h = storeHarness({}, { auth: () => (asked++, {}) });
    await degraded(h);
    await h.clock.advance(300); // the first poll has refreshed auth once
    const before = asked;
    expect(before).toBeLessThanOrEqual(2); // before the socket opened, and before the first poll
    await h.clock.advance(5000);
    expect(h.fetch.calls.length).toBeGreaterThan(5);
    expect(asked).toBe(before);
  });

  it('a poll that fails because its token refresh failed is POLL_FAILED, with the cause kept', async () => {
    let refresh = false;
    const h = storeHarness({}, { auth: () => (refresh ? (null as never) : { csrf_token: 't' }) });
    h.fetch.respond(() => ({ status: 403 }));
    await h.client.refreshAuth();
    refresh = true; // the refresh after the 403 gives no object: a VALIDATION_ERROR
    await degraded(h);
    await h.clock.advance(100);
    expect(h.store.health.lastError?.code).toBe('POLL_FAILED');
    const err = h.errors.find((e) => e.code === 'POLL_FAILED');
    expect(err?.details).toEqual({ code: 'VALIDATION_ERROR' });
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('VALIDATION_ERROR');
  });

  it("a poll answered by another server runtime is an epoch change: the old cursors' answer is dropped, the full state applied, health.epoch named after it", async () => {
    // The runtime id comes with every token answer; after a restart the old token gets 403.
    let runtime = 'R1';
    const token = () =>
      Promise.resolve(
        new Response(JSON.stringify({ ok: true, token: `tok-${runtime}`, runtime_id: runtime })),
      );
    const h = storeHarness({ pollUrl: '/poll' }, { auth: undefined, fetch: token });
    h.fetch.respond((call) =>
      call.headers['X-CSRF-Token'] !== `tok-${runtime}`
        ? { status: 403 }
        : {
            status: 200,
            body: { from: runtime, full: (call.body as { log_from: number }).log_from === 0 },
          },
    );
    void h.store.start();
    await h.clock.advance(2300); // no socket: polling, with a token of R1
    expect(h.store.health.epoch).toBe('R1');
    runtime = 'R2'; // a restart: new runtime, old tokens refused
    const before = h.fetch.calls.length;
    await h.clock.advance(300);
    expect(h.fetch.calls.length).toBeGreaterThan(before);
    expect(h.store.state).toMatchObject({ from: 'R2' });
    expect(h.store.health.epoch).toBe('R2');
    expect(h.store.health.counters.resyncs).toBe(1);
  });

  it('a poll answer is labelled with the runtime whose token its POST carried, not one learned while it was in flight', async () => {
    let runtime = 'R1';
    const polls: { resolve: (r: Response) => void; token: string }[] = [];
    const fetch = (url: string, init?: RequestInit) => {
      if (url.endsWith('/csrf_token'))
        return Promise.resolve(
          new Response(JSON.stringify({ ok: true, token: `tok-${runtime}`, runtime_id: runtime })),
        );
      const token = (init?.headers as Record<string, string>)['X-CSRF-Token'] ?? '';
      return new Promise<Response>((resolve) => polls.push({ resolve, token }));
    };
    const h = storeHarness({ fetch }, { auth: undefined, fetch });
    void h.store.start();
    await h.clock.advance(2100); // no socket: the first poll goes out with R1's token
    expect(polls).toHaveLength(1);
    runtime = 'R2';
    await h.client.refreshAuth(); // the client learns of R2 meanwhile
    expect(h.client.runtimeId).toBe('R2');
    polls[0]?.resolve(new Response(JSON.stringify({ from: 'R1' })));
    await flush();
    expect(h.store.state).toEqual({ from: 'R1' });
    expect(h.store.health.epoch).toBe('R1');
  });

  it("health.epoch names the state shown: a new period's epoch only once its first snapshot is applied", async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 }); // E1
    h.store.resync('model');
    await flush();
    await h.ack('E2'); // the server restarted meanwhile: a new epoch, its first push still to come
    expect(h.store.state).toEqual({ v: 1 });
    expect(h.store.health.epoch).toBe('E1');
    await h.push(2, { v: 2 }, 'E2');
    expect(h.store.health.epoch).toBe('E2');
  });

  it('a store stopped and started again resumes from the state it kept, epoch included', async () => {
    const h = storeHarness();
    await h.healthy({ v: 1 });
    h.store.stop();
    void h.store.start();
    await flush();
    expect(h.store.health.epoch).toBe('E1');
    const req = h.requests().at(-1)?.payload as { data: unknown };
    expect(req).toBeDefined(); // a resume on the live connection, not a wait for a new one
  });

  it('health.staleMs never goes below 0 when the wall clock is set back', async () => {
    const fake = createFakeClock();
    let shift = 0;
    const clock = {
      now: () => fake.now() + shift,
      setTimeout: fake.setTimeout,
      clearTimeout: fake.clearTimeout,
    };
    const h = storeHarness({}, { clock });
    h.fetch.respond(() => ({ status: 200, body: { v: 1 } }));
    void h.store.start();
    await fake.advance(2500);
    expect(h.store.mode).toBe('DEGRADED');
    shift = -600_000; // NTP sets the clock ten minutes back
    expect(h.store.health.staleMs).toBe(0);
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
