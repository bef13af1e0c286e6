// Tabs of one origin sharing a store (createSharedSyncStore) in one test: each tab has its own
// client on fake sockets; they meet over a fake BroadcastChannel and fake Web Locks, on one
// fake clock.
import {
  createNamespacedClient,
  type EnvironmentSource,
  type SyncwireError,
} from '../../src/index';
import type { ChannelLike } from '../../src/tabs/channel';
import { createSharedSyncStore, type SharedSyncStore, type TabsEnvironment } from '../../src/tabs';
import { createFakeBus } from './fake-bus';
import { createFakeClock, flush } from './fake-clock';
import { createFakeLocks } from './fake-locks';
import { envelope, fakeSocketFactory } from './fake-socket';
import { fakeEnvironment, fakeFetch } from './store-harness';

/** What the tabs share: time, the channel, the locks, the page environment and fetch. */
export function tabsWorld() {
  return {
    clock: createFakeClock(),
    bus: createFakeBus(),
    locks: createFakeLocks(),
    env: fakeEnvironment(),
    fetch: fakeFetch(),
  };
}
export type TabsWorld = ReturnType<typeof tabsWorld>;

/** Options of {@link sharedTab}: the store's state and payload, and the tab environment. */
export interface SharedTabOptions<S> {
  initialState: S;
  payload?: (state: S) => object;
  tabs?: TabsEnvironment;
  /** The tab's page (visibility, leaving). @default the world's, shared by every tab */
  environment?: EnvironmentSource;
}

/** Tab `name` of world `w`, with a shared store on channel 'app' (not started). */
export function sharedTab<S>(w: TabsWorld, name: string, options: SharedTabOptions<S>) {
  const factory = fakeSocketFactory();
  const errors: SyncwireError[] = [];
  const client = createNamespacedClient('/state_sync', {
    url: 'http://127.0.0.1:9',
    auth: { csrf_token: 'tok-1' },
    clock: w.clock,
    random: () => 0.5,
    socketFactory: factory,
    logger: { warn: false },
  });
  client.onError((e) => void errors.push(e));
  const ports: ChannelLike[] = [];
  const open = (n: string) => {
    const port = w.bus.open(n);
    ports.push(port);
    return port;
  };
  const store: SharedSyncStore<S> = createSharedSyncStore<S>({
    channel: 'app',
    client,
    initialState: options.initialState,
    ...(options.payload && { payload: options.payload }),
    environment: options.environment ?? w.env,
    fetch: w.fetch,
    random: () => 0.5,
    timing: { notifyIntervalMs: 0 },
    tabs: { broadcast: open, locks: w.locks.forTab(name), ...options.tabs },
  });
  const events: string[] = [];
  store.subscribe((e) => void events.push(e.type));
  const socket = () => factory.last();
  return {
    name,
    client,
    factory,
    store,
    errors,
    events,
    socket,
    /** Connects this tab's socket, answers its handshake and pushes `snapshot` as seq 2. */
    async serve(snapshot: S, epoch = 'E1') {
      await socket().runAuth();
      socket().accept();
      await flush();
      const req = socket()
        .sent.filter((s) => s.event === 'state_request')
        .at(-1)!;
      const cid = (req.payload as { correlationId: string }).correlationId;
      req.ack!({
        correlationId: cid,
        results: [{ handlerId: 'h', ok: true, data: { runtime_epoch: epoch, seq_base: 1 } }],
      });
      await flush();
      socket().serverEmit('state_push', envelope({ runtime_epoch: epoch, seq: 2, snapshot }));
      await w.clock.advance(0);
    },
    /**
     * The page closes or crashes: its channel goes quiet and the browser releases its lock, with
     * no more of its code running (then it is disposed, for the test's sake, unheard).
     */
    crash() {
      for (const port of ports) port.close();
      w.locks.close(name);
      store.dispose();
    },
    /** The server pushes `snapshot` as `seq` to this tab's socket. */
    async push(seq: number, snapshot: S, epoch = 'E1') {
      socket().serverEmit('state_push', envelope({ runtime_epoch: epoch, seq, snapshot }));
      await w.clock.advance(0);
      await flush();
    },
  };
}
export type SharedTab<S> = ReturnType<typeof sharedTab<S>>;

/**
 * Two started tabs: `a` leading (HEALTHY, serving `snapshot`) and `b` following (showing it).
 * `closeLeader()` closes `a`'s page: its lock goes to `b`, which takes over.
 */
export async function leaderAndFollower<S>(snapshot: S, options: SharedTabOptions<S>) {
  const w = tabsWorld();
  const a = sharedTab(w, 'a', options);
  const b = sharedTab(w, 'b', options);
  await a.store.start();
  await flush();
  await b.store.start();
  await flush();
  /** Lets the tabs hear each other and their stores notify (all on fake time). */
  const settle = async () => {
    for (let i = 0; i < 3; i++) await w.clock.advance(0);
  };
  await a.serve(snapshot);
  await settle();
  const closeLeader = async () => {
    a.crash();
    await settle();
  };
  const dispose = () => [a, b].forEach((t) => t.store.dispose());
  return { w, a, b, settle, closeLeader, dispose };
}
