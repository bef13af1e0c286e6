import {
  createNamespacedClient,
  type ClientOptions,
  createSyncStore,
  type EnvironmentSource,
  type EnvironmentState,
  type ReduceContext,
  type SyncStoreEvent,
  type SyncStoreOptions,
  type SyncwireError,
} from '../../src/index';
import type { PersistStorage } from '../../src/persist';
import { createFakeClock, flush } from './fake-clock';
import { envelope, fakeSocketFactory, type Sent } from './fake-socket';

/** A page environment the test flips by hand. */
export function fakeEnvironment() {
  let state: EnvironmentState = { hidden: false, online: true };
  const listeners = new Set<(s: EnvironmentState & { leaving?: boolean }) => void>();
  const env: EnvironmentSource & {
    set(next: Partial<EnvironmentState>): void;
    listeners: number;
    leave(): void;
  } = {
    read: () => state,
    subscribe(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    set(next) {
      state = { ...state, ...next };
      listeners.forEach((fn) => fn(state));
    },
    leave() {
      listeners.forEach((fn) => fn({ ...state, leaving: true }));
    },
    get listeners() {
      return listeners.size;
    },
  };
  return env;
}

export interface FetchCall {
  url: string;
  body: unknown;
  headers: Record<string, string>;
}

/** A scriptable /poll endpoint. */
export function fakeFetch() {
  const calls: FetchCall[] = [];
  let responder: (call: FetchCall) => { status: number; body?: unknown } = () => ({
    status: 200,
    body: {},
  });
  const f = (url: string, init?: RequestInit) => {
    const call = {
      url,
      body: JSON.parse(typeof init?.body === 'string' ? init.body : 'null') as unknown,
      headers: (init?.headers ?? {}) as Record<string, string>,
    };
    calls.push(call);
    const r = responder(call);
    return Promise.resolve(
      new Response(JSON.stringify(r.body ?? null), {
        status: r.status,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  return Object.assign(f, {
    calls,
    respond(fn: typeof responder) {
      responder = fn;
    },
  });
}

export function mapStorage(): PersistStorage & { data: Map<string, unknown>; broken: boolean } {
  const data = new Map<string, unknown>();
  const s = {
    data,
    broken: false,
    get: (k: string) =>
      s.broken
        ? Promise.reject(new Error('disk on fire'))
        : Promise.resolve(structuredClone(data.get(k))),
    set: (k: string, v: unknown) => {
      if (s.broken) return Promise.reject(new Error('disk on fire'));
      data.set(k, structuredClone(v));
      return Promise.resolve();
    },
  };
  return s;
}

/** A store on a fake socket, fake clock, fake fetch and fake page. */
export function storeHarness<S = Record<string, unknown>, Snap extends object = object>(
  opts: Partial<SyncStoreOptions<S, Snap>> = {},
  clientOptions: ClientOptions = {},
) {
  const clock = createFakeClock();
  const factory = fakeSocketFactory();
  const env = fakeEnvironment();
  const fetch = fakeFetch();
  const errors: SyncwireError[] = [];
  const client = createNamespacedClient('/state_sync', {
    url: 'http://127.0.0.1:9',
    auth: { csrf_token: 'tok-1' },
    clock,
    random: () => 0.5,
    socketFactory: factory,
    logger: { warn: false }, // errors are collected by the test, not printed
    ...clientOptions,
  });
  client.onError((e) => errors.push(e));
  const store = createSyncStore<S, Snap>({
    client,
    environment: env,
    fetch,
    random: () => 0.5,
    ...opts,
  });
  const events: SyncStoreEvent<S>[] = [];
  store.subscribe((e) => events.push(e));
  const socket = () => factory.last();
  const requests = (): Sent[] => socket().sent.filter((s) => s.event === 'state_request');
  const h = {
    clock,
    factory,
    env,
    fetch,
    errors,
    client,
    store,
    events,
    socket,
    requests,
    modes: () =>
      events.filter((e) => e.type === 'mode').map((e) => (e.type === 'mode' ? e.to : '')),
    /** Connects the fake socket (auth, then accept). */
    async connect() {
      await socket().runAuth();
      socket().accept();
      await flush();
    },
    /** Answers the newest state_request. */
    async ack(epoch = 'E1', extra: Record<string, unknown> = {}) {
      const req = requests().at(-1);
      const cid = (req?.payload as { correlationId: string }).correlationId;
      req?.ack?.({
        correlationId: cid,
        results: [
          {
            handlerId: 'ref.StateSync',
            ok: true,
            data: { runtime_epoch: epoch, seq_base: 1, ...extra },
          },
        ],
      });
      await flush();
      return cid;
    },
    async nack(code: string, message = code) {
      const req = requests().at(-1);
      const cid = (req?.payload as { correlationId: string }).correlationId;
      req?.ack?.({
        correlationId: cid,
        results: [{ handlerId: 'ref.StateSync', ok: false, error: { code, error: message } }],
      });
      await flush();
    },
    async push(seq: number, snapshot: object, epoch = 'E1', correlationId?: string) {
      socket().serverEmit(
        'state_push',
        envelope({ runtime_epoch: epoch, seq, snapshot }, correlationId ? { correlationId } : {}),
      );
      await flush();
    },
    /** Start, connect, ack, first push: a HEALTHY store. */
    async healthy(snapshot: object = { v: 1 }) {
      void store.start();
      await flush();
      await h.connect();
      await h.ack();
      await h.push(2, snapshot);
      await clock.advance(0);
    },
  };
  return h;
}

/**
 * A delta model like Agent Zero's log: a full resync starts from initialState, later snapshots
 * append their items and move the cursor. A changed guid asks for a resync; a snapshot marked
 * `bad` cannot be reduced (the reducer throws).
 */
export type Log = { items: number[]; cursor: number; guid?: string };
export const logReduce = (s: Log, snap: object, ctx: ReduceContext): Log => {
  const d = snap as { items?: number[]; cursor?: number; guid?: string; bad?: boolean };
  if (d.bad) throw new Error('malformed snapshot');
  if (s.guid && d.guid && d.guid !== s.guid) ctx.requestResync('guid changed');
  return {
    items: [...s.items, ...(d.items ?? [])],
    cursor: d.cursor ?? s.cursor,
    guid: d.guid ?? s.guid,
  };
};
/** The handshake and /poll payload of the {@link Log} model: resume after its cursor. */
export const logPayload = (s: Log) => ({
  context: null,
  log_from: s.cursor,
  notifications_from: 0,
  timezone: 'UTC',
});
/** storeHarness options for the {@link Log} model, starting empty. */
export const logModel = () => ({
  reduce: logReduce,
  payload: logPayload,
  initialState: { items: [], cursor: 0 } as Log,
});
