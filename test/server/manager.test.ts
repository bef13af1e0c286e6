// The Socket.IO layer: connect checks, envelopes, request/ack aggregation and the
// harness handlers on /dev_websocket_test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Harness,
  connectError,
  csrfToken,
  expectEnvelope,
  http,
  okData,
  once,
  request,
  wrap,
  UUID,
  type Aggregate,
  type Envelope,
  type ReferenceServer,
} from './helpers';

const NS = '/dev_websocket_test';
const h = new Harness();
let server: ReferenceServer;

beforeAll(async () => {
  server = await h.start();
});
afterAll(() => h.cleanup());

describe('request/ack aggregation', () => {
  it('echo returns the data without correlationId, on the client correlationId', async () => {
    const socket = await h.connect(server, NS);
    const ack = await request(socket, 'echo', { text: 'hi', n: 1 }, 'request-abc');
    expect(ack).toEqual({
      correlationId: 'request-abc',
      results: [
        {
          handlerId: 'syncwire.reference.TestHandlers',
          ok: true,
          correlationId: 'request-abc',
          data: { echo: { text: 'hi', n: 1 } },
        },
      ],
    });
  });

  it('generates a dashless correlationId when the client gives none', async () => {
    const socket = await h.connect(server, NS);
    const ack = (await socket.emitWithAck('echo', { ts: 'x', data: { a: 1 } })) as Aggregate;
    expect(ack.correlationId).toMatch(/^[0-9a-f]{32}$/);
    expect(ack.results[0]?.correlationId).toBe(ack.correlationId);
  });

  it('passes a payload with no wrapper through as-is', async () => {
    const socket = await h.connect(server, NS);
    const ack = (await socket.emitWithAck('echo', { plain: true })) as Aggregate;
    expect(ack.results[0]).toMatchObject({ ok: true, data: { echo: { plain: true } } });
  });

  it('multi runs both handlers and keeps registration order', async () => {
    const socket = await h.connect(server, NS);
    const ack = await request(socket, 'multi', {}, 'm-1');
    expect(ack.results).toEqual([
      {
        handlerId: 'syncwire.reference.MultiA',
        ok: true,
        correlationId: 'm-1',
        data: { from: 'A' },
      },
      {
        handlerId: 'syncwire.reference.MultiB',
        ok: true,
        correlationId: 'm-1',
        data: { from: 'B' },
      },
    ]);
  });

  it('a throwing handler yields HANDLER_ERROR with the message as details', async () => {
    const socket = await h.connect(server, NS);
    const ack = await request(socket, 'fail', { message: 'kaput' }, 'f-1');
    expect(ack.results).toEqual([
      {
        handlerId: 'syncwire.reference.TestHandlers',
        ok: false,
        correlationId: 'f-1',
        error: { code: 'HANDLER_ERROR', error: 'Internal server error', details: 'kaput' },
      },
    ]);
  });

  it('NO_HANDLERS and INVALID_EVENT come from the manager', async () => {
    const socket = await h.connect(server, NS);
    expect(await request(socket, 'nobody_listens', {}, 'n-1')).toEqual({
      correlationId: 'n-1',
      results: [
        {
          handlerId: 'syncwire.reference.Manager',
          ok: false,
          error: { code: 'NO_HANDLERS', error: "No handler for 'nobody_listens'" },
        },
      ],
    });
    const bad = await request(socket, 'Bad-Name', {}, 'n-2');
    expect(bad.results[0]).toMatchObject({
      handlerId: 'syncwire.reference.Manager',
      ok: false,
      error: { code: 'INVALID_EVENT' },
    });
  });

  it('delayed waits (clamped) and reports the delay', async () => {
    const socket = await h.connect(server, NS);
    const ack = await request(socket, 'delayed', { delayMs: 15 });
    expect(ack.results[0]).toMatchObject({ ok: true, data: { delayedMs: 15 } });
    expect((await request(socket, 'delayed', { delayMs: -5 })).results[0]).toMatchObject({
      data: { delayedMs: 0 },
    });
  });

  it('counts every received event by correlationId (record is fire-and-forget)', async () => {
    const socket = await h.connect(server, NS);
    socket.emit('record', wrap({ x: 1 }, 'rec-1'));
    await request(socket, 'echo', {}, 'rec-sync'); // same connection, so record was handled before this ack
    expect(server.stats.received.get('rec-1')).toBe(1);
    expect(server.stats.received.get('rec-sync')).toBe(1);
  });
});

