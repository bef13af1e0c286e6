// state_request / state_push on /state_sync: validation, handshake, gating, seq,
// the 25 ms throttle and cursor advance.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StateSync } from '../../demo/server/state-sync.mjs';
import { SNAPSHOT_KEYS, World } from '../../demo/server/world.mjs';
import {
  Harness,
  PushLog,
  STATE_REQUEST,
  expectEnvelope,
  request,
  syncedSocket,
  type PushData,
  type ReferenceServer,
} from './helpers';

const h = new Harness();
let server: ReferenceServer;

beforeEach(async () => {
  server = await h.start();
});
afterEach(() => h.cleanup());

const chatId = () => [...server.world.chats.keys()][0]!;

describe('state_request validation', () => {
  it.each([
    [{ ...STATE_REQUEST, context: 5 }, 'context must be a string or null'],
    [{ ...STATE_REQUEST, log_from: -1 }, 'log_from must be an integer >= 0'],
    [{ ...STATE_REQUEST, log_from: 1.5 }, 'log_from must be an integer >= 0'],
    [{ ...STATE_REQUEST, log_from: '3' }, 'log_from must be an integer >= 0'],
    [{ context: null, log_from: 0, timezone: 'UTC' }, 'notifications_from must be an integer >= 0'],
    [{ ...STATE_REQUEST, timezone: '' }, 'timezone must be a non-empty string'],
    [{ ...STATE_REQUEST, timezone: 'Mars/Olympus' }, 'timezone must be a valid IANA timezone name'],
  ])('%j → INVALID_REQUEST', async (data, message) => {
    const socket = await h.connect(server, '/state_sync');
    const ack = await request(socket, 'state_request', data, 'bad-1');
    expect(ack).toEqual({
      correlationId: 'bad-1',
      results: [
        {
          handlerId: 'syncwire.reference.StateSyncHandler',
          ok: false,
          correlationId: 'bad-1',
          error: { code: 'INVALID_REQUEST', error: message },
        },
      ],
    });
  });
});

