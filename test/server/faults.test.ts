// Every fault the client must survive, observed from a raw socket.io-client.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../helpers/wait';
import {
  Harness,
  STATE_REQUEST,
  connectError,
  csrfToken,
  http,
  once,
  request,
  syncedSocket,
  wrap,
  type ReferenceServer,
} from './helpers';

const h = new Harness();
let server: ReferenceServer;

beforeEach(async () => {
  server = await h.start();
});
afterEach(() => h.cleanup());

const chatId = () => [...server.world.chats.keys()][0]!;
const projection = (sid: string | undefined) => server.stateSync.projections.get(sid as string);

describe('push faults', () => {
  it('dropPushes(n): the pushes are built (seq advances) but lost, so the client sees a gap', async () => {
    const { socket, pushes } = await syncedSocket(h, server);
    server.faults.dropPushes(1);
    expect(server.faults.state().dropPushes).toBe(1);
    server.world.notify('lost in transit');
    await vi.waitFor(() => expect(projection(socket.id)?.seq).toBe(3), { interval: 5 });
    server.world.notify('arrives');
    const next = await pushes.next();
    expect(pushes.seqs).toEqual([2, 4]);
    // Cursors advanced with the lost push: only the second notification is in the delta.
    expect(next.data.snapshot.notifications.map((n) => n.message)).toEqual(['arrives']);
  });

  it('dropPushes(true) drops until dropPushes(0)', async () => {
    const { socket, pushes } = await syncedSocket(h, server);
    server.faults.dropPushes(true);
    server.world.notify('a');
    await vi.waitFor(() => expect(projection(socket.id)?.seq).toBe(3), { interval: 5 });
    server.world.notify('b');
    await vi.waitFor(() => expect(projection(socket.id)?.seq).toBe(4), { interval: 5 });
    server.faults.dropPushes(0);
    server.world.notify('c');
    await pushes.next();
    expect(pushes.seqs).toEqual([2, 5]);
  });

  it('injectGap(): the next push skips one seq number', async () => {
    const { pushes } = await syncedSocket(h, server);
    server.faults.injectGap();
    server.world.notify('x');
    expect((await pushes.next()).data.seq).toBe(4);
    server.world.notify('y');
    expect((await pushes.next()).data.seq).toBe(5);
  });

  it('stalePush(): re-sends an older push (older seq, old snapshot)', async () => {
    const { pushes, first } = await syncedSocket(h, server);
    server.world.notify('x');
    await pushes.next();
    expect(server.faults.stalePush()).toBe(1);
    const stale = await pushes.next();
    expect(stale.data.seq).toBe(2);
    expect(stale).toEqual(first);
  });

  it('stalePush() after a single push sends it again with seq - 1', async () => {
    const { pushes, first } = await syncedSocket(h, server);
    server.faults.stalePush();
    const stale = await pushes.next();
    expect(stale.data.seq).toBe(1);
    expect(stale.data.snapshot).toEqual(first.data.snapshot);
  });

  it('duplicatePush(): re-sends the last push unchanged', async () => {
    const { pushes, first } = await syncedSocket(h, server);
    expect(server.faults.duplicatePush()).toBe(1);
    expect(await pushes.next()).toEqual(first);
  });

  it('bumpEpoch(): new runtime id on the next push, nobody disconnected, tokens still valid', async () => {
    const token = await csrfToken(server);
    const { socket, pushes, first } = await syncedSocket(h, server);
    const oldEpoch = first.data.runtime_epoch;
    const newEpoch = server.faults.bumpEpoch();
    expect(newEpoch).not.toBe(oldEpoch);
    server.world.notify('x');
    const next = await pushes.next();
    expect(next.data).toMatchObject({ runtime_epoch: newEpoch, seq: 3 });
    expect(socket.connected).toBe(true);
    const ack = await request(socket, 'state_request', STATE_REQUEST);
    expect(ack.results[0]).toMatchObject({ data: { runtime_epoch: newEpoch } });
    const other = await h.connect(server, '/dev_websocket_test', { auth: { csrf_token: token } });
    expect(other.connected).toBe(true);
  });

  it('silencePushes(): no pushes and no seq movement; afterwards it resumes without a gap', async () => {
    const { socket, pushes } = await syncedSocket(h, server);
    server.faults.silencePushes(true);
    server.world.notify('during 1');
    server.world.notify('during 2');
    // The throttled flush has run (and held the push back) ...
    await waitFor(() => projection(socket.id)?.held === true);
    // ... and a round trip on the socket: whatever the server sent it before the ack has arrived.
    await request(socket, 'state_request', { ...STATE_REQUEST, log_from: -1 });
    expect(pushes.seqs).toEqual([2]);
    expect(projection(socket.id)?.seq).toBe(2);
    server.faults.silencePushes(false);
    const resumed = await pushes.next();
    expect(resumed.data.seq).toBe(3);
    expect(resumed.data.snapshot.notifications.map((n) => n.message)).toEqual([
      'during 1',
      'during 2',
    ]);
  });
});

