// The namespaced client on a fake socket and a fake clock: lazy connection, the default
// /csrf_token auth, connect errors and retries, emit and request, subscriptions. Its disconnect()
// and dispose() are in client-dispose.test.ts, its options in client-options.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SyncwireError,
  createCorrelationId,
  createNamespacedClient,
  type ServerEnvelope,
} from '../../src/index';
import { createFakeClock, flush } from '../helpers/fake-clock';
import { envelope, fakeSocketFactory } from '../helpers/fake-socket';
import { clientHarness, codeOf } from '../helpers/client-harness';

const setup = clientHarness;

describe('lazy connection', () => {
  it('creates no socket until first use', () => {
    const { factory } = setup();
    expect(factory.sockets).toHaveLength(0);
  });

  it('shares one handshake between concurrent connect() callers', async () => {
    const { factory, client, open } = setup();
    const all = Promise.all([client.connect(), client.connect(), client.connect()]);
    expect(factory.sockets).toHaveLength(1);
    expect(factory.last().connectCalls).toBe(1);
    await open();
    await expect(all).resolves.toHaveLength(3);
    expect(client.isConnected()).toBe(true);
    await expect(client.connect()).resolves.toBeUndefined();
    expect(factory.last().connectCalls).toBe(1);
  });

  it('on() records the subscription at once and starts the connect', async () => {
    const { factory, client, open } = setup();
    const seen: unknown[] = [];
    client.on('server_restart', (env) => seen.push(env.data));
    expect(factory.last().connectCalls).toBe(1);
    // Sent inside the server's connect handler: it reaches the client before `connect`.
    factory
      .last()
      .serverEmit(
        'server_restart',
        envelope({ runtimeId: 'r1', emittedAt: '2026-11-23T12:00:00.000Z' }),
      );
    await open();
    expect(seen).toEqual([{ runtimeId: 'r1', emittedAt: '2026-11-23T12:00:00.000Z' }]);
  });

  it('keeps subscriptions when the first connect fails, and delivers after a later connect', async () => {
    const { factory, client } = setup();
    const seen: unknown[] = [];
    client.on('news', (env) => seen.push(env.data));
    const first = client.connect();
    factory.last().transportError('websocket error');
    expect(await codeOf(first)).toBe('CONNECT_ERROR');
    // Socket.IO's Manager retries transport failures itself.
    await factory.last().runAuth();
    factory.last().accept();
    factory.last().serverEmit('news', envelope({ n: 1 }));
    expect(seen).toEqual([{ n: 1 }]);
  });
});

describe('default /csrf_token auth', () => {
  it('fetches the token (and sets its cookie) before the socket opens, and refetches after a rejection', async () => {
    const clock = createFakeClock();
    const factory = fakeSocketFactory();
    const fetched: string[] = [];
    const fetch = (url: string) => {
      fetched.push(url);
      return Promise.resolve(
        new Response(
          JSON.stringify({ ok: true, token: `tok-${fetched.length}`, runtime_id: 'rt1' }),
        ),
      );
    };
    const client = createNamespacedClient('/test', {
      url: 'http://127.0.0.1:1',
      clock,
      random: () => 0.5,
      socketFactory: factory,
      fetch,
    });
    void client.connect().catch(() => {});
    // The Engine.IO handshake carries the cookies, and it happens before Socket.IO asks for
    // auth: the socket must not open until the token (and its cookie) exist.
    expect(factory.last().connectCalls).toBe(0);
    await flush();
    expect(fetched).toEqual(['http://127.0.0.1:1/csrf_token']);
    expect(factory.last().connectCalls).toBe(1);
    await expect(factory.last().runAuth()).resolves.toEqual({ csrf_token: 'tok-1' }); // reused, not fetched again
    expect(fetched).toHaveLength(1);
    factory.last().reject(); // e.g. a restart invalidated the token
    await clock.advance(10_000);
    expect(fetched).toHaveLength(2);
    expect(factory.last().connectCalls).toBe(2);
    await expect(factory.last().runAuth()).resolves.toEqual({ csrf_token: 'tok-2' });
    client.dispose();
  });

  it('builds the token URL from a url with a trailing slash without doubling it', async () => {
    const fetched: string[] = [];
    const fetch = (url: string) => {
      fetched.push(url);
      return Promise.resolve(new Response(JSON.stringify({ ok: true, token: 't' })));
    };
    const client = createNamespacedClient('/test', {
      url: 'http://127.0.0.1:1//',
      clock: createFakeClock(),
      socketFactory: fakeSocketFactory(),
      fetch,
    });
    expect(client.url).toBe('http://127.0.0.1:1');
    void client.connect().catch(() => {});
    await flush();
    expect(fetched).toEqual(['http://127.0.0.1:1/csrf_token']);
    client.dispose();
  });
});

