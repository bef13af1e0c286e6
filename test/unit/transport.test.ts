// The background WebSocket probe, the move back to WebSocket and the transport memo, through
// the client's public API with a fake socket, a fake transport and a fake clock.
import { describe, expect, it } from 'vitest';
import {
  createNamespacedClient,
  type ClientOptions,
  type MemoStorage,
  type SyncwireError,
} from '../../src/index';
import { createFakeClock, flush, recordingClock } from '../helpers/fake-clock';
import { fakeSocketFactory, type FakeSocket, type FakeTransport } from '../helpers/fake-socket';
import { codeOf } from '../helpers/client-harness';

/** A Web Storage stand-in over a Map, recording what the client did with it. */
function mapStorage(): MemoStorage & { data: Map<string, string>; ops: string[] } {
  const data = new Map<string, string>();
  const ops: string[] = [];
  return {
    data,
    ops,
    getItem(k) {
      ops.push(`get ${k}`);
      return data.get(k) ?? null;
    },
    setItem(k, v) {
      ops.push(`set ${k}`);
      data.set(k, v);
    },
    removeItem(k) {
      ops.push(`remove ${k}`);
      data.delete(k);
    },
  };
}

function setup(extra: ClientOptions = {}, clock = recordingClock(createFakeClock())) {
  const factory = fakeSocketFactory({ transport: true });
  const storage = mapStorage();
  const errors: SyncwireError[] = [];
  const make = (more: ClientOptions = {}) => {
    const client = createNamespacedClient('/test', {
      url: 'http://127.0.0.1:1',
      auth: { csrf_token: 't' },
      clock,
      random: () => 0.5,
      socketFactory: factory,
      logger: { warn: false },
      transportMemo: { storage },
      ...extra,
      ...more,
    });
    client.onError((e) => errors.push(e));
    return client;
  };
  const client = make();
  const socket = () => factory.last();
  const transport = () => factory.last().transport as FakeTransport;
  /** The server accepts the pending connect (on whatever transport the network allows). */
  const accept = async (s: FakeSocket = socket()) => {
    await s.runAuth();
    s.accept();
    await flush();
  };
  /** A client connected on long-polling: WebSocket was tried first and refused. */
  const onPolling = async () => {
    const connected = client.connect();
    transport().wsBlocked = true;
    await accept();
    await connected;
    expect(client.transport.name).toBe('polling');
  };
  return { clock, factory, storage, errors, client, make, socket, transport, accept, onPolling };
}