describe('handshake and transport faults', () => {
  it('stallHandshakes(): state_request is neither processed nor acked; other events still work', async () => {
    const socket = await h.connect(server, '/state_sync');
    server.faults.stallHandshakes(true);
    await expect(
      socket.timeout(60).emitWithAck('state_request', wrap(STATE_REQUEST, 'stalled-1')),
    ).rejects.toThrow();
    expect(server.stats.received.get('stalled-1')).toBe(1);
    expect(server.stats.stateRequests).toBe(0);
    expect(server.stateSync.projections.size).toBe(0);
    server.faults.stallHandshakes(false);
    const ack = await request(socket, 'state_request', STATE_REQUEST);
    expect(ack.results[0]?.ok).toBe(true);
  });

  it('restart(): transport close, reconnect, old token rejected, fresh token accepted, new identities', async () => {
    const oldToken = await csrfToken(server);
    const chat = chatId();
    const { socket, first } = await syncedSocket(h, server, { ...STATE_REQUEST, context: chat });
    const oldRuntime = server.runtime.id;
    const closed = once<string>(socket, 'disconnect');
    const rejected = connectError(socket);
    await server.faults.restart();
    expect(await closed).toBe('transport close');
    // The client reconnects by itself with its old token and is refused.
    const err = await rejected;
    expect(err.message).toBe('Connection rejected by server');
    expect(server.stats.rejections.at(-1)?.reason).toBe('csrf_invalid');
    expect(server.runtime.id).not.toBe(oldRuntime);
    expect(server.stateSync.projections.size).toBe(0);

    const fresh = (await (await fetch(server.url + '/csrf_token')).json()) as {
      token: string;
      runtime_id: string;
    };
    expect(fresh.runtime_id).toBe(server.runtime.id);
    expect(fresh.token).not.toBe(oldToken);
    socket.auth = { csrf_token: fresh.token };
    const connected = once(socket, 'connect');
    socket.connect();
    await connected;
    const ack = await request(socket, 'state_request', { ...STATE_REQUEST, context: chat });
    expect(ack.results[0]).toMatchObject({ data: { runtime_epoch: server.runtime.id } });
    const push = await once<{
      data: {
        seq: number;
        snapshot: { log_guid: string; notifications_guid: string; logs: unknown[] };
      };
    }>(socket, 'state_push');
    expect(push.data.seq).toBe(2);
    expect(push.data.snapshot.log_guid).not.toBe(first.data.snapshot.log_guid);
    expect(push.data.snapshot.notifications_guid).not.toBe(first.data.snapshot.notifications_guid);
    expect(push.data.snapshot.logs).toHaveLength(first.data.snapshot.logs.length); // content kept
  });

  it('restart({ downtimeMs }): HTTP answers 503 and Engine.IO refuses until the downtime ends', async () => {
    const token = await csrfToken(server);
    const done = server.faults.restart({ downtimeMs: 150 });
    expect(server.faults.state().down).toBe(true);
    expect((await http(server.url + '/csrf_token')).status).toBe(503);
    expect(
      (
        await http(server.url + '/poll', {
          method: 'POST',
          headers: { 'X-CSRF-Token': token },
          body: {},
        })
      ).status,
    ).toBe(503);
    const socket = h.socket(server, '/dev_websocket_test', {
      reconnection: false,
      auth: { csrf_token: 'x' },
    });
    const err = connectError(socket);
    socket.connect();
    expect((await err).message).toBe('websocket error');
    await done;
    expect(server.faults.state().down).toBe(false);
    const fresh = await h.connect(server, '/dev_websocket_test');
    expect(fresh.connected).toBe(true);
  });

  it('blockTransports(): open connections close, new ones fail, HTTP keeps working, then it recovers', async () => {
    const socket = await h.connect(server, '/dev_websocket_test');
    const closed = once<string>(socket, 'disconnect');
    const failed = new Promise<void>((resolve) =>
      socket.io.once('reconnect_error', () => resolve()),
    );
    server.faults.blockTransports(true);
    expect(await closed).toBe('transport close');
    await failed; // a reconnect attempt was refused
    expect(socket.connected).toBe(false);
    const token = await csrfToken(server);
    expect(
      (
        await http(server.url + '/poll', {
          method: 'POST',
          headers: { 'X-CSRF-Token': token },
          body: {},
        })
      ).status,
    ).toBe(200);
    const back = once(socket, 'connect');
    server.faults.blockTransports(false);
    await back;
    expect((await request(socket, 'echo', { ok: 1 })).results[0]).toMatchObject({ ok: true });
  });

  it('blockTransports() also refuses long-polling', async () => {
    server.faults.blockTransports(true);
    const socket = h.socket(server, '/dev_websocket_test', {
      transports: ['polling'],
      reconnection: false,
      auth: { csrf_token: await csrfToken(server) },
    });
    const err = connectError(socket);
    socket.connect();
    expect((await err).message).toBe('xhr poll error');
  });
});