describe('connect errors and retries', () => {
  it('retries a server rejection with fresh credentials and backoff', async () => {
    const contexts: { refresh: boolean }[] = [];
    const { factory, client, clock, errors } = setup({
      auth: (ctx) => {
        contexts.push({ refresh: ctx.refresh });
        return { csrf_token: `t${contexts.length}` };
      },
    });
    const p = client.connect();
    await flush(); // the auth function runs before the socket opens
    expect(contexts).toEqual([{ refresh: false }]);
    expect(factory.last().connectCalls).toBe(1);
    await factory.last().runAuth(); // that attempt's auth callback reuses its answer
    expect(contexts).toHaveLength(1);
    factory.last().reject();
    const err = await p.catch((e: SyncwireError) => e);
    expect(err).toBeInstanceOf(SyncwireError);
    expect((err as SyncwireError).code).toBe('CONNECT_ERROR');
    expect(errors.map((e) => e.code)).toEqual(['CONNECT_ERROR']);
    expect(factory.last().connectCalls).toBe(1);
    await clock.advance(10_000);
    expect(factory.last().connectCalls).toBe(2);
    await factory.last().runAuth();
    expect(contexts).toEqual([{ refresh: false }, { refresh: true }]);
    expect(factory.last().authPayloads[1]).toEqual({ csrf_token: 't2' });
    factory.last().accept();
    expect(client.isConnected()).toBe(true);
  });

  it('backs off exponentially with jitter between rejections', async () => {
    const { factory, client, clock } = setup({ random: () => 1 });
    void client.connect().catch(() => {});
    const times: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) {
      factory.last().reject();
      const before = factory.last().connectCalls;
      while (factory.last().connectCalls === before) await clock.advance(10);
      times.push(clock.now() - t0);
    }
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(250);
    expect(gaps[1]).toBeGreaterThanOrEqual(500);
    expect(gaps[2]).toBeGreaterThanOrEqual(1000);
    expect(gaps[3]).toBeGreaterThanOrEqual(2000);
  });

  it('treats UNKNOWN_NAMESPACE as terminal: no retry, later calls reject at once', async () => {
    const { factory, client, clock, errors } = setup();
    const p = client.connect();
    factory.last().reject('UNKNOWN_NAMESPACE', { code: 'UNKNOWN_NAMESPACE', namespace: '/test' });
    const err = (await p.catch((e: unknown) => e)) as SyncwireError;
    expect(err.code).toBe('UNKNOWN_NAMESPACE');
    expect(err.details).toEqual({ code: 'UNKNOWN_NAMESPACE', namespace: '/test' });
    await clock.advance(60_000);
    expect(factory.last().connectCalls).toBe(1);
    expect(clock.pending()).toBe(0);
    expect(await codeOf(client.request('echo', {}))).toBe('UNKNOWN_NAMESPACE');
    expect(errors[0]?.code).toBe('UNKNOWN_NAMESPACE');
  });

  it('rejects connect() after connectTimeoutMs when the server never answers', async () => {
    const { client, clock } = setup({ connectTimeoutMs: 1000 });
    const p = codeOf(client.connect());
    await clock.advance(1000);
    expect(await p).toBe('CONNECT_ERROR');
  });

  it('goes on without credentials when auth fails, and reports it', async () => {
    const { factory, client, errors } = setup({
      auth: () => {
        throw new Error('no session');
      },
    });
    void client.connect();
    await expect(factory.last().runAuth()).resolves.toEqual({});
    expect(errors[0]?.code).toBe('CONNECT_ERROR');
    expect(errors[0]?.message).toContain('no session');
  });

  it('reports runtime id and changes across connects', async () => {
    const { factory, client, open } = setup();
    const infos: unknown[] = [];
    client.onConnect((i) => infos.push(i));
    void client.connect();
    factory.last().serverEmit('server_restart', envelope({ runtimeId: 'aaa' }));
    await open();
    factory.last().drop('transport close');
    factory.last().serverEmit('server_restart', envelope({ runtimeId: 'aaa' }));
    await open();
    factory.last().drop('transport close');
    factory.last().serverEmit('server_restart', envelope({ runtimeId: 'bbb' }));
    await open();
    expect(infos).toEqual([
      { firstConnect: true, runtimeChanged: false, runtimeId: 'aaa' },
      { firstConnect: false, runtimeChanged: false, runtimeId: 'aaa' },
      { firstConnect: false, runtimeChanged: true, runtimeId: 'bbb' },
    ]);
    expect(client.runtimeId).toBe('bbb');
  });

  it('reconnects by itself after the server closes the namespace', async () => {
    const { factory, client, clock, open } = setup();
    await Promise.all([client.connect(), open()]);
    factory.last().drop('io server disconnect');
    await clock.advance(10_000);
    expect(factory.last().connectCalls).toBe(2);
  });

  it('after the Manager gives up reconnecting, callers learn it, and the next connect() or request() tries afresh', async () => {
    const { factory, client, errors, open } = setup();
    await Promise.all([client.connect(), open()]);
    factory.last().drop('transport close');
    const waiting = client.connect();
    factory.last().giveUp(); // socketOptions.reconnectionAttempts reached: the socket stays active
    await expect(waiting).rejects.toMatchObject({
      code: 'CONNECT_ERROR',
      details: { reason: 'reconnect_failed' },
    });
    expect(errors.at(-1)?.message).toMatch(/gave up reconnecting to \/test/);
    const attempts = factory.last().connectCalls;
    const reply = client.request('echo', {}, { timeoutMs: 5000 });
    await flush();
    expect(factory.last().connectCalls).toBe(attempts + 1);
    await open();
    const sent = factory.last().sent.at(-1);
    sent?.ack?.({
      correlationId: (sent.payload as { correlationId: string }).correlationId,
      results: [],
    });
    await expect(reply).resolves.toMatchObject({ results: [] });
  });
});

