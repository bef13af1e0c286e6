// Bounded resources under a storm, through the public API and the fake socket.
//
// Memory: vitest does not expose global.gc; the test turns it on at run time
// (v8.setFlagsFromString('--expose-gc') and a fresh vm context hands out `gc`), and falls
// back to a generous bound if that ever fails. The main assertions are structural anyway:
// the held-push cap (256, seen through health.counters.pushesDropped), coalesced
// notifications, one timer per kind.
// The caps on pending work (maxPending for emits/requests, maxBuffered for streams, both
// overflowing with OVERFLOW) are checked twice: at their configured values ('caps observable
// through the public API') and as a policy, whatever the values ('work that piles up is capped').
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createNamespacedClient, SyncwireError } from '../../src/index';
import { HELD_MAX } from '../../src/store/machine';
import { requestStream } from '../../src/stream';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { storeHarness } from '../helpers/store-harness';

const STORM = 100_000;
const gc = ((): (() => void) | undefined => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return (globalThis as { gc?: () => void }).gc;
  }
})();
const heapMb = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
/** A generous bound on heap growth when gc is not available (garbage may still be uncollected). */
const HEAP_BOUND_MB = gc ? 16 : 96;

const pushEnvelope = (seq: number, epoch = 'E1', snapshot: object = { seq }) => ({
  handlerId: 'h',
  eventId: `e${seq}`,
  correlationId: 'c',
  ts: '2026-11-23T12:00:00.000Z',
  data: { runtime_epoch: epoch, seq, snapshot },
});

describe('a storm of 100,000 state_push events', () => {
  it('into a HEALTHY store: applied in order, one notification per macrotask, heap bounded', async () => {
    const h = storeHarness<{ seq: number }>();
    await h.healthy({ seq: 2 });
    let notified = 0;
    h.store.subscribe((e) => void (e.type === 'state' && notified++));
    const before = heapMb();
    const t0 = performance.now();
    for (let seq = 3; seq < STORM + 3; seq++)
      h.socket().serverEmit('state_push', pushEnvelope(seq));
    const ms = performance.now() - t0;
    await h.clock.advance(100);
    const grown = heapMb() - before;
    expect(h.store.state).toEqual({ seq: STORM + 2 });
    expect(h.store.health.counters.pushesApplied).toBe(STORM + 1);
    expect(h.store.health.lastSeq).toBe(STORM + 2);
    expect(notified).toBeGreaterThanOrEqual(1); // coalesced: a synchronous burst is one notification
    expect(notified).toBeLessThanOrEqual(2);
    expect(h.clock.pending()).toBeLessThanOrEqual(2); // the liveness timer (and nothing per push)
    expect(grown).toBeLessThan(HEAP_BOUND_MB);
    console.info(
      `[bounds] ${STORM} pushes applied in ${ms.toFixed(0)} ms, heap +${grown.toFixed(1)} MB (gc ${gc ? 'on' : 'off'})`,
    );
    h.store.stop();
    h.client.dispose();
  });

  it('of stale and duplicate pushes: all dropped and counted, the state untouched', async () => {
    const h = storeHarness<{ seq: number }>();
    await h.healthy({ seq: 2 });
    const state = h.store.state;
    for (let i = 0; i < STORM; i++) h.socket().serverEmit('state_push', pushEnvelope(i % 3)); // seq 0, 1, 2 <= lastSeq
    await h.clock.advance(0);
    expect(h.store.state).toBe(state);
    expect(h.store.health.counters.pushesDropped).toBe(STORM);
    expect(h.store.mode).toBe('HEALTHY');
    h.store.stop();
    h.client.dispose();
  });

  it('while a handshake is pending: at most 256 are held (the rest counted as dropped), heap bounded, and the store recovers', async () => {
    const h = storeHarness<{ seq: number }>();
    void h.store.start();
    await flush();
    await h.connect(); // state_request sent, no ack yet: pushes are held
    expect(h.store.mode).toBe('HANDSHAKE_PENDING');
    const before = heapMb();
    // A distinct 2 KB snapshot each, so holding them all would show: 100,000 x 2 KB = ~200 MB.
    for (let seq = 2; seq < STORM + 2; seq++)
      h.socket().serverEmit(
        'state_push',
        pushEnvelope(seq, 'E0', { blob: String(seq).padEnd(2048, 'x') }),
      );
    const grown = heapMb() - before;
    expect(h.store.health.counters.pushesDropped).toBe(STORM - HELD_MAX);
    expect(grown).toBeLessThan(HEAP_BOUND_MB);
    console.info(
      `[bounds] ${STORM} pushes during a pending handshake: ${h.store.health.counters.pushesDropped} dropped, heap +${grown.toFixed(1)} MB`,
    );
    // The held pushes are of another epoch: the ack's period ignores them, its own first push makes it HEALTHY.
    await h.ack('E1');
    await h.push(2, { seq: 2 });
    await h.clock.advance(0);
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ seq: 2 });
    h.store.stop();
    h.client.dispose();
    expect(h.clock.pending()).toBe(0);
  });
});