describe('handshake and pushes', () => {
  it('acks with runtime_epoch and seq_base 1, then pushes seq 2 on the same correlationId', async () => {
    const socket = await h.connect(server, '/state_sync');
    const pushes = new PushLog(socket);
    const ack = await request(
      socket,
      'state_request',
      { ...STATE_REQUEST, context: chatId(), timezone: 'Europe/Berlin' },
      'hs-1',
    );
    expect(ack).toEqual({
      correlationId: 'hs-1',
      results: [
        {
          handlerId: 'syncwire.reference.StateSyncHandler',
          ok: true,
          correlationId: 'hs-1',
          data: { runtime_epoch: server.runtime.id, seq_base: 1, push_correlation: true },
        },
      ],
    });
    const first = await pushes.next();
    expectEnvelope(first);
    expect(first.handlerId).toBe('syncwire.reference.StateSyncHandler');
    expect(first.correlationId).toBe('hs-1');
    expect(Object.keys(first.data).sort()).toEqual(['runtime_epoch', 'seq', 'snapshot']);
    expect(first.data).toMatchObject({ runtime_epoch: server.runtime.id, seq: 2 });
    expect(Object.keys(first.data.snapshot).sort()).toEqual([...SNAPSHOT_KEYS].sort());
    expect(first.data.snapshot.context).toBe(chatId());
    expect(first.data.snapshot.logs.length).toBeGreaterThan(0);
    expect(server.stats.stateRequests).toBe(1);
  });

  it('pushes nothing before a successful state_request (gating)', async () => {
    // A witness, synced: it is pushed every change, so it shows when a push would have gone out.
    const witness = await syncedSocket(h, server, STATE_REQUEST);
    const witnessSees = async (message: string) => {
      while (!witness.pushes.pushes.some((p) => JSON.stringify(p.data.snapshot).includes(message)))
        await witness.pushes.next();
    };
    const socket = await h.connect(server, '/state_sync');
    const pushes = new PushLog(socket);
    server.world.notify('nobody is listening yet');
    await witnessSees('nobody is listening yet');
    await request(socket, 'state_request', { ...STATE_REQUEST, log_from: -1 }); // invalid: still gated
    server.world.notify('still nobody');
    await witnessSees('still nobody');
    // A round trip on the gated socket: whatever the server sent it before the ack has arrived.
    await request(socket, 'state_request', { ...STATE_REQUEST, log_from: -1 });
    expect(pushes.pushes).toHaveLength(0);
  });

  it('increments seq by one per push and advances the cursors (deltas only)', async () => {
    const ctx = chatId();
    const { pushes, first } = await syncedSocket(h, server, { ...STATE_REQUEST, context: ctx });
    const initialLogs = first.data.snapshot.logs.length;
    expect(initialLogs).toBe(first.data.snapshot.log_version);

    const no = server.world.appendLog(ctx, { heading: 'new', content: 'line' });
    const second = await pushes.next();
    expect(second.data.seq).toBe(3);
    expect(second.data.snapshot.logs.map((l) => l.no)).toEqual([no]);
    expect(second.data.snapshot.log_version).toBe(initialLogs + 1);
    expect(second.data.snapshot.contexts.length).toBe(server.world.chats.size); // lists are always full

    server.world.updateLog(ctx, 0, { content: 'edited' });
    server.world.notify('ping');
    const third = await pushes.next();
    expect(third.data.seq).toBe(4);
    expect(third.data.snapshot.logs).toEqual([
      expect.objectContaining({ no: 0, content: 'edited' }),
    ]);
    expect(third.data.snapshot.notifications.map((n) => n.message)).toEqual(['ping']);
  });

  it('coalesces a synchronous burst into one push', async () => {
    const ctx = chatId();
    const { pushes, first } = await syncedSocket(h, server, { ...STATE_REQUEST, context: ctx });
    for (let i = 0; i < 20; i += 1) server.world.appendLog(ctx, { content: `burst ${i}` });
    const burst = await pushes.next();
    expect(burst.data.seq).toBe(first.data.seq + 1);
    expect(burst.data.snapshot.logs).toHaveLength(20);
    // The next change comes as seq + 1 with only itself: nothing else was pushed in between.
    const no = server.world.appendLog(ctx, { content: 'sentinel' });
    const after = await pushes.next();
    expect(after.data.seq).toBe(burst.data.seq + 1);
    expect(after.data.snapshot.logs.map((l) => l.no)).toEqual([no]);
  });

  it('a new state_request resets seq to 1 and replaces the request', async () => {
    const [a, b] = [...server.world.chats.keys()] as [string, string];
    const { socket, pushes } = await syncedSocket(h, server, { ...STATE_REQUEST, context: a });
    server.world.notify('x');
    expect((await pushes.next()).data.seq).toBe(3);
    const ack = await request(socket, 'state_request', { ...STATE_REQUEST, context: b }, 'hs-2');
    expect(ack.results[0]).toMatchObject({ ok: true, data: { seq_base: 1 } });
    const again = await pushes.next();
    expect(again.data.seq).toBe(2);
    expect(again.correlationId).toBe('hs-2');
    expect(again.data.snapshot.context).toBe(b);
    expect(again.data.snapshot.logs.length).toBe(server.world.chats.get(b)?.log.items.length);
  });

  it('drops the projection on disconnect', async () => {
    const { socket } = await syncedSocket(h, server);
    expect(server.stateSync.projections.size).toBe(1);
    const sid = socket.id as string;
    const gone = new Promise<void>((resolve) =>
      server.io
        .of('/state_sync')
        .sockets.get(sid)
        ?.once('disconnect', () => resolve()),
    );
    socket.disconnect();
    await gone;
    expect(server.stateSync.projections.size).toBe(0);
  });

  it('reports a reset chat (new log_guid, log_version back to 0) and a removed chat (deselect_chat)', async () => {
    const ctx = chatId();
    const { pushes, first } = await syncedSocket(h, server, { ...STATE_REQUEST, context: ctx });
    server.world.resetChat(ctx);
    const reset = await pushes.next();
    expect(reset.data.snapshot.log_guid).not.toBe(first.data.snapshot.log_guid);
    expect(reset.data.snapshot.log_version).toBe(0);
    server.world.removeChat(ctx);
    const removed = await pushes.next();
    expect(removed.data.snapshot).toMatchObject({ deselect_chat: true, context: '' });
  });

  it('with no context: empty logs, empty guid, progress 0', async () => {
    const { first } = await syncedSocket(h, server);
    expect(first.data.snapshot).toMatchObject({
      context: '',
      logs: [],
      log_guid: '',
      log_version: 0,
      log_progress: 0,
      log_progress_active: false,
      paused: false,
      deselect_chat: false,
    });
    expect(first.data.snapshot.notifications.length).toBe(
      first.data.snapshot.notifications_version,
    );
  });

  it('carries progress and paused for the active chat', async () => {
    const ctx = chatId();
    const { pushes } = await syncedSocket(h, server, { ...STATE_REQUEST, context: ctx });
    server.world.setProgress(ctx, 'Thinking...', true);
    server.world.setPaused(ctx, true);
    const p = await pushes.next();
    expect(p.data.snapshot).toMatchObject({
      log_progress: 'Thinking...',
      log_progress_active: true,
      paused: true,
    });
    expect(p.data.snapshot.contexts.find((c) => c.id === ctx)).toMatchObject({
      running: true,
      paused: true,
    });
  });
});

