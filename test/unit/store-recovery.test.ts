// The sync store on fakes when its push channel is slow, silent, dropping or gone: the
// fallback to /poll, the liveness audit, recovery from DEGRADED, and epoch changes seen by a poll.
import { describe, expect, it } from 'vitest';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope } from '../helpers/fake-socket';
import { storeHarness } from '../helpers/store-harness';

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

  it('pushes flowing again on a DEGRADED connection start a handshake at once, once per degraded spell', async () => {
    // A long backoff: the handshake must not wait for the retry timer.
    const h = storeHarness({ timing: { backoffBaseMs: 4000, backoffMaxMs: 5000 } });
    await h.healthy({ v: 1 });
    h.store.resync('push channel silent');
    await flush();
    await h.ack(); // the period opens, but its first push never comes
    await h.clock.advance(2000); // handshakeTimeoutMs: the period failed
    expect(h.store.mode).toBe('DEGRADED');
    const sent = h.requests().length;
    const dropped = h.store.health.counters.pushesDropped;
    await h.push(3, { v: 3 }); // the channel is back
    expect(h.requests().length).toBe(sent + 1);
    // Still not applied while DEGRADED (polling owns the state until the handshake's period).
    expect(h.store.state).not.toEqual({ v: 3 });
    expect(h.store.health.counters.pushesDropped).toBe(dropped + 1);
    await h.push(4, { v: 4 }); // a handshake is in flight: no second one
    expect(h.requests().length).toBe(sent + 1);
    await h.ack('E1', { seq_base: 4 });
    await h.push(5, { v: 5 });
    expect(h.store.mode).toBe('HEALTHY');
    expect(h.store.state).toEqual({ v: 5 });
  });

  it('a push wakes a degraded spell only once: while handshakes keep failing, the backoff paces them', async () => {
    const h = storeHarness({ timing: { backoffBaseMs: 4000, backoffMaxMs: 5000 } });
    await h.healthy({ v: 1 });
    h.store.resync('push channel silent');
    await flush();
    await h.ack();
    await h.clock.advance(2000); // the period's first push never came: DEGRADED
    const sent = h.requests().length;
    await h.push(3, { v: 3 }); // wakes it: one handshake now
    expect(h.requests().length).toBe(sent + 1);
    await h.nack('BUSY', 'busy'); // that one fails too
    await h.push(4, { v: 4 });
    await h.push(5, { v: 5 });
    expect(h.requests().length).toBe(sent + 1); // no handshake per push
    expect(h.store.mode).toBe('DEGRADED');
    await h.clock.advance(5000); // the retry timer (backoff) sends the next one
    expect(h.requests().length).toBe(sent + 2);
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
    const h = storeHarness(
      {},
      {
        auth: () => {
          asked++;
          return {};
        },
      },
    );
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

describe('sync store: the fallback to /poll', () => {
  it('a connection that keeps dropping before the handshake completes still falls back to /poll', async () => {
    const h = storeHarness();
    h.fetch.respond(() => ({ status: 200, body: { from: 'poll' } }));
    void h.store.start();
    await flush();
    // Each connection lives 1.5 s (less than handshakeTimeoutMs, no ack comes), then drops;
    // Socket.IO reconnects 0.5 s later. For a minute, nothing ever reaches the page.
    for (let i = 0; i < 30; i++) {
      await h.connect();
      await h.clock.advance(1500);
      h.socket().drop('transport close');
      await h.clock.advance(500);
    }
    expect(h.requests().length).toBeGreaterThanOrEqual(30);
    expect(h.fetch.calls.length).toBeGreaterThan(0); // polls, rather than the mode flipping DISCONNECTED/HANDSHAKE_PENDING forever
    expect(h.store.state).toEqual({ from: 'poll' });
  });
});

describe('sync store: error codes of the liveness audit', () => {
  it('a network failure during the liveness audit is not reported as VALIDATION_ERROR', async () => {
    let failing = false;
    const okFetch = storeHarness().fetch;
    const fetch = (url: string, init?: RequestInit) =>
      failing ? Promise.reject(new TypeError('Failed to fetch')) : okFetch(url, init);
    const h = storeHarness({ fetch, timing: { livenessMs: 10_000 } });
    await h.healthy({ v: 1 });
    failing = true; // the network is gone; the push channel has not noticed yet
    await h.clock.advance(10_000); // the audit poll fails
    expect(h.errors.map((e) => e.code)).not.toContain('VALIDATION_ERROR'); // not VALIDATION_ERROR "liveness audit failed: Failed to fetch"
  });
});