describe('background WebSocket probe', () => {
  it('probes after base/2..base (equal jitter), then backs off by doubling up to maxMs', async () => {
    const h = setup({ websocketProbe: { baseMs: 1000, maxMs: 3000 } });
    await h.onPolling();
    expect(h.transport().probes).toHaveLength(0);
    await h.clock.advance(749); // random 0.5: 500 + 250
    expect(h.transport().probes).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.transport().open()).toHaveLength(1);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = h.clock.delays.length;
      h.transport().answer(false);
      await flush();
      delays.push(...h.clock.delays.slice(before).filter((d) => d !== 10000)); // not the deadline
      await h.clock.advance(delays.at(-1) as number);
      expect(h.transport().open()).toHaveLength(1);
    }
    expect(delays).toEqual([1500, 2250, 2250, 2250]); // caps 2000, 3000, 3000, 3000
    expect(h.client.transport.probes).toBe(5);
    expect(h.client.transport.moves).toBe(0);
  });

  it('a probe that opens moves the connection back to WebSocket at once when no call is in flight', async () => {
    const h = setup();
    await h.onPolling();
    await h.clock.advance(750);
    h.transport().wsBlocked = false;
    const disconnects = [] as string[];
    h.client.onDisconnect((r) => disconnects.push(r));
    h.transport().answer(true);
    expect(h.transport().order[0]).toBe('websocket');
    expect(h.socket().connected).toBe(true); // its own turn, not inside the probe's answer
    await h.clock.advance(0);
    expect(disconnects).toEqual(['io client disconnect']);
    expect(h.socket().connectCalls).toBe(2);
    await h.accept();
    expect(h.client.transport).toMatchObject({ name: 'websocket', probes: 1, moves: 1 });
    // On WebSocket: nothing more to probe.
    await h.clock.advance(60000);
    expect(h.transport().probes).toHaveLength(1);
    expect(h.clock.pending()).toBe(0);
  });

  it('waits for every call in flight (the store handshake is one) and loses none of them', async () => {
    const h = setup();
    await h.onPolling();
    const first = h.client.request('probe', {});
    const second = h.client.emit('note', {});
    await h.clock.advance(750);
    h.transport().wsBlocked = false;
    h.transport().answer(true);
    await h.clock.advance(5000);
    expect(h.socket().connectCalls).toBe(1); // not moved: two calls in flight
    const [req, emit] = h.socket().sent;
    req?.ack?.({
      correlationId: (req.payload as { correlationId: string }).correlationId,
      results: [],
    });
    await h.clock.advance(5000);
    expect(h.socket().connectCalls).toBe(1); // one still in flight
    emit?.ack?.({});
    expect(await codeOf(first)).toBe('resolved');
    expect(await codeOf(second)).toBe('resolved');
    await h.clock.advance(0);
    expect(h.socket().connectCalls).toBe(2);
    await h.accept();
    expect(h.client.transport.name).toBe('websocket');
    expect(h.errors).toEqual([]);
  });

  it('a call made between the probe answer and the move postpones the move until it settles', async () => {
    const h = setup();
    await h.onPolling();
    await h.clock.advance(750);
    h.transport().answer(true);
    const late = h.client.request('probe', {}, { timeoutMs: 400 });
    await h.clock.advance(0);
    expect(h.socket().connectCalls).toBe(1);
    expect(await (h.clock.advance(400), codeOf(late))).toBe('TIMEOUT');
    await h.clock.advance(0);
    expect(h.socket().connectCalls).toBe(2);
  });

  it('a server request being answered postpones the move until its answer is sent', async () => {
    const h = setup();
    await h.onPolling();
    let finish = (_v: object) => {};
    h.client.on('question', () => new Promise<object>((resolve) => (finish = resolve)));
    const acks: unknown[] = [];
    h.socket().serverEmit(
      'question',
      {
        handlerId: 'h',
        eventId: 'e',
        correlationId: 'srv-1',
        ts: '2026-12-06T00:00:00.000Z',
        data: {},
      },
      (a: unknown) => acks.push(a),
    );
    await h.clock.advance(750);
    h.transport().answer(true);
    await h.clock.advance(5000);
    expect(h.socket().connectCalls).toBe(1); // the answer would be lost with the connection
    finish({ answer: 42 });
    await flush();
    expect(acks).toEqual([
      { correlationId: 'srv-1', results: [{ ok: true, data: { answer: 42 } }] },
    ]);
    await h.clock.advance(0);
    expect(h.socket().connectCalls).toBe(2);
  });

  it('a probe that never opens is given up after timeoutMs, and counts as a failure', async () => {
    const h = setup({ websocketProbe: { baseMs: 1000, timeoutMs: 300 } });
    await h.onPolling();
    await h.clock.advance(750);
    const [hung] = h.transport().probes;
    await h.clock.advance(300);
    expect(hung?.cancelled).toBe(true);
    expect(h.transport().open()).toHaveLength(0);
    await h.clock.advance(1500); // attempt 1: 1000 + 500
    expect(h.transport().open()).toHaveLength(1);
    expect(h.client.transport.probes).toBe(2);
  });

  it('stops when the connection upgrades by itself, drops, is disconnected or disposed', async () => {
    const h = setup();
    await h.onPolling();
    await h.clock.advance(750);
    h.transport().upgrade('websocket');
    expect(h.transport().probes[0]?.cancelled).toBe(true);
    expect(h.client.transport.name).toBe('websocket');
    await h.clock.advance(60000);
    expect(h.transport().probes).toHaveLength(1);
    expect(h.clock.pending()).toBe(0);

    const d = setup();
    await d.onPolling();
    await d.clock.advance(750);
    d.socket().drop('transport close');
    expect(d.transport().probes[0]?.cancelled).toBe(true);
    expect(d.clock.pending()).toBe(0);

    const m = setup();
    await m.onPolling();
    await m.clock.advance(750);
    m.client.disconnect();
    expect(m.transport().probes[0]?.cancelled).toBe(true);
    expect(m.clock.pending()).toBe(0);

    const x = setup();
    await x.onPolling();
    await x.clock.advance(750);
    x.transport().answer(true); // a move is due
    x.client.dispose();
    await x.clock.advance(60000);
    expect(x.clock.pending()).toBe(0);
    expect(x.socket().listenerCount()).toBe(0);
    expect(x.socket().connectCalls).toBe(1);
  });

  it('never probes on WebSocket, with WebSocket not allowed, or with websocketProbe: false', async () => {
    const ws = setup();
    const c = ws.client.connect();
    await ws.accept();
    await c;
    expect(ws.client.transport.name).toBe('websocket');
    await ws.clock.advance(60000);
    expect(ws.transport().probes).toHaveLength(0);

    const pollOnly = setup({ socketOptions: { transports: ['polling'] } });
    const p = pollOnly.client.connect();
    await pollOnly.accept();
    await p;
    expect(pollOnly.client.transport.name).toBe('polling');
    await pollOnly.clock.advance(60000);
    expect(pollOnly.transport().probes).toHaveLength(0);

    const off = setup({ websocketProbe: false });
    await off.onPolling();
    await off.clock.advance(60000);
    expect(off.transport().probes).toHaveLength(0);
    expect(off.storage.data.size).toBe(1); // the memo still learns
  });

  it('a move that lands on long-polling again probes on, with the backoff kept (no reconnect loop)', async () => {
    const h = setup({ websocketProbe: { timeoutMs: 100000 } });
    await h.onPolling();
    for (let i = 0; i < 3; i++) {
      await h.clock.advance(60000);
      h.transport().answer(false);
    }
    await h.clock.advance(60000);
    h.transport().answer(true); // the 4th probe opens, but the network blocks the real connection again
    await h.clock.advance(0);
    expect(h.socket().connectCalls).toBe(2);
    const before = h.clock.delays.length;
    await h.accept();
    expect(h.client.transport.name).toBe('polling');
    expect(h.transport().order[0]).toBe('polling');
    // Attempt 3 again (cap 8000: 4000 + 2000), not attempt 0 (750): a reconnect every second
    // would be a loop.
    expect(h.clock.delays.slice(before)).toContain(6000);
    expect(h.clock.delays.slice(before)).not.toContain(750);
  });
});