describe('poll faults and reset', () => {
  const poll = async (token: string) =>
    http(server.url + '/poll', {
      method: 'POST',
      headers: { 'X-CSRF-Token': token },
      body: STATE_REQUEST,
    });

  it('failPolls(true) fails every poll; failPolls(n) the next n', async () => {
    const token = await csrfToken(server);
    server.faults.failPolls(true);
    expect((await poll(token)).status).toBe(500);
    expect((await poll(token)).status).toBe(500);
    server.faults.failPolls(2);
    expect([
      (await poll(token)).status,
      (await poll(token)).status,
      (await poll(token)).status,
    ]).toEqual([500, 500, 200]);
    expect(server.faults.state().failPolls).toBe(false);
  });

  it('slowPolls(ms) delays the answer', async () => {
    const token = await csrfToken(server);
    server.faults.slowPolls(300);
    let answered = false;
    const slow = poll(token).then((res) => {
      answered = true;
      return res;
    });
    // A request sent after the poll is answered before it (an undelayed poll takes a few ms).
    await csrfToken(server);
    expect(answered).toBe(false);
    expect((await slow).status).toBe(200);
  });

  it('reset() clears every fault', async () => {
    server.faults.dropPushes(true);
    server.faults.stallHandshakes(true);
    server.faults.silencePushes(true);
    server.faults.blockTransports(true);
    server.faults.failPolls(true);
    server.faults.slowPolls(100);
    server.faults.reset();
    expect(server.faults.state()).toEqual({
      runtimeId: server.runtime.id,
      dropPushes: 0,
      stallHandshakes: false,
      delayAcks: 0,
      silencePushes: false,
      blockTransports: false,
      failPolls: false,
      slowPolls: 0,
      down: false,
    });
    const { pushes } = await syncedSocket(h, server);
    server.world.notify('x');
    expect((await pushes.next()).data.seq).toBe(3);
  });
});