describe('server → client emits', () => {
  it('echo_emit replies with an envelope on the same correlationId', async () => {
    const socket = await h.connect(server, NS);
    const reply = once<Envelope>(socket, 'echo_reply');
    socket.emit('echo_emit', wrap({ v: 42 }, 'emit-1'));
    const env = await reply;
    expectEnvelope(env);
    expect(env).toMatchObject({ correlationId: 'emit-1', data: { echo: { v: 42 } } });
  });

  it('fanout reaches every socket of the namespace', async () => {
    const a = await h.connect(server, NS);
    const b = await h.connect(server, NS);
    const got = [once<Envelope>(a, 'fanout_event'), once<Envelope>(b, 'fanout_event')];
    const ack = await request(a, 'fanout', { hello: 'all' }, 'fan-1');
    const envs = await Promise.all(got);
    for (const env of envs) {
      expectEnvelope(env);
      expect(env.data).toEqual({ hello: 'all' });
    }
    const delivered = okData<{ delivered: number }>(ack).delivered;
    expect(delivered).toBe(server.io.of(NS).sockets.size);
  });

  it('server_request asks the client and returns its whole ack value', async () => {
    const socket = await h.connect(server, NS);
    socket.on('client_question', (env: Envelope, ack: (v: unknown) => void) => {
      expectEnvelope(env);
      ack({ answer: `${(env.data as { question: string }).question}? 42` });
    });
    const ack = await request(socket, 'server_request', { question: 'meaning' });
    expect(ack.results[0]).toMatchObject({ ok: true, data: { answer: { answer: 'meaning? 42' } } });
  });

  it('server_request resolves with a TIMEOUT aggregate when the client never answers', async () => {
    const socket = await h.connect(server, NS);
    socket.on('client_question', () => {
      /* never acks */
    });
    const ack = await request(socket, 'server_request', { question: 'q', timeoutMs: 30 });
    const answer = okData<{ answer: Aggregate }>(ack).answer;
    expect(answer.correlationId).toMatch(UUID);
    expect(answer.results).toEqual([
      {
        handlerId: 'syncwire.reference.TestHandlers',
        ok: false,
        error: { code: 'TIMEOUT', error: 'Request timeout' },
      },
    ]);
  });

  it('stream_start acks first, then streams on the same correlationId', async () => {
    const socket = await h.connect(server, NS);
    const order: string[] = [];
    const events: Envelope[] = [];
    const done = new Promise<void>((resolve) =>
      socket.on('stream_event', (env: Envelope) => {
        order.push('event');
        events.push(env);
        if ((env.data as { state: string }).state !== 'delta') resolve();
      }),
    );
    // A plain ack callback runs as soon as the ack packet is decoded, so `order` is the wire order.
    const acked = new Promise<Aggregate>((resolve) =>
      socket.emit(
        'stream_start',
        wrap({ count: 3, intervalMs: 1 }, 'stream-1'),
        (ack: Aggregate) => {
          order.push('ack');
          resolve(ack);
        },
      ),
    );
    expect(okData(await acked)).toEqual({ accepted: true });
    await done;
    expect(order[0]).toBe('ack');
    events.forEach((e) => {
      expectEnvelope(e);
      expect(e.correlationId).toBe('stream-1');
    });
    expect(events.map((e) => e.data)).toEqual([
      { state: 'delta', seq: 1, text: 'chunk 1 ' },
      { state: 'delta', seq: 2, text: 'chunk 2 ' },
      { state: 'delta', seq: 3, text: 'chunk 3 ' },
      { state: 'final', seq: 4, text: 'chunk 1 chunk 2 chunk 3 ' },
    ]);
  });

  it.each([
    [{ duplicate: true, count: 2 }, ['delta:1', 'delta:1', 'delta:2', 'delta:2', 'final:3']],
    [{ outOfOrder: true, count: 4 }, ['delta:1', 'delta:3', 'delta:2', 'delta:4', 'final:5']],
    [{ failAt: 2, count: 3 }, ['delta:1', 'error:2']],
    [{ abort: true, count: 2 }, ['delta:1', 'delta:2', 'aborted:3']],
    [{ lateAfterFinal: true, count: 1 }, ['delta:1', 'final:2', 'delta:3']],
  ])('stream_start options %j', async (options, expected) => {
    const socket = await h.connect(server, NS);
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      socket.on('stream_event', (env: Envelope) => {
        const d = env.data as { state: string; seq: number };
        seen.push(`${d.state}:${d.seq}`);
        if (seen.length === expected.length) resolve();
      }),
    );
    await request(socket, 'stream_start', { ...options, intervalMs: 1 });
    await done;
    expect(seen).toEqual(expected);
  });

  it('disconnect_me closes the transport; the client reconnects by itself', async () => {
    const socket = await h.connect(server, NS);
    const reason = once<string>(socket, 'disconnect');
    const ack = await request(socket, 'disconnect_me', {});
    expect(ack.results[0]).toMatchObject({ ok: true });
    expect(await reason).toBe('transport close');
    await once(socket, 'connect');
    expect(socket.connected).toBe(true);
  });
});