describe('emit and request', () => {
  it('sends { ts, data, correlationId } with an emit- id', async () => {
    const { factory, client, clock, open } = setup();
    const p = client.emit('echo_emit', { a: 1 });
    await open();
    const sent = factory.last().sent[0];
    sent?.ack?.({ correlationId: 'x', results: [] }); // the server's acknowledgement confirms delivery
    await p;
    expect(sent?.event).toBe('echo_emit');
    const payload = sent?.payload as { ts: string; data: unknown; correlationId: string };
    expect(Object.keys(payload).sort()).toEqual(['correlationId', 'data', 'ts']);
    expect(payload.ts).toBe(new Date(clock.now()).toISOString());
    expect(payload.data).toEqual({ a: 1 });
    expect(payload.correlationId).toMatch(
      /^emit-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    await client.emit('echo_emit', null, { correlationId: 'mine', confirm: false }); // plain fire-and-forget
    expect(factory.last().sent[1]?.payload).toMatchObject({ data: {}, correlationId: 'mine' });
    expect(factory.last().sent[1]?.ack).toBeUndefined();
  });

  it('a confirmed emit resolves only on the ack, and rejects when the connection drops or the ack never comes', async () => {
    const { factory, client, clock, open } = setup();
    await Promise.all([client.connect(), open()]);
    let resolved = false;
    const confirmed = client.emit('note', { n: 1 }).then(() => (resolved = true));
    await flush();
    expect(resolved).toBe(false);
    factory.last().sent[0]?.ack?.(undefined); // any acknowledgement counts, even an empty one
    await confirmed;
    const lost = codeOf(client.emit('note', { n: 2 }));
    await flush();
    factory.last().drop('transport close'); // e.g. a half-open socket finally noticed
    expect(await lost).toBe('DISCONNECTED');
    await open();
    const unanswered = codeOf(client.emit('note', { n: 3 }, { timeoutMs: 500 }));
    await clock.advance(500);
    expect(await unanswered).toBe('TIMEOUT');
  });

  it.each<[string, string, unknown]>([
    ['bad event name', 'Bad-Name', {}],
    ['reserved event name', 'connect', {}],
    ['array payload', 'ok', [1]],
    ['primitive payload', 'ok', 5],
    ['non-JSON payload', 'ok', { n: 10n }],
  ])('rejects %s with VALIDATION_ERROR and sends nothing', async (_, event, data) => {
    const { factory, client } = setup();
    expect(await codeOf(client.emit(event, data as object))).toBe('VALIDATION_ERROR');
    expect(await codeOf(client.request(event, data as object))).toBe('VALIDATION_ERROR');
    expect(factory.sockets).toHaveLength(0);
  });

  it('rejects oversized payloads with PAYLOAD_TOO_LARGE before connecting', async () => {
    const { factory, client, clock } = setup({ maxPayloadBytes: 1024 });
    const big = { s: 'é'.repeat(600) };
    const err = (await client.request('echo', big).catch((e: unknown) => e)) as SyncwireError;
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.details).toMatchObject({ maxBytes: 1024 });
    expect(factory.sockets).toHaveLength(0);
    // 900 ASCII bytes plus the wrapper fit: that one is sent (and then times out here).
    const fits = codeOf(client.request('echo', { s: 'x'.repeat(900) }, { timeoutMs: 1 }));
    await clock.advance(1);
    expect(await fits).toBe('TIMEOUT');
  });

  it('validates request options', async () => {
    const { client } = setup();
    for (const timeoutMs of [0, -1, Infinity, Number.NaN]) {
      expect(await codeOf(client.request('echo', {}, { timeoutMs }))).toBe('VALIDATION_ERROR');
    }
    expect(await codeOf(client.request('echo', {}, { correlationId: '  ' }))).toBe(
      'VALIDATION_ERROR',
    );
  });

  it('resolves with the ack as the server sent it', async () => {
    const { factory, client, open } = setup();
    await Promise.all([client.connect(), open()]);
    const p = client.request('echo', { x: 1 }, { correlationId: 'c-1' });
    await flush();
    const sent = factory.last().sent[0];
    expect(sent?.payload).toMatchObject({ data: { x: 1 }, correlationId: 'c-1' });
    const results = [
      { handlerId: 'h.A', ok: true, data: { x: 1 } },
      { handlerId: 'h.B', ok: false, error: { code: 'HANDLER_ERROR', error: 'boom' } },
    ];
    sent?.ack?.({ correlationId: 'c-1', results });
    await expect(p).resolves.toEqual({ correlationId: 'c-1', results });
  });

  it('times out on the injected clock, and ignores a late ack', async () => {
    const { factory, client, clock, open } = setup();
    await Promise.all([client.connect(), open()]);
    const p = codeOf(client.request('delayed', {}, { timeoutMs: 500 }));
    await clock.advance(499);
    await clock.advance(1);
    expect(await p).toBe('TIMEOUT');
    factory.last().sent[0]?.ack?.({ correlationId: 'x', results: [] });
    expect(clock.pending()).toBe(0);
  });

  it('settles every pending request with DISCONNECTED when the connection drops', async () => {
    const { factory, client, open } = setup();
    await Promise.all([client.connect(), open()]);
    const ps = [client.request('a_one', {}), client.request('a_two', {})].map(codeOf);
    await flush();
    factory.last().drop('transport close');
    expect(await Promise.all(ps)).toEqual(['DISCONNECTED', 'DISCONNECTED']);
  });

  it('waits for the connection within the request deadline', async () => {
    const { factory, client, clock } = setup();
    const p = client.request('echo', {}, { timeoutMs: 2000 });
    await clock.advance(1000);
    await factory.last().runAuth();
    factory.last().accept();
    await flush();
    factory.last().sent[0]?.ack?.({ correlationId: 'c', results: [] });
    await expect(p).resolves.toEqual({ correlationId: 'c', results: [] });
  });

  it('rejects with NOT_CONNECTED when the connect fails', async () => {
    const { factory, client } = setup();
    const p = client.emit('echo_emit', {});
    factory.last().transportError();
    const err = (await p.catch((e: unknown) => e)) as SyncwireError;
    expect(err.code).toBe('NOT_CONNECTED');
    expect(err.details).toEqual({ code: 'CONNECT_ERROR' });
  });

  it.each([
    ['a string', 'nope'],
    ['no results', { correlationId: 'c' }],
    ['a bad item', { correlationId: 'c', results: [{ handlerId: 'h' }] }],
  ])('rejects an ack that is %s with INVALID_ENVELOPE', async (_, ack) => {
    const { factory, client, open } = setup();
    await Promise.all([client.connect(), open()]);
    const p = codeOf(client.request('echo', {}));
    await flush();
    factory.last().sent[0]?.ack?.(ack);
    expect(await p).toBe('INVALID_ENVELOPE');
  });
});

