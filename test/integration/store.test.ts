import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { persistence } from '../../src/persist';
import { createReferenceServer } from '../../demo/server/reference-server.mjs';
import { createAgentZeroModel, type AgentZeroState } from '../../src/agent-zero';
import {
  createNamespacedClient,
  createSyncStore,
  type ClientOptions,
  type NamespacedClient,
  type SyncStore,
  type SyncStoreOptions,
  type SyncwireError,
} from '../../src/index';
import { createFaultProxy } from '../../chaos/fault-proxy.mjs';
import { countingClock } from '../helpers/counting-clock';
import { MODES, modeOptions, type RoutesMode } from '../helpers/server-mode';
import { fakeEnvironment, mapStorage } from '../helpers/store-harness';
import { waitFor } from '../helpers/wait';

interface Faults {
  dropPushes(n: number | boolean): void;
  injectGap(): void;
  stalePush(): number;
  duplicatePush(): number;
  bumpEpoch(): void;
  restart(o?: { downtimeMs?: number }): Promise<void> | void;
  stallHandshakes(on: boolean): void;
  silencePushes(on: boolean): void;
  blockTransports(on: boolean): void;
  failPolls(v: boolean | number): void;
  delayAcks(ms: number): void;
}
interface World {
  addChat(name: string): string;
  appendLog(ctx: string, item: { type?: string; heading?: string; content?: string }): number;
  notify(message: string): void;
  buildSnapshot(req: {
    context: string | null;
    log_from: number;
    notifications_from: number;
    timezone: string;
  }): Record<string, unknown>;
}
interface RefServer {
  url: string;
  runtime: { id: string };
  stats: {
    connections: number;
    stateRequests: number;
    polls: number;
    received: Map<string, number>;
    rejections: { reason: string }[];
  };
  faults: Faults;
  world: World;
  stateSync: { projections: Map<string, { seq: number }> };
  close(): Promise<void>;
}

let server: RefServer;
let client: NamespacedClient;
let store: SyncStore<AgentZeroState>;
let clock: ReturnType<typeof countingClock>;
let errors: SyncwireError[];
const env = fakeEnvironment();

const FAST = {
  handshakeTimeoutMs: 400,
  connectGraceMs: 500,
  pollIntervalMs: 100,
  backoffBaseMs: 100,
  backoffMaxMs: 400,
  livenessMs: 30000,
};

let mode: RoutesMode = 'classic';

/**
 * A store on a client for the server in the current mode, at `url` (the server's, or a proxy's
 * in front of it). Classic: WebSocket only. /api/: the default transports too (see
 * integration/client.test.ts: only long-polling tells a stale session from a down server).
 */
function setup(
  opts: Partial<SyncStoreOptions<AgentZeroState>> = {},
  url = server.url,
  socketOptions: ClientOptions['socketOptions'] = {},
) {
  clock = countingClock();
  errors = [];
  const routes = modeOptions(mode, url, {
    ...(mode === 'api' ? {} : { transports: ['websocket'] }),
    reconnectionDelay: 50,
    reconnectionDelayMax: 300,
    ...socketOptions,
  });
  client = createNamespacedClient('/state_sync', {
    url,
    clock,
    retry: { baseMs: 50, maxMs: 300 },
    ...routes.client,
  });
  client.onError((e) => void errors.push(e));
  const model = createAgentZeroModel({ timezone: 'UTC' });
  store = createSyncStore({
    client,
    ...model,
    ...routes.store,
    environment: env,
    timing: FAST,
    ...opts,
  });
  return model;
}

/** What a fresh full snapshot says, to compare the store's state with. */
const serverView = (context: string | null = null) =>
  server.world.buildSnapshot({ context, log_from: 0, notifications_from: 0, timezone: 'UTC' });
const converged = (context: string | null = null) => {
  const v = serverView(context);
  const s = store.state;
  return (
    JSON.stringify(s.contexts) === JSON.stringify(v.contexts) &&
    s.notifications_version === v.notifications_version &&
    s.log_version === v.log_version &&
    s.logs.length === (v.logs as unknown[]).length
  );
};

