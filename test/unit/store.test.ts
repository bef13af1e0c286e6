// The sync store on fakes: the handshake, pushes and their order, and failures. Its lifecycle
// (stop, start, the cache) is in store-lifecycle.test.ts, its recovery from a slow, silent or
// missing push channel in store-recovery.test.ts.
import { describe, expect, it } from 'vitest';
import { persistence } from '../../src/persist';
import { flush } from '../helpers/fake-clock';
import {
  type Log,
  logModel,
  logPayload,
  logReduce,
  mapStorage,
  storeHarness,
} from '../helpers/store-harness';

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

  it('drops a push whose envelope is malformed, reporting it once with the field', async () => {
    const h = storeHarness();
    await h.healthy({ v: 2 });
    const good = {
      handlerId: 'h',
      eventId: 'e',
      correlationId: 'c',
      ts: '2026-11-23T00:00:00.000Z',
      data: { runtime_epoch: 'E1', seq: 3, snapshot: { v: 3 } },
    };
    h.socket().serverEmit('state_push', { ...good, ts: 'yesterday' });
    h.socket().serverEmit('state_push', 'garbage');
    await flush();
    expect(h.store.state).toEqual({ v: 2 });
    expect(h.errors.map((e) => e.code)).toEqual(['INVALID_ENVELOPE', 'INVALID_ENVELOPE']);
    expect(h.errors[0]?.message).toContain("'ts'");
    expect(h.store.health.counters.pushesDropped).toBe(2);
    // The next good push is still the next in order: nothing was lost.
    h.socket().serverEmit('state_push', good);
    await flush();
    expect(h.store.state).toEqual({ v: 3 });
  });
});