describe('subscriptions', () => {
  it('delivers validated, frozen envelopes; off() removes only that callback', async () => {
    const { factory, client, open } = setup();
    const a: ServerEnvelope[] = [];
    const b: ServerEnvelope[] = [];
    const fa = (e: ServerEnvelope) => void a.push(e);
    const fb = (e: ServerEnvelope) => void b.push(e);
    client.on('news', fa);
    client.on('news', fb);
    await open();
    factory.last().serverEmit('news', envelope(null));
    expect(a[0]?.data).toEqual({});
    expect(Object.isFrozen(a[0])).toBe(true);
    expect(Object.isFrozen(a[0]?.data)).toBe(true);
    client.off('news', fa);
    factory.last().serverEmit('news', envelope({ n: 2 }));
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(2);
    expect(() => client.off('news', undefined as never)).toThrow(SyncwireError);
  });

  it('the unsubscribe function detaches the socket listener once no callback is left', async () => {
    const { factory, client, open } = setup();
    const off1 = client.on('news', () => {});
    const off2 = client.on('news', () => {});
    await open();
    expect(factory.last().listenerCount('news')).toBe(1);
    off1();
    expect(factory.last().listenerCount('news')).toBe(1);
    off2();
    expect(factory.last().listenerCount('news')).toBe(0);
  });

  it('does not call subscribers with an invalid envelope, and reports it', async () => {
    const { factory, client, errors, open } = setup();
    const cb = vi.fn();
    client.on('news', cb);
    await open();
    factory.last().serverEmit('news', { ...envelope(), handlerId: 5 });
    factory.last().serverEmit('news', 'garbage');
    factory.last().serverEmit('news', { ...envelope(), ts: 'yesterday' });
    factory.last().serverEmit('news', { ...envelope(), data: [1] });
    expect(cb).not.toHaveBeenCalled();
    expect(errors.map((e) => e.code)).toEqual([
      'INVALID_ENVELOPE',
      'INVALID_ENVELOPE',
      'INVALID_ENVELOPE',
      'INVALID_ENVELOPE',
    ]);
    expect(errors[0]?.message).toContain("'handlerId'");
    expect(errors[2]?.message).toContain("'ts'");
    expect(errors[3]?.message).toContain("'data'");
  });

  it('a callback that subscribes or unsubscribes during delivery changes the next event, not this one', async () => {
    const { factory, client, open } = setup();
    const seen: string[] = [];
    const late = () => void seen.push('late');
    const second = () => void seen.push('second');
    client.on('news', () => {
      seen.push('first');
      client.off('news', second);
      client.on('news', late);
    });
    client.on('news', second);
    await open();
    factory.last().serverEmit('news', envelope());
    expect(seen).toEqual(['first', 'second']);
    seen.length = 0;
    factory.last().serverEmit('news', envelope());
    expect(seen).toEqual(['first', 'late']);
  });

  it('onPayload hands over the payload as sent, before any check, and only to its own subscription', async () => {
    const { factory, client, errors, open } = setup();
    const raw: unknown[] = [];
    const checked: ServerEnvelope[] = [];
    const fn = (p: unknown) => void raw.push(p);
    const off1 = client.onPayload('news', fn);
    const off2 = client.onPayload('news', fn); // a subscription of its own
    client.on('news', (e) => void checked.push(e));
    await open();
    const sent = envelope({ n: 1 });
    factory.last().serverEmit('news', sent);
    factory.last().serverEmit('news', 'garbage'); // payload subscribers check it themselves
    expect(raw).toEqual([sent, sent, 'garbage', 'garbage']);
    expect(raw[0]).toBe(sent);
    expect(Object.isFrozen(raw[0])).toBe(false); // not the validated copy
    expect(checked).toHaveLength(1);
    expect(errors.map((e) => e.code)).toEqual(['INVALID_ENVELOPE']); // from on()'s check
    off1();
    off1(); // a second call removes nothing more
    factory.last().serverEmit('news', sent);
    expect(raw).toHaveLength(5);
    off2();
    factory.last().serverEmit('news', sent);
    expect(raw).toHaveLength(5);
  });

  it('with only payload subscribers, an event is not validated and a server request is answered NO_HANDLERS', async () => {
    const { factory, client, errors, open } = setup();
    const raw: unknown[] = [];
    client.onPayload('news', (p) => {
      raw.push(p);
      throw new Error('payload subscriber broke');
    });
    await open();
    factory.last().serverEmit('news', { not: 'an envelope' });
    expect(raw).toHaveLength(1);
    // The throw is reported; nothing else was checked, so nothing else is reported.
    expect(errors.map((e) => e.message)).toEqual(['payload subscriber broke']);
    const ack = vi.fn();
    factory.last().serverEmit('news', envelope({}, { correlationId: 'srv-9' }), ack);
    await flush();
    expect(ack).toHaveBeenCalledWith({
      correlationId: 'srv-9',
      results: [
        { ok: false, error: { code: 'NO_HANDLERS', error: "No client handler for 'news'" } },
      ],
    });
  });

  it('onPayload checks its arguments, starts the lazy connect, and detaches the socket listener when last', async () => {
    const { factory, client } = setup();
    expect(() => client.onPayload('news', 5 as never)).toThrow(SyncwireError);
    expect(() => client.onPayload('', () => {})).toThrow(SyncwireError);
    const off = client.onPayload('news', () => {});
    await flush();
    expect(factory.sockets).toHaveLength(1);
    expect(factory.last().listenerCount('news')).toBe(1);
    off();
    expect(factory.last().listenerCount('news')).toBe(0);
    client.dispose();
    expect(() => client.onPayload('news', () => {})).toThrow(SyncwireError);
  });

  it('a throwing subscriber neither stops the others nor escapes', async () => {
    const { factory, client, errors, open } = setup();
    const later = vi.fn();
    client.on('news', () => {
      throw new Error('bad subscriber');
    });
    client.on('news', () => Promise.reject(new Error('bad async subscriber')));
    client.on('news', later);
    await open();
    factory.last().serverEmit('news', envelope());
    await flush();
    expect(later).toHaveBeenCalledOnce();
    expect(errors.map((e) => e.message)).toEqual(['bad subscriber', 'bad async subscriber']);
  });

  it('answers server requests with one result per callback', async () => {
    const { factory, client, open } = setup();
    client.on('client_question', (env) =>
      Promise.resolve({ answer: (env.data as { q: number }).q * 2 }),
    );
    client.on('client_question', () => {
      throw new Error('nope');
    });
    await open();
    const ack = vi.fn();
    factory
      .last()
      .serverEmit('client_question', envelope({ q: 21 }, { correlationId: 'srv-1' }), ack);
    await flush();
    expect(ack).toHaveBeenCalledWith({
      correlationId: 'srv-1',
      results: [
        { ok: true, data: { answer: 42 } },
        { ok: false, error: { code: 'HANDLER_ERROR', error: 'nope' } },
      ],
    });
  });

  it('answers a server request with an invalid envelope with an error item', async () => {
    const { factory, client, open } = setup();
    client.on('client_question', () => 1);
    await open();
    const ack = vi.fn();
    factory.last().serverEmit('client_question', { nope: true }, ack);
    expect(ack.mock.calls[0]?.[0]).toMatchObject({
      results: [{ ok: false, error: { code: 'INVALID_ENVELOPE' } }],
    });
  });

  it('answers a server request whose answer cannot be serialised with a HANDLER_ERROR item, and reports it', async () => {
    // Socket.IO would throw inside its encoder after the ack was used up: the server would
    // wait for its own timeout and the error would escape as an unhandled rejection.
    const { factory, client, errors, open } = setup();
    client.on('client_question', () => {
      const answer: Record<string, unknown> = {};
      answer.self = answer;
      return answer;
    });
    await open();
    const ack = vi.fn();
    factory.last().serverEmit('client_question', envelope({}, { correlationId: 'srv-2' }), ack);
    await flush();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(ack.mock.calls[0]?.[0]).toMatchObject({
      correlationId: 'srv-2',
      results: [{ ok: false, error: { code: 'HANDLER_ERROR' } }],
    });
    expect(() => JSON.stringify(ack.mock.calls[0]?.[0])).not.toThrow();
    expect(errors.map((e) => e.code)).toContain('HANDLER_ERROR');
  });

  it('onAck sees the ack in wire order: before events delivered after it, and before the promise settles', async () => {
    const { factory, client, errors, open } = setup();
    await Promise.all([client.connect(), open()]);
    const order: string[] = [];
    client.on('news', () => void order.push('event'));
    const reply = client
      .request('echo', {}, { onAck: () => void order.push('onAck') })
      .then(() => order.push('promise'));
    await flush();
    const sent = factory.last().sent.at(-1);
    // One batch of packets: the ack, then an event, with no promise callback in between.
    sent?.ack?.({
      correlationId: (sent.payload as { correlationId: string }).correlationId,
      results: [],
    });
    factory.last().serverEmit('news', envelope({}));
    await reply;
    expect(order).toEqual(['onAck', 'event', 'promise']);
    // A throwing onAck is reported; the request still resolves.
    const again = client.request(
      'echo',
      {},
      {
        onAck: () => {
          throw new Error('observer broke');
        },
      },
    );
    await flush();
    const next = factory.last().sent.at(-1);
    next?.ack?.({
      correlationId: (next.payload as { correlationId: string }).correlationId,
      results: [],
    });
    await expect(again).resolves.toMatchObject({ results: [] });
    expect(errors.at(-1)?.message).toBe('observer broke');
    expect(await codeOf(client.request('echo', {}, { onAck: 'no' as never }))).toBe(
      'VALIDATION_ERROR',
    );
  });
});