for (const routes of MODES)
  describe(`${routes} routes`, () => {
    beforeEach(async () => {
      mode = routes;
      server = await createReferenceServer({ routes });
    });
    afterEach(async () => {
      store?.stop();
      client?.dispose();
      await server.close();
    });

    describe('sync store against the reference server', () => {
      it('reaches HEALTHY with the server state and follows live changes', async () => {
        const model = setup();
        const chat = server.world.addChat('integration');
        model.selected = chat;
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        expect(server.stats.rejections).toEqual([]); // the first attempt was accepted, in either route layout
        expect(converged(chat)).toBe(true);
        expect(store.health).toMatchObject({
          epoch: server.runtime.id,
          source: 'push',
          staleMs: 0,
        });
        for (let i = 0; i < 5; i++) server.world.appendLog(chat, { heading: `line ${i}` });
        await waitFor(() => converged(chat));
        expect(store.state.logs.map((l) => l.heading).slice(-5)).toEqual([
          'line 0',
          'line 1',
          'line 2',
          'line 3',
          'line 4',
        ]);
      });

      it('drops stale and duplicate pushes and stays correct', async () => {
        setup();
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        server.world.notify('one');
        await waitFor(() => store.health.lastSeq >= 3);
        server.faults.duplicatePush();
        server.faults.stalePush();
        await waitFor(() => store.health.counters.pushesDropped >= 2);
        server.world.notify('two');
        await waitFor(() => converged());
        expect(store.mode).toBe('HEALTHY');
        expect(store.health.counters.resyncs).toBe(0);
      });

      it('resyncs on a seq gap (a lost push) and converges', async () => {
        setup();
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        server.faults.dropPushes(1);
        const seq = store.health.lastSeq;
        server.world.notify('lost in transit');
        // The server has built the push (its seq moved on) and lost it: it was never sent.
        await waitFor(() => [...server.stateSync.projections.values()].some((p) => p.seq > seq));
        expect(store.health.lastSeq).toBe(seq);
        server.world.notify('after the loss');
        await waitFor(
          () => store.health.counters.resyncs >= 1 && store.mode === 'HEALTHY' && converged(),
        );
      });

      it('resyncs when the runtime epoch changes', async () => {
        setup();
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        const before = store.health.epoch;
        server.faults.bumpEpoch();
        server.world.notify('new epoch');
        await waitFor(
          () => store.health.epoch === server.runtime.id && store.mode === 'HEALTHY' && converged(),
        );
        expect(store.health.epoch).not.toBe(before);
        expect(store.health.counters.resyncs).toBeGreaterThanOrEqual(1);
      });

      it('survives a restart that rotates tokens: reconnects, re-authenticates, full resync', async () => {
        setup();
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        const oldEpoch = store.health.epoch;
        await server.faults.restart({ downtimeMs: 100 });
        server.world.notify('after restart');
        await waitFor(
          () => store.mode === 'HEALTHY' && store.health.epoch === server.runtime.id && converged(),
          10_000,
        );
        expect(store.health.epoch).not.toBe(oldEpoch);
      });

      it('applies pushes that overtake the handshake ack instead of dropping them', async () => {
        setup({ timing: { ...FAST, handshakeTimeoutMs: 2000 } });
        server.faults.delayAcks(150);
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        expect(converged()).toBe(true);
        expect(store.health.counters.resyncs).toBe(0);
        expect(store.health.counters.pushesDropped).toBe(0);
        // The same race on a resync over a live connection (tagged pushes tell the periods apart).
        store.resync('switch');
        server.world.notify('during the resync');
        await waitFor(() => store.mode === 'HEALTHY' && converged());
        expect(store.health.counters.resyncs).toBe(1);
      });

      it('recovers after the Manager gave up reconnecting, once the server answers again', async () => {
        // socketOptions.reconnectionAttempts reached: socket.io-client stops for good and the
        // socket stays active. The store polls; the first poll answered makes the client connect.
        const proxy = await createFaultProxy({ target: server.url });
        try {
          setup({}, proxy.url, {
            reconnectionDelay: 50,
            reconnectionDelayMax: 100,
            reconnectionAttempts: 2,
          });
          await store.start();
          await waitFor(() => store.mode === 'HEALTHY');
          proxy.refuse(true);
          proxy.cut({ mode: 'rst' });
          await waitFor(
            () =>
              errors.some(
                (e) =>
                  (e.details as { reason?: string } | undefined)?.reason === 'reconnect_failed',
              ),
            10_000,
          );
          await waitFor(() => store.mode === 'DEGRADED'); // after the grace period, polling (refused too)
          proxy.refuse(false);
          await waitFor(() => store.mode === 'HEALTHY', 10_000);
          expect(converged()).toBe(true);
        } finally {
          store.stop();
          client.dispose();
          await proxy.close();
        }
      });

      it('a stalled handshake degrades to polling; recovery stops the polling', async () => {
        setup();
        server.faults.stallHandshakes(true);
        await store.start();
        await waitFor(() => store.mode === 'DEGRADED');
        expect(store.health.lastError?.code).toBe('TIMEOUT');
        await waitFor(() => store.health.source === 'poll' && converged());
        server.world.notify('while degraded');
        await waitFor(() => converged());
        server.faults.stallHandshakes(false);
        await waitFor(() => store.mode === 'HEALTHY', 10_000);
        // A poll sent just before the period opened may still be on its way to the server;
        // what must hold is that none is sent after.
        await new Promise((r) => setTimeout(r, 100));
        const polls = server.stats.polls;
        await new Promise((r) => setTimeout(r, 600));
        expect(server.stats.polls).toBe(polls);
      });

      it('with no WebSocket at all, state arrives through polling, then HEALTHY once unblocked', async () => {
        setup();
        server.faults.blockTransports(true);
        await store.start();
        await waitFor(() => store.mode === 'DEGRADED');
        await waitFor(() => store.health.source === 'poll' && converged());
        server.faults.blockTransports(false);
        await waitFor(() => store.mode === 'HEALTHY', 10_000);
        expect(converged()).toBe(true);
      });

      it('notices a silent push channel and gets fresh state anyway', async () => {
        setup({ timing: { ...FAST, livenessMs: 500 } });
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        server.faults.silencePushes(true);
        server.world.notify('nobody hears this push');
        await waitFor(() => converged(), 8000);
        expect(store.mode).not.toBe('HEALTHY'); // it knows the channel is not live
        server.faults.silencePushes(false);
        await waitFor(() => store.mode === 'HEALTHY', 10_000);
      });

      it('a deterministic error puts the store in FAILED with bounded requests', async () => {
        setup({
          payload: () => ({
            context: null,
            log_from: 0,
            notifications_from: 0,
            timezone: 'Mars/Olympus_Mons',
          }),
        });
        await store.start();
        await waitFor(() => store.mode === 'FAILED');
        expect(store.health.lastError?.code).toBe('HANDSHAKE_FAILED');
        expect(store.health.lastError?.message).toContain('(INVALID_REQUEST)');
        const requests = server.stats.stateRequests;
        await new Promise((r) => setTimeout(r, 1000));
        expect(server.stats.stateRequests).toBe(requests);
        expect(server.stats.polls).toBe(0);
      });

      it('pauses polling while hidden and offline, and polls at once when back', async () => {
        setup();
        server.faults.blockTransports(true);
        await store.start();
        await waitFor(() => store.mode === 'DEGRADED' && server.stats.polls > 0);
        env.set({ hidden: true });
        await new Promise((r) => setTimeout(r, 150));
        const hiddenPolls = server.stats.polls;
        await new Promise((r) => setTimeout(r, 500));
        expect(server.stats.polls).toBe(hiddenPolls);
        env.set({ hidden: false });
        await waitFor(() => server.stats.polls > hiddenPolls, 1000);
        env.set({ online: false });
        await new Promise((r) => setTimeout(r, 150));
        const offlinePolls = server.stats.polls;
        await new Promise((r) => setTimeout(r, 500));
        expect(server.stats.polls).toBe(offlinePolls);
        env.set({ online: true });
        await waitFor(() => server.stats.polls > offlinePolls, 1000);
      });

      it('a namespace the server does not know: FAILED with UNKNOWN_NAMESPACE, and no polling', async () => {
        clock = countingClock();
        errors = [];
        const routes = modeOptions(
          mode,
          server.url,
          mode === 'api' ? {} : { transports: ['websocket'] },
        );
        client = createNamespacedClient('/state_sink', {
          url: server.url,
          clock,
          ...routes.client,
        });
        client.onError((e) => void errors.push(e));
        store = createSyncStore({
          client,
          ...createAgentZeroModel({ timezone: 'UTC' }),
          ...routes.store,
          environment: env,
          timing: FAST,
        });
        await store.start();
        await waitFor(() => store.mode === 'FAILED');
        expect(store.health.lastError).toEqual({
          code: 'UNKNOWN_NAMESPACE',
          message: `the server at ${server.url} does not know namespace /state_sink`,
        });
        // Nothing left to drive a poll or a retry: no timer of the client's or the store's.
        await waitFor(() => clock.pending() === 0);
        expect(server.stats.polls).toBe(0);
      });

      it('connects refused while /poll works: DEGRADED, polling, with the refusal in health.lastError', async () => {
        await server.close();
        server = await createReferenceServer({ allowMissingOrigin: false, routes: mode });
        setup({}, server.url, { extraHeaders: { origin: 'http://evil.example' } });
        await store.start();
        await waitFor(() => store.mode === 'DEGRADED' && store.health.source === 'poll');
        expect(store.health.lastError?.code).toBe('CONNECT_ERROR');
        expect(store.health.lastError?.message).toContain(
          `connect to /state_sync at ${server.url} failed`,
        );
      });

      it('stop() leaves no timer, poll or request behind', async () => {
        setup();
        server.faults.stallHandshakes(true);
        await store.start();
        await waitFor(() => store.mode === 'DEGRADED' && server.stats.polls > 1);
        store.stop();
        client.dispose();
        expect(clock.pending()).toBe(0);
        const polls = server.stats.polls;
        const requests = server.stats.stateRequests;
        await new Promise((r) => setTimeout(r, 500));
        expect(server.stats.polls).toBe(polls);
        expect(server.stats.stateRequests).toBe(requests);
        await waitFor(() => server.stats.connections === 0);
      });
    });

    describe('warm start', () => {
      it('shows the cached state before the network answers, then resumes with the same epoch', async () => {
        const dbName = `syncwire-test-${Math.random()}`;
        setup({ persist: persistence({ dbName, throttleMs: 10 }) });
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        await new Promise((r) => setTimeout(r, 50)); // let the throttled save land
        const saved = store.state;
        store.stop();
        client.dispose();

        setup({ persist: persistence({ dbName }) });
        server.faults.stallHandshakes(true); // the network stays silent: only the cache can fill the page
        await store.start();
        expect(store.health.source).toBe('cache');
        expect(store.state.contexts).toEqual(saved.contexts);
        server.faults.stallHandshakes(false);
        await waitFor(() => store.mode === 'HEALTHY' || store.mode === 'DEGRADED');
        await waitFor(() => store.mode === 'HEALTHY', 10_000);
        expect(store.health.epoch).toBe(server.runtime.id);
      });

      it('broken storage is reported and syncing carries on', async () => {
        const storage = mapStorage();
        storage.broken = true;
        setup({ persist: persistence({ storage }) });
        await store.start();
        await waitFor(() => store.mode === 'HEALTHY');
        expect(errors.some((e) => e.code === 'STORAGE_ERROR')).toBe(true);
        expect(converged()).toBe(true);
      });
    });
  });

describe('start() twice, against the reference server', () => {
  beforeEach(async () => {
    mode = 'classic';
    server = await createReferenceServer();
  });
  afterEach(async () => {
    store?.stop();
    client?.dispose();
    await server.close();
  });

  it('one state_request per connection, however many times start() was called', async () => {
    setup();
    void store.start();
    await store.start(); // the Alpine plugin's start plus the page's own
    await waitFor(() => store.mode === 'HEALTHY');
    // A marker on the same connection, after the handshake: once the server has answered it,
    // everything the client sent before it (a second state_request included) has been counted.
    const marker = await client.request('marker', {}, { correlationId: 'marker-1' }).then(
      () => 'answered',
      (e: SyncwireError) => e.code,
    );
    expect(marker).not.toBe('TIMEOUT');
    expect(server.stats.received.get('marker-1')).toBe(1);
    expect(server.stats.stateRequests).toBe(1); // not 2 (one handshake per connect listener)
    expect(store.health.counters.handshakes).toBe(1);
  });
});
