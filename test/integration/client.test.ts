import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import {
  createClientRegistry,
  createNamespacedClient,
  type ClientOptions,
  type ConnectInfo,
  type NamespacedClient,
  type ServerEnvelope,
  type SyncwireError,
} from '../../src/index';
import { requestStream } from '../../src/stream';
import { MODES, modeOptions, type RoutesMode } from '../helpers/server-mode';
import { waitFor } from '../helpers/wait';

interface RefServer {
  url: string;
  runtime: { id: string };
  stats: { connections: number; rejections: { reason: string }[]; received: Map<string, number> };
  faults: { restart(o?: { downtimeMs?: number }): Promise<void> | void; reset(): void };
  close(): Promise<void>;
}

let server: RefServer;
let mode: RoutesMode = 'classic';
const clients: NamespacedClient[] = [];
/**
 * A client for the server in the current mode. Classic: WebSocket only (fast, deterministic).
 * /api/: the default transports, since a refused WebSocket handshake has no HTTP status and
 * only long-polling tells a stale session (403) from a server that is down.
 */
const make = (ns = '/dev_websocket_test', opts: ClientOptions = {}) => {
  const { socketOptions, ...rest } = opts;
  const transports = mode === 'api' ? {} : { transports: ['websocket'] };
  const c = createNamespacedClient(ns, {
    url: server.url,
    ...modeOptions(mode, server.url, { ...transports, ...socketOptions }).client,
    ...rest,
  });
  clients.push(c);
  return c;
};