describe('emit({ confirm: false }) and its signal', () => {
  it('an emit aborted before it could be sent is not sent, and rejects with ABORTED', async () => {
    const { factory, client, open } = setup();
    const ac = new AbortController();
    ac.abort();
    const p = codeOf(client.emit('note', { n: 1 }, { confirm: false, signal: ac.signal }));
    expect(await p).toBe('ABORTED');
    client.connect().catch(() => {});
    await open();
    expect(factory.last().sent.filter((s) => s.event === 'note')).toHaveLength(0);
  });

  it('aborting a fire-and-forget emit that waits for the connection rejects it with ABORTED', async () => {
    const { factory, client, clock, open } = setup();
    const ac = new AbortController();
    const p = codeOf(client.emit('note', { n: 1 }, { confirm: false, signal: ac.signal }));
    await clock.advance(10);
    ac.abort();
    await open();
    expect(factory.last().sent.filter((s) => s.event === 'note')).toHaveLength(0);
    expect(await p).toBe('ABORTED');
  });
});

// Where crypto.randomUUID is missing (an http page on a LAN address is not a secure context),
// createCorrelationId fills the v4 template from getRandomValues.
describe('createCorrelationId without randomUUID', () => {
  const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  afterEach(() => vi.unstubAllGlobals());

  it('still gives prefixed, distinct v4 UUIDs', () => {
    const real = globalThis.crypto;
    let draws = 0;
    vi.stubGlobal('crypto', {
      getRandomValues: <T extends ArrayBufferView>(a: T) => {
        draws++;
        return real.getRandomValues(a);
      },
    });
    const ids = Array.from({ length: 200 }, () => createCorrelationId('request'));
    for (const id of ids) {
      expect(id.startsWith('request-')).toBe(true);
      expect(id.slice('request-'.length)).toMatch(V4);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(draws).toBeGreaterThan(0); // the fallback ran, not randomUUID
    expect(createCorrelationId()).toMatch(V4);
  });
});