describe('transport memo', () => {
  it('a WebSocket refused on connect is remembered; a client made within ttlMs starts on long-polling', async () => {
    const h = setup({ transportMemo: undefined });
    const storage = mapStorage();
    // No probe: a failing one would refresh the memo.
    const a = h.make({ transportMemo: { storage, ttlMs: 60000 }, websocketProbe: false });
    const connected = a.connect();
    h.transport().wsBlocked = true;
    await h.accept();
    await connected;
    expect([...storage.data.keys()]).toEqual(['syncwire:ws-blocked:http://127.0.0.1:1/socket.io']);
    expect(h.transport().order).toEqual(['polling', 'websocket']); // Socket.IO's reconnects too

    await h.clock.advance(59000);
    const b = h.make({ transportMemo: { storage, ttlMs: 60000 } });
    void b.connect().catch(() => {});
    expect(h.transport().order).toEqual(['polling', 'websocket']);
    // Another Engine.IO path is another memo.
    const other = h.make({ transportMemo: { storage }, socketOptions: { path: '/io' } });
    void other.connect().catch(() => {});
    expect(h.transport().order).toEqual(['websocket', 'polling']);

    await h.clock.advance(1000);
    const c = h.make({ transportMemo: { storage, ttlMs: 60000 } });
    void c.connect().catch(() => {});
    expect(h.transport().order).toEqual(['websocket', 'polling']); // expired
    for (const client of [a, b, c, other]) client.dispose();
  });

  it('a WebSocket that works (a connection, an upgrade, a probe) clears it', async () => {
    const h = setup();
    await h.onPolling();
    expect(h.storage.data.size).toBe(1);
    h.transport().upgrade('websocket');
    expect(h.storage.data.size).toBe(0);

    const p = setup();
    await p.onPolling();
    await p.clock.advance(750);
    p.transport().answer(true);
    expect(p.storage.data.size).toBe(0);

    const c = setup();
    c.storage.data.set('syncwire:ws-blocked:http://127.0.0.1:1/socket.io', '{"at":1}');
    const connected = c.client.connect();
    await c.accept();
    await connected;
    expect(c.client.transport.name).toBe('websocket');
    expect(c.storage.data.size).toBe(0);
  });

  it('starting on long-polling by the memo records nothing new; a failed probe refreshes it', async () => {
    const h = setup();
    h.storage.data.set(
      'syncwire:ws-blocked:http://127.0.0.1:1/socket.io',
      JSON.stringify({ at: h.clock.now() - 1000 }),
    );
    const b = h.make();
    const connected = b.connect();
    h.transport().wsBlocked = true;
    await h.accept();
    await connected;
    expect(h.transport().order[0]).toBe('polling');
    expect(h.storage.ops.filter((o) => o.startsWith('set'))).toEqual([]);
    await h.clock.advance(750);
    h.transport().answer(false);
    expect(JSON.parse(h.storage.data.values().next().value as string)).toEqual({
      at: h.clock.now(),
    });
    b.dispose();
  });

  it('bad storage (throws, full, garbage, an entry from the future) never breaks the client', async () => {
    const throwing: MemoStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('no');
      },
    };
    for (const [storage, stored] of [
      [throwing, undefined],
      [mapStorage(), '{not json'],
      [mapStorage(), '{"at":"yesterday"}'],
      [mapStorage(), 'null'],
      [mapStorage(), JSON.stringify({ at: 1_700_000_000_000 + 3_600_000 })], // clock set back
    ] as const) {
      const h = setup({ transportMemo: { storage } });
      if (stored)
        (storage as { data: Map<string, string> }).data.set(
          'syncwire:ws-blocked:http://127.0.0.1:1/socket.io',
          stored,
        );
      const b = h.make();
      void b.connect().catch(() => {});
      expect(h.transport().order[0]).toBe('websocket');
      await h.onPolling();
      h.transport().upgrade('websocket');
      expect(h.errors).toEqual([]);
      b.dispose();
      h.client.dispose();
    }
  });

  it('transportMemo: false reads and writes nothing', async () => {
    const h = setup({ transportMemo: false });
    await h.onPolling();
    await h.clock.advance(750);
    h.transport().answer(false);
    expect(h.storage.ops).toEqual([]);
  });
});

describe('transport options', () => {
  const make = (o: ClientOptions) => () =>
    createNamespacedClient('/test', { url: 'http://127.0.0.1:1', ...o });
  it('are checked when the client is created', () => {
    expect(make({ websocketProbe: { baseMs: 0 } })).toThrow(
      /websocketProbe\.baseMs: expected a number > 0, got 0/,
    );
    expect(make({ websocketProbe: { maxMS: 5 } as never })).toThrow(/websocketProbe\.maxMS/);
    expect(make({ websocketProbe: true as never })).toThrow(
      /websocketProbe: expected a plain object/,
    );
    expect(make({ transportMemo: { ttlMs: -1 } })).toThrow(/transportMemo\.ttlMs/);
    expect(make({ transportMemo: { storage: {} as never } })).toThrow(
      /transportMemo\.storage: expected an object with getItem\(\), setItem\(\), removeItem\(\)/,
    );
    expect(make({ websocketProbe: false, transportMemo: false })).not.toThrow();
  });
});