// The throttle on fake timers (the reference server uses the global setTimeout, so the state
// sync runs in-process here, on a World of its own): no real time in the assertions.
describe('the push throttle', () => {
  afterEach(() => vi.useRealTimers());

  it('throttles without postponing: a burst over 100 ms yields several pushes, the first ~25 ms in', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const world = new World();
    const pushes: { at: number; data: PushData }[] = [];
    const manager = {
      register: () => {},
      socket: () => ({
        emit: (_event: string, env: { data: PushData }) =>
          void pushes.push({ at: Date.now(), data: env.data }),
      }),
    };
    const sync = new StateSync({
      manager: manager as never,
      world,
      runtime: { id: 'E1' },
      stats: { stateRequests: 0, fullStateRequests: 0 } as never,
      pushThrottleMs: 25,
    });
    const ctx = [...world.chats.keys()][0]!;
    void sync.handshake('sid-1', 'c-1', { ...STATE_REQUEST, context: ctx });
    vi.advanceTimersByTime(25); // the initial snapshot
    const already = pushes.length;
    expect(already).toBe(1);
    const t0 = Date.now();
    for (let i = 0; i < 10; i += 1) {
      world.appendLog(ctx, { content: `spread ${i}` });
      vi.advanceTimersByTime(10);
    }
    const lastNo = world.appendLog(ctx, { content: 'last' });
    // Until the push carrying the last change has gone out.
    while (!pushes.some((p) => p.data.snapshot.logs.some((l) => l.no === lastNo)))
      vi.advanceTimersByTime(1);
    sync.unsubscribe();
    sync.dropAllProjections();
    const burst = pushes.slice(already).map((p) => p.data);
    const firstDelay = (pushes[already] as (typeof pushes)[0]).at - t0;
    const elapsed = (pushes.at(-1) as (typeof pushes)[0]).at - t0;
    expect(firstDelay).toBeGreaterThanOrEqual(20);
    expect(firstDelay).toBeLessThan(95); // a debounce would wait for the burst to end (>= 125 ms)
    expect(burst.length).toBeGreaterThanOrEqual(3); // several pushes during the burst, not one at the end
    expect(burst.length).toBeLessThanOrEqual(Math.floor(elapsed / 25) + 1); // but never more than one per 25 ms
    expect(burst.map((p) => p.seq)).toEqual(burst.map((_, i) => (burst[0] as PushData).seq + i));
    expect(burst.flatMap((p) => p.snapshot.logs).length).toBe(11); // every change exactly once
  });
});