describe('connect checks', () => {
  it('server_restart reaches the client before connect', async () => {
    const token = await csrfToken(server);
    const socket = h.socket(server, '/state_sync', { auth: { csrf_token: token } });
    const order: string[] = [];
    let restart: Envelope | undefined;
    socket.on('server_restart', (env: Envelope) => {
      order.push('server_restart');
      restart = env;
    });
    const connected = new Promise<void>((resolve) =>
      socket.on('connect', () => {
        order.push('connect');
        resolve();
      }),
    );
    socket.connect();
    await connected;
    expect(order).toEqual(['server_restart', 'connect']);
    expectEnvelope(restart);
    expect(restart.handlerId).toBe('syncwire.reference.Manager');
    expect(restart.data).toEqual({ emittedAt: expect.any(String), runtimeId: server.runtime.id });
  });

  it('unknown namespaces (and "/") get UNKNOWN_NAMESPACE with data', async () => {
    for (const ns of ['/nope', '/']) {
      const socket = h.socket(server, ns, { auth: { csrf_token: await csrfToken(server) } });
      const err = connectError(socket);
      socket.connect();
      const e = await err;
      expect(e.message).toBe('UNKNOWN_NAMESPACE');
      expect(e.data).toEqual({ code: 'UNKNOWN_NAMESPACE', namespace: ns });
      socket.close();
    }
  });

  it('rejects missing and invalid CSRF tokens without data, logging only the reason', async () => {
    for (const [auth, reason] of [
      [{}, 'csrf_missing'],
      [{ csrf_token: 'forged' }, 'csrf_invalid'],
    ] as const) {
      const socket = h.socket(server, NS, { auth });
      const err = connectError(socket);
      socket.connect();
      const e = await err;
      expect(e.message).toBe('Connection rejected by server');
      expect(e.data).toBeUndefined();
      expect(server.stats.rejections.at(-1)).toMatchObject({ namespace: NS, reason });
      socket.close();
    }
    expect(JSON.stringify(server.stats.rejections)).not.toContain('forged');
  });

  it('accepts csrfToken as an alias of csrf_token', async () => {
    const socket = await h.connect(server, NS, { auth: { csrfToken: await csrfToken(server) } });
    expect(socket.connected).toBe(true);
  });

  it('checks Origin against Host and allowedOrigins', async () => {
    const strict = await h.start({
      allowMissingOrigin: false,
      allowedOrigins: ['http://allowed.example'],
    });
    const token = await csrfToken(strict);
    const attempt = async (extraHeaders: Record<string, string>) => {
      const socket = h.socket(strict, NS, { auth: { csrf_token: token }, extraHeaders });
      const result = new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (e) => resolve(e.message));
      });
      socket.connect();
      const r = await result;
      socket.close();
      return r;
    };
    const host = new URL(strict.url).host;
    expect(await attempt({})).toBe('Connection rejected by server');
    expect(strict.stats.rejections.at(-1)?.reason).toBe('missing_origin');
    expect(await attempt({ origin: 'http://evil.example' })).toBe('Connection rejected by server');
    expect(strict.stats.rejections.at(-1)?.reason).toBe('origin_host_mismatch');
    expect(await attempt({ origin: `http://${host}` })).toBe('connected');
    expect(await attempt({ referer: `http://${host}/page.html` })).toBe('connected');
    expect(await attempt({ origin: 'http://allowed.example' })).toBe('connected');
  });

  it('requireCsrfCookie needs the csrf_token_<runtimeId> cookie to match', async () => {
    const strict = await h.start({ requireCsrfCookie: true });
    const token = await csrfToken(strict);
    const noCookie = h.socket(strict, NS, { auth: { csrf_token: token } });
    const err = connectError(noCookie);
    noCookie.connect();
    expect((await err).message).toBe('Connection rejected by server');
    expect(strict.stats.rejections.at(-1)?.reason).toBe('csrf_cookie');
    const ok = await h.connect(strict, NS, {
      auth: { csrf_token: token },
      extraHeaders: { cookie: `csrf_token_${strict.runtime.id}=${token}` },
    });
    expect(ok.connected).toBe(true);
  });

  it('works over long-polling too (CORS with credentials is on by default)', async () => {
    const socket = await h.connect(server, NS, { transports: ['polling'], withCredentials: true });
    expect(socket.io.engine.transport.name).toBe('polling');
    expect(okData(await request(socket, 'echo', { via: 'polling' }))).toEqual({
      echo: { via: 'polling' },
    });
    const handshake = await http(server.url + '/socket.io/?EIO=4&transport=polling', {
      headers: { Origin: 'http://localhost:3000' },
    });
    expect(handshake.status).toBe(200);
    expect(handshake.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(handshake.headers['access-control-allow-credentials']).toBe('true');
  });

  it('keeps connection stats', async () => {
    const before = server.stats.totalConnections;
    const socket = await h.connect(server, NS);
    expect(server.stats.totalConnections).toBe(before + 1);
    const open = server.stats.connections;
    const gone = new Promise<void>((resolve) =>
      server.io
        .of(NS)
        .sockets.get(socket.id as string)
        ?.once('disconnect', () => resolve()),
    );
    socket.disconnect();
    await gone;
    expect(server.stats.connections).toBe(open - 1);
  });
});

describe('manager API', () => {
  afterEach(() => {
    /* sockets are closed by the harness at the end */
  });

  it('emitTo/broadcast wrap data in the envelope; request() resolves with the ack', async () => {
    const socket = await h.connect(server, NS);
    const sid = socket.id as string;
    const got = once<Envelope>(socket, 'custom_event');
    expect(server.manager.emitTo(NS, sid, 'custom_event', null, 'cid-1')).toBe(true);
    const env = await got;
    expectEnvelope(env);
    expect(env).toMatchObject({
      handlerId: 'syncwire.reference.Manager',
      correlationId: 'cid-1',
      data: {},
    });
    expect(server.manager.emitTo(NS, 'no-such-sid', 'x', {})).toBe(false);

    const b = once<Envelope>(socket, 'bcast');
    server.manager.broadcast(NS, 'bcast', { n: 1 });
    expect((await b).data).toEqual({ n: 1 });

    socket.on('ask', (_env: Envelope, ack: (v: unknown) => void) => ack({ yes: true }));
    expect(await server.manager.request(NS, sid, 'ask', {}, 1000)).toEqual({ yes: true });
  });
});