describe('caps observable through the public API', () => {
  it('connect retries after rejections: one timer at a time, spaced by at most retry.maxMs', async () => {
    const clock = createFakeClock();
    const factory = fakeSocketFactory();
    const client = createNamespacedClient('/caps', {
      url: 'http://127.0.0.1:9',
      auth: {},
      clock,
      socketFactory: factory,
      retry: { baseMs: 100, maxMs: 1000 },
      random: () => 1,
    });
    client.connect().catch(() => {});
    const socket = factory.last();
    let maxPending = 0;
    for (let i = 0; i < 200; i++) {
      socket.reject();
      maxPending = Math.max(maxPending, clock.pending());
      const calls = socket.connectCalls;
      await clock.advance(1000);
      expect(socket.connectCalls).toBe(calls + 1); // retried within maxMs, exactly once
    }
    expect(maxPending).toBeLessThanOrEqual(2); // the retry timer (+ the connect() deadline)
    client.dispose();
    expect(clock.pending()).toBe(0);
  });

  it('store handshake retries and poll failures back off to their caps, with one timer per kind', async () => {
    const h = storeHarness({
      timing: {
        backoffBaseMs: 100,
        backoffMaxMs: 800,
        pollIntervalMs: 100,
        pollBackoffMaxMs: 800,
        handshakeTimeoutMs: 200,
      },
    });
    h.fetch.respond(() => ({ status: 500 }));
    void h.store.start();
    await flush();
    await h.connect();
    let maxPending = 0;
    for (let i = 0; i < 100; i++) {
      await h.clock.advance(100);
      maxPending = Math.max(maxPending, h.clock.pending());
      const last = h.requests().at(-1);
      last?.ack?.({
        correlationId: 'x',
        results: [{ ok: false, error: { code: 'TIMEOUT', error: 'busy' } }],
      });
    }
    const handshakes = h.store.health.counters.handshakes;
    const polls = h.store.health.counters.polls;
    // 10 s of failures at 100-800 ms backoff: bounded counts, never a burst.
    expect(handshakes).toBeLessThanOrEqual(10_000 / 100 + 1);
    expect(polls).toBeLessThanOrEqual(10_000 / 100 + 1);
    expect(maxPending).toBeLessThanOrEqual(8);
    h.store.stop();
    h.client.dispose();
    expect(h.clock.pending()).toBe(0);
  });

  it('emits and requests under way are capped by maxPending (default 1000); one more rejects at once with OVERFLOW', async () => {
    const N = 20_000;
    const payload = { blob: 'y'.repeat(1_000) };
    const make = () => {
      const clock = createFakeClock();
      const factory = fakeSocketFactory();
      const client = createNamespacedClient('/caps', {
        url: 'http://127.0.0.1:9',
        auth: {},
        clock,
        socketFactory: factory,
        connectTimeoutMs: 60_000,
      });
      return { clock, factory, client };
    };

    // 1. emits while disconnected: each waits for the connection with its payload.
    const a = make();
    let h0 = heapMb();
    const emitCodes: string[] = [];
    for (let i = 0; i < N; i++)
      a.client
        .emit('note', payload, { correlationId: `e-${i}` })
        .catch((e: { code?: string }) => emitCodes.push(e.code ?? '?'));
    await flush();
    const emitHeap = heapMb() - h0;
    const pendingEmits = N - emitCodes.length;
    expect(pendingEmits).toBe(1000);
    expect(new Set(emitCodes)).toEqual(new Set(['OVERFLOW']));
    // Once connected they go out, and the slots are free again.
    await a.factory.last().runAuth();
    a.factory.last().accept();
    await flush();
    const notes = a.factory.last().sent.filter((x) => x.event === 'note');
    expect(notes).toHaveLength(1000);
    // Each confirmed emit keeps its slot until the server acknowledges it.
    expect(await a.client.emit('note', payload).catch((e: { code?: string }) => e.code)).toBe(
      'OVERFLOW',
    );
    notes.forEach((x) => x.ack?.(undefined));
    await flush();
    const next = a.client.emit('note', payload);
    await flush();
    a.factory.last().sent.at(-1)?.ack?.(undefined);
    await expect(next).resolves.toBeUndefined();
    a.client.dispose();

    // 2. requests with no ack while connected: each holds a timer until its timeout.
    const b = make();
    void b.client.connect();
    await b.factory.last().runAuth();
    b.factory.last().accept();
    await flush();
    h0 = heapMb();
    const requestCodes: string[] = [];
    for (let i = 0; i < N; i++)
      b.client
        .request('slow', payload, { timeoutMs: 60_000 })
        .catch((e: { code?: string }) => requestCodes.push(e.code ?? '?'));
    await flush();
    const requestHeap = heapMb() - h0;
    const inFlight = N - requestCodes.length;
    const requestTimers = b.clock.pending();
    expect(inFlight).toBe(1000);
    expect(new Set(requestCodes)).toEqual(new Set(['OVERFLOW']));
    expect(requestTimers).toBeLessThanOrEqual(1000 + 2);
    b.client.dispose();

    // 3. a stream nobody reads: at most maxBuffered (1000) events, then it ends with OVERFLOW.
    const c = make();
    void c.client.connect();
    await c.factory.last().runAuth();
    c.factory.last().accept();
    const it = requestStream(
      c.client,
      'stream_start',
      {},
      { replyEvent: 'stream_event', correlationId: 's-1', idleTimeoutMs: 600_000 },
    );
    for (let seq = 1; seq <= N; seq++)
      c.factory
        .last()
        .serverEmit('stream_event', envelope({ state: 'delta', seq }, { correlationId: 's-1' }));
    let buffered = 0;
    let streamError: { code?: string } | undefined;
    try {
      for (;;) {
        const r = await Promise.race([
          it.next(),
          new Promise<'wait'>((res) => setImmediate(() => res('wait'))),
        ]);
        if (r === 'wait' || r.done) break;
        buffered++;
      }
    } catch (e) {
      streamError = e as { code?: string };
    }
    expect(buffered).toBeLessThanOrEqual(1000);
    expect(streamError?.code).toBe('OVERFLOW');
    c.client.dispose();
    await flush();
    for (const x of [a, b, c]) expect(x.clock.pending()).toBe(0);

    console.info(
      `[bounds] caps: ${pendingEmits}/${N} emits pending while disconnected, the rest OVERFLOW (heap +${emitHeap.toFixed(1)} MB); ` +
        `${inFlight} requests in flight with ${requestTimers} timers, the rest OVERFLOW (heap +${requestHeap.toFixed(1)} MB); ` +
        `${buffered} stream events delivered to a late reader, then ${streamError?.code ?? 'no error'}`,
    );
  });

  it('maxPending is an option: a small cap is honoured, and emits and requests share it', async () => {
    const clock = createFakeClock();
    const client = createNamespacedClient('/caps', {
      url: 'http://127.0.0.1:9',
      auth: {},
      clock,
      socketFactory: fakeSocketFactory(),
      maxPending: 3,
    });
    const codes: string[] = [];
    const note = (p: Promise<unknown>) =>
      p.catch((e: { code?: string }) => codes.push(e.code ?? '?'));
    note(client.emit('a', {}));
    note(client.request('b', {}));
    note(client.emit('c', {}));
    note(client.request('d', {}));
    note(client.emit('e', {}));
    await flush();
    expect(codes).toEqual(['OVERFLOW', 'OVERFLOW']);
    // A settled call gives its slot back: the request times out, the next call is taken.
    await clock.advance(30_000);
    codes.length = 0;
    note(client.emit('f', {}));
    await flush();
    expect(codes).toEqual([]);
    client.dispose();
  });
});