for (const routes of MODES)
  describe(`${routes} routes`, () => {
    beforeEach(async () => {
      mode = routes;
      server = await createReferenceServer({ routes });
    });
    afterEach(async () => {
      clients.splice(0).forEach((c) => c.dispose());
      await server.close();
    });

    describe('client against the reference server', () => {
      it('connects lazily with the default /csrf_token auth and gets an aggregated ack', async () => {
        const c = make();
        expect(server.stats.connections).toBe(0);
        const res = await c.request('echo', { hello: 'world' }, { correlationId: 'req-1' });
        expect(res).toEqual({
          correlationId: 'req-1',
          results: [expect.objectContaining({ ok: true, data: { echo: { hello: 'world' } } })],
        });
        expect(typeof res.results[0]?.handlerId).toBe('string');
        expect(c.csrfToken).toMatch(/.{20,}/);
      });

      it('connects on the first attempt, no connect rejected, with the default auth and with an auth function', async () => {
        const c = make();
        await c.connect();
        expect(server.stats.rejections).toEqual([]);
        // An auth function that gets the token itself: it runs before the socket opens, so the
        // cookies its fetch sets (the /api/ layout's session) are there for the handshake.
        const routes = modeOptions(mode, server.url);
        const fetchToken = routes.client.fetch ?? fetch;
        const tokenPath = mode === 'api' ? '/api/csrf_token' : '/csrf_token';
        const own = createNamespacedClient('/dev_websocket_test', {
          url: server.url,
          ...routes.client,
          auth: async () => ({
            csrf_token: (
              (await (await fetchToken(server.url + tokenPath)).json()) as { token: string }
            ).token,
          }),
        });
        clients.push(own);
        const res = await own.request('echo', { first: 'attempt' });
        expect(res.results[0]?.ok).toBe(true);
        expect(server.stats.rejections).toEqual([]);
      });

      // The classic layout checks the token at the namespace; the /api/ one refuses the handshake
      // itself (HTTP 403, see 'origin check').
      if (routes === 'classic')
        it('a rejected connect says where, and that the server gave no reason', async () => {
          const c = make('/dev_websocket_test', { auth: { csrf_token: 'not-a-token' } });
          const err = (await c.connect().catch((e: unknown) => e)) as SyncwireError;
          expect(err.code).toBe('CONNECT_ERROR');
          expect(err.message).toBe(
            `connect to /dev_websocket_test at ${server.url} failed: the server rejected it: Connection rejected by server; ` +
              'the server gives no reason (Agent Zero: a stale CSRF token, a cookie it did not get, or the Origin)',
          );
          expect(err.details).toMatchObject({
            url: server.url,
            namespace: '/dev_websocket_test',
            rejected: true,
          });
        });

      it('aggregates several handlers and passes server errors through as items', async () => {
        const c = make();
        const multi = await c.request('multi', {});
        expect(multi.results.map((r) => r.data)).toEqual([{ from: 'A' }, { from: 'B' }]);
        const failed = await c.request('fail', {});
        expect(failed.results[0]).toMatchObject({ ok: false, error: { code: 'HANDLER_ERROR' } });
        const none = await c.request('nobody_listens', {});
        expect(none.results[0]).toMatchObject({ ok: false, error: { code: 'NO_HANDLERS' } });
      });

      it('emit carries its correlationId to the reply event', async () => {
        const c = make();
        const replies: ServerEnvelope[] = [];
        c.on('echo_reply', (env) => void replies.push(env));
        await c.emit('echo_emit', { n: 1 }, { correlationId: 'emit-abc' });
        await waitFor(() => replies.length === 1);
        expect(replies[0]).toMatchObject({ correlationId: 'emit-abc', data: { echo: { n: 1 } } });
        expect(replies[0]?.eventId).toMatch(/^[0-9a-f-]{36}$/);
        expect(Object.isFrozen(replies[0])).toBe(true);
      });

      it('times out a slow request, and a delayed one within its timeout resolves', async () => {
        const c = make();
        const slow = await c
          .request('delayed', { delayMs: 1000 }, { timeoutMs: 100 })
          .catch((e: SyncwireError) => e);
        expect((slow as SyncwireError).code).toBe('TIMEOUT');
        const ok = await c.request('delayed', { delayMs: 50 }, { timeoutMs: 2000 });
        expect(ok.results[0]?.data).toEqual({ delayedMs: 50 });
      });

      it('server_restart sent inside the connect handler reaches a subscriber registered before connect()', async () => {
        const c = make();
        const seen: string[] = [];
        const infos: ConnectInfo[] = [];
        c.on('server_restart', (env) => void seen.push(String(env.data.runtimeId)));
        c.onConnect((i) => void infos.push(i));
        await c.connect();
        expect(seen).toEqual([server.runtime.id]);
        expect(infos).toEqual([
          { firstConnect: true, runtimeChanged: false, runtimeId: server.runtime.id },
        ]);
      });

      it('rejects an unknown namespace with the terminal UNKNOWN_NAMESPACE', async () => {
        const c = make('/nope');
        const err = (await c.connect().catch((e: unknown) => e)) as SyncwireError;
        expect(err.code).toBe('UNKNOWN_NAMESPACE');
        expect(err.details).toEqual({ code: 'UNKNOWN_NAMESPACE', namespace: '/nope' });
        const again = (await c.request('echo', {}).catch((e: unknown) => e)) as SyncwireError;
        expect(again.code).toBe('UNKNOWN_NAMESPACE');
      });

      it('answers a server-initiated request through its subscribers', async () => {
        const c = make();
        c.on('client_question', (env) => ({ answer: `${String(env.data.question)}!` }));
        const res = await c.request('server_request', { question: 'ping' });
        expect(res.results[0]?.data).toEqual({
          answer: {
            correlationId: expect.any(String) as string,
            results: [{ ok: true, data: { answer: 'ping!' } }],
          },
        });
      });

      it('streams a reply, skipping duplicate and older seq and ignoring late events', async () => {
        const c = make();
        const states: string[] = [];
        const seqs: (number | undefined)[] = [];
        for await (const ev of requestStream(
          c,
          'stream_start',
          { count: 4, duplicate: true, outOfOrder: true, lateAfterFinal: true },
          { replyEvent: 'stream_event' },
        )) {
          states.push(ev.state);
          seqs.push(ev.seq);
        }
        expect(states.at(-1)).toBe('final');
        expect(seqs.filter((s, i) => seqs.indexOf(s) !== i)).toEqual([]); // no duplicates
        const deltas = seqs.slice(0, -1) as number[];
        expect([...deltas].sort((a, b) => a - b)).toEqual(deltas); // never goes backwards
      });

      it('ends a stream on an error state and on an aborted one', async () => {
        const c = make();
        const got: string[] = [];
        for await (const ev of requestStream(
          c,
          'stream_start',
          { count: 5, failAt: 3 },
          { replyEvent: 'stream_event' },
        ))
          got.push(ev.state);
        expect(got).toEqual(['delta', 'delta', 'error']);
        const aborted: string[] = [];
        for await (const ev of requestStream(
          c,
          'stream_start',
          { count: 5, abort: true },
          { replyEvent: 'stream_event' },
        ))
          aborted.push(ev.state);
        expect(aborted.at(-1)).toBe('aborted');
      });

      it('after a server-side transport drop: pending requests settle, the client reconnects, subscriptions survive', async () => {
        const c = make();
        const fanouts: unknown[] = [];
        c.on('fanout_event', (env) => void fanouts.push(env.data));
        await c.connect();
        const disconnects: string[] = [];
        c.onDisconnect((r) => void disconnects.push(r));
        const pending = c
          .request('delayed', { delayMs: 3000 }, { timeoutMs: 5000 })
          .catch((e: SyncwireError) => e.code);
        await new Promise((r) => setTimeout(r, 20)); // let the request reach the server first
        await c.emit('disconnect_me', {});
        expect(await pending).toBe('DISCONNECTED');
        expect(disconnects).toEqual(['transport close']);
        await waitFor(() => c.isConnected(), 8000);
        await c.request('fanout', { hi: 1 });
        await waitFor(() => fanouts.length === 1);
        expect(fanouts).toEqual([{ hi: 1 }]);
      });

      it('re-authenticates after a restart that invalidates every token', async () => {
        const c = make('/dev_websocket_test', { retry: { baseMs: 50, maxMs: 200 } });
        const infos: ConnectInfo[] = [];
        const errors: SyncwireError[] = [];
        c.onConnect((i) => void infos.push(i));
        c.onError((e) => void errors.push(e));
        await c.connect();
        const oldToken = c.csrfToken;
        const oldRuntime = server.runtime.id;
        await server.faults.restart();
        await waitFor(() => infos.length === 2, 10_000);
        expect(server.runtime.id).not.toBe(oldRuntime);
        expect(c.csrfToken).not.toBe(oldToken);
        expect(infos[1]).toEqual({
          firstConnect: false,
          runtimeChanged: true,
          runtimeId: server.runtime.id,
        });
        // Classic: the namespace rejects the old token. /api/: the Engine.IO handshake refuses the old session (HTTP 403).
        const refused = (e: SyncwireError) =>
          (e.details as { rejected: boolean; status?: number }).rejected ||
          (e.details as { status?: number }).status === 403;
        expect(errors.some((e) => e.code === 'CONNECT_ERROR' && refused(e))).toBe(true);
        expect(server.stats.rejections.map((r) => r.reason)).toContain(
          mode === 'api' ? 'session_missing' : 'csrf_invalid',
        );
        const res = await c.request('echo', { after: 'restart' });
        expect(res.results[0]?.ok).toBe(true);
      });

      it('refuses bad input before anything reaches the wire', async () => {
        const c = make('/dev_websocket_test', { maxPayloadBytes: 2048 });
        const codes = await Promise.all(
          [
            c.emit('Bad Name', {}),
            c.request('echo', []),
            c.request('echo', { big: 'x'.repeat(4096) }),
            c.request('echo', {}, { timeoutMs: -1 }),
          ].map((p) =>
            p.then(
              () => 'ok',
              (e: SyncwireError) => e.code,
            ),
          ),
        );
        expect(codes).toEqual([
          'VALIDATION_ERROR',
          'VALIDATION_ERROR',
          'PAYLOAD_TOO_LARGE',
          'VALIDATION_ERROR',
        ]);
        expect(server.stats.connections).toBe(0);
        expect(server.stats.received.size).toBe(0);
      });

      it('dispose() closes the connection and leaves the server with none', async () => {
        const c = make();
        await c.connect();
        await waitFor(() => server.stats.connections === 1);
        c.dispose();
        await waitFor(() => server.stats.connections === 0);
      });
    });

    describe('registry', () => {
      it('shares one client per namespace and url, and isolates registries', async () => {
        const a = createClientRegistry();
        const b = createClientRegistry();
        const opts = { url: server.url, ...modeOptions(mode, server.url).client };
        const c1 = a.get('/dev_websocket_test', opts);
        expect(a.get('dev_websocket_test', opts)).toBe(c1);
        expect(b.get('/dev_websocket_test', opts)).not.toBe(c1);
        expect(() => a.get('/dev_websocket_test', { ...opts, requestTimeoutMs: 5 })).toThrow(
          /other options \(they differ in requestTimeoutMs\)/,
        );
        await c1.connect();
        a.dispose();
        expect(c1.disposed).toBe(true);
        expect(a.get('/dev_websocket_test', opts)).not.toBe(c1);
        a.dispose();
        b.dispose();
      });
    });

    describe('origin check', () => {
      it('a page from another origin is rejected by the server', async () => {
        await server.close();
        server = await createReferenceServer({ allowMissingOrigin: false, routes: mode });
        const c = make('/dev_websocket_test', {
          socketOptions: {
            transports: ['polling'],
            extraHeaders: { origin: 'http://evil.example' },
          },
        });
        const err = (await c.connect().catch((e: unknown) => e)) as SyncwireError;
        expect(err.code).toBe('CONNECT_ERROR');
        // Classic: the namespace refuses it. /api/: the Engine.IO handshake does, with HTTP 403.
        expect(err.message).toContain(
          mode === 'api' ? 'answered HTTP 403' : 'Connection rejected by server',
        );
        expect(err.message).toContain(`/dev_websocket_test at ${server.url}`);
        expect(server.stats.rejections.map((r) => r.reason)).toContain('origin_host_mismatch');
      });
    });
  });

describe('a server that cannot be reached', () => {
  it('fails with CONNECT_ERROR naming the URL, the namespace and the cause', async () => {
    const down = await createReferenceServer();
    const url = down.url;
    await down.close(); // nothing listens on that port now
    const c = createNamespacedClient('/dev_websocket_test', {
      url,
      auth: { csrf_token: 't' },
      connectTimeoutMs: 5000,
      socketOptions: { transports: ['polling'], reconnection: false },
    });
    clients.push(c);
    const err = (await c.connect().catch((e: unknown) => e)) as SyncwireError;
    expect(err.code).toBe('CONNECT_ERROR');
    expect(err.message).toMatch(
      new RegExp(
        `^connect to /dev_websocket_test at ${url} failed: server unreachable at ${url}/socket\\.io/ \\(xhr poll error`,
      ),
    );
    c.dispose();
  });
});