describe('sync store: failures', () => {
  it('tells subscribers of a health change without a state or mode change: one coalesced health event', async () => {
    const h = storeHarness();
    h.fetch.respond(() => ({ status: 500 }));
    const heard: string[] = [];
    h.store.subscribe((e) => heard.push(e.type === 'mode' ? `mode ${e.to}` : e.type));
    void h.store.start();
    await flush();
    await h.connect();
    await h.clock.advance(2000); // no ack: DEGRADED, and its first poll fails
    expect(h.store.mode).toBe('DEGRADED');
    heard.length = 0;
    const before = h.store.health;
    // More failed polls: counters and the last error move, the mode and the state stay.
    await h.clock.advance(3000);
    expect(h.store.health.counters.polls).toBeGreaterThan(before.counters.polls);
    expect(h.store.health.lastError?.code).toBe('POLL_FAILED');
    expect(heard.length).toBeGreaterThan(0);
    expect(new Set(heard)).toEqual(new Set(['health']));
    // Coalesced: never more than one per notifyIntervalMs (16 ms) of the 3 s.
    expect(heard.length).toBeLessThanOrEqual(3000 / 16);
    // Nothing after stop(): no event and no timer of the store left.
    h.store.stop();
    heard.length = 0;
    await h.clock.advance(10_000);
    expect(heard).toEqual([]);
  });

  it('an in-order push is a state event only, never a health event too', async () => {
    const h = storeHarness();
    await h.healthy({ v: 2 });
    const heard: string[] = [];
    h.store.subscribe((e) => heard.push(e.type));
    for (let seq = 3; seq < 8; seq++) await h.push(seq, { v: seq });
    await h.clock.advance(100);
    expect(new Set(heard)).toEqual(new Set(['state']));
  });

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

  it('treats an ok:true item carrying { code, message } as the error it is (PROTOCOL.md, anchor bug B)', async () => {
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

  it('store.timing is the timing it runs on: the option over the defaults, clamped, frozen', () => {
    const h = storeHarness({ timing: { livenessMs: 1234, connectGraceMs: 9000 } });
    expect(h.store.timing).toEqual({
      handshakeTimeoutMs: 2000,
      pollIntervalMs: 250,
      connectGraceMs: 3000,
      livenessMs: 1234,
      backoffBaseMs: 500,
      backoffMaxMs: 5000,
      pollBackoffMaxMs: 5000,
      notifyIntervalMs: 16,
    });
    expect(Object.isFrozen(h.store.timing)).toBe(true);
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

  it('notices silence livenessMs after the last push, wherever in a window it came', async () => {
    const h = storeHarness({ timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 2 });
    // The last push lands late in the first window: the audit waits a window from it, no more.
    await h.clock.advance(9_000);
    await h.push(3, { v: 3 });
    h.fetch.respond(() => ({ status: 200, body: { v: 4 } })); // the server moved on, silently
    await h.clock.advance(9_999);
    expect(h.fetch.calls).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.fetch.calls).toHaveLength(1); // the audit, livenessMs after push 3
    expect(h.store.mode).toBe('HANDSHAKE_PENDING');
    expect(h.store.health.lastError?.code).toBe('TIMEOUT');
  });

  it('an audit that finds the state unchanged restarts the window from its answer', async () => {
    const h = storeHarness({ timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 2 });
    h.fetch.respond(() => ({ status: 200, body: { v: 2 } })); // nothing to push: quiet, not silent
    await h.clock.advance(10_000);
    expect(h.fetch.calls).toHaveLength(1);
    expect(h.store.mode).toBe('HEALTHY');
    await h.clock.advance(9_999);
    expect(h.fetch.calls).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.fetch.calls).toHaveLength(2);
    expect(h.store.mode).toBe('HEALTHY');
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

describe('sync store: held pushes replayed on the ack', () => {
  it('a held push whose reduce throws is not skipped over by the next held push', async () => {
    const h = storeHarness<Log>(logModel());
    const states: number[][] = [];
    h.store.subscribe((e) => e.type === 'state' && states.push(e.state.items));
    void h.store.start();
    await flush();
    await h.connect();
    // The period's pushes arrive before its ack (PROTOCOL.md, anchor bug J); the second cannot be reduced.
    await h.push(2, { items: [1], cursor: 1 });
    await h.push(3, { items: [2], cursor: 2, bad: true });
    await h.push(4, { items: [3], cursor: 3 });
    await h.ack();
    await h.clock.advance(100); // the resync handshake asked for by the REDUCE_ERROR has not been answered yet
    expect(h.errors.some((e) => e.code === 'REDUCE_ERROR')).toBe(true);
    // "The state is left as it was": [1]. Applying push 4 over the gap would show (and cache)
    // [1, 3], a state the server never had, whose cursor (3) claims item 2 was received.
    expect(h.store.state.items).toEqual([1]);
    expect(states).not.toContainEqual([1, 3]);
  });
});

describe('sync store: an epoch change learnt from a resume ack', () => {
  it("a poll built from the old epoch's cursors and answered after the ack is not applied, nor cached under the new epoch", async () => {
    const storage = mapStorage();
    storage.data.set('syncwire:state', {
      format: 1,
      version: 1,
      epoch: 'E1',
      savedAt: 0,
      state: { items: [1, 2], cursor: 2 },
    });
    // A /poll whose answers the test releases by hand.
    const polls: { body: { log_from: number }; answer: (b: object) => void }[] = [];
    const fetch = (_url: string, init?: RequestInit) =>
      new Promise<Response>((resolve) =>
        polls.push({
          body: JSON.parse(init?.body as string),
          answer: (b) => resolve(new Response(JSON.stringify(b), { status: 200 })),
        }),
      );
    const h = storeHarness<Log>({
      ...logModel(),
      fetch,
      persist: persistence({ storage, throttleMs: 10 }),
    });
    void h.store.start();
    await flush();
    expect(h.store.state.items).toEqual([1, 2]); // warm start, epoch E1
    await h.clock.advance(2000); // no connection within the grace period: DEGRADED, a poll resuming from cursor 2
    expect(h.store.mode).toBe('DEGRADED');
    expect(polls).toHaveLength(1);
    expect(polls[0]?.body.log_from).toBe(2);
    await h.connect(); // the resume handshake (cursor 2)
    await h.ack('E2'); // another server process: cursor 2 means nothing there; the store asks again in full
    expect(h.requests()).toHaveLength(2);
    // The old poll now lands: E2's items after *its* position 2, which the page never had.
    polls[0]?.answer({ items: [99], cursor: 7 });
    await flush();
    await h.clock.advance(20);
    const saved = storage.data.get('syncwire:state') as { epoch: string; state: Log };
    expect(h.store.state.items).not.toEqual([1, 2, 99]); // not applied as a delta onto E1's state
    expect(saved).not.toMatchObject({ epoch: 'E2', state: { items: [1, 2, 99] } }); // nor cached as E2's state, which the next warm start would trust
  });
});