// Without caps, 20,000 of each cost ~1 KB of heap per pending emit, ~1.4 KB and one timer per
// pending request, and every stream event was kept for a reader that never comes. The policy:
// the call over the cap fails at once with OVERFLOW. ASSUMED_CAP is an upper bound for whatever
// cap the library chooses.
const ASSUMED_CAP = 1_000;
const N = 10 * ASSUMED_CAP;

function cappedSetup() {
  const clock = createFakeClock();
  const factory = fakeSocketFactory();
  const client = createNamespacedClient('/caps', {
    url: 'http://127.0.0.1:9',
    auth: {},
    clock,
    socketFactory: factory,
    connectTimeoutMs: 60_000,
  });
  return { clock, factory, client };
}

describe('work that piles up is capped', () => {
  it(`emits while disconnected: at most ${ASSUMED_CAP} wait for the connection, the rest reject with OVERFLOW`, async () => {
    const { client } = cappedSetup();
    const codes: string[] = [];
    for (let i = 0; i < N; i++)
      client
        .emit('note', { i })
        .catch((e: unknown) => codes.push(e instanceof SyncwireError ? e.code : 'untyped'));
    await flush();
    const pending = N - codes.length;
    client.dispose();
    expect(pending).toBeLessThanOrEqual(ASSUMED_CAP);
    expect(new Set(codes)).toEqual(new Set(['OVERFLOW']));
  });

  it(`requests without an answer: at most ${ASSUMED_CAP} in flight, the rest reject with OVERFLOW`, async () => {
    const { client, factory, clock } = cappedSetup();
    void client.connect();
    await factory.last().runAuth();
    factory.last().accept();
    const codes: string[] = [];
    for (let i = 0; i < N; i++)
      client
        .request('slow', { i }, { timeoutMs: 60_000 })
        .catch((e: unknown) => codes.push(e instanceof SyncwireError ? e.code : 'untyped'));
    await flush();
    const inFlight = N - codes.length;
    const timers = clock.pending();
    client.dispose();
    expect({ inFlight: inFlight <= ASSUMED_CAP, timers: timers <= ASSUMED_CAP + 4 }).toEqual({
      inFlight: true,
      timers: true,
    });
    expect(new Set(codes)).toEqual(new Set(['OVERFLOW']));
  });

  it(`a stream nobody reads buffers at most ${ASSUMED_CAP} events, then ends with OVERFLOW`, async () => {
    const { client, factory } = cappedSetup();
    void client.connect();
    await factory.last().runAuth();
    factory.last().accept();
    const it = requestStream(
      client,
      'stream_start',
      {},
      { replyEvent: 'stream_event', correlationId: 's-1', idleTimeoutMs: 600_000 },
    );
    for (let seq = 1; seq <= N; seq++)
      factory
        .last()
        .serverEmit('stream_event', envelope({ state: 'delta', seq }, { correlationId: 's-1' }));
    let delivered = 0;
    let error: unknown;
    try {
      for (;;) {
        const r = await Promise.race([
          it.next(),
          new Promise<'wait'>((res) => setImmediate(() => res('wait'))),
        ]);
        if (r === 'wait' || r.done) break;
        delivered++;
      }
    } catch (e) {
      error = e;
    }
    client.dispose();
    expect(delivered).toBeLessThanOrEqual(ASSUMED_CAP);
    expect((error as SyncwireError | undefined)?.code).toBe('OVERFLOW');
  });
});
