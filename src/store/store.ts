/**
 * `createSyncStore`: checks the options and wires the parts together: the client's events in,
 * the pure machine (machine.ts) deciding, the runtime (runtime.ts) carrying out its effects,
 * the view (view.ts) showing state and notifying subscribers, polls (poll.ts) when degraded.
 */
import { createTimers } from '../clock';
import { asError, invalid, isSyncwireError, type SyncwireError } from '../errors';
import { listen, markInternal } from '../listeners';
import { createCorrelationId } from '../protocol';
import { noop } from '../util';
import { knownKeys, opt, required } from '../validate';
import type { CachedState, PersistSession, SyncStore, SyncStoreOptions } from './api';
import { browserEnvironment, type EnvironmentState } from './env';
import { deepEqual } from './equal';
import { defaultPayload, pollTimeoutMs, resolveTiming } from './options';
import { createPoll } from './poll';
import { createRuntime, type RuntimeParts } from './runtime';
import { FAILED } from './types';
import { createView } from './view';
import { createTagReader, readPush } from './wire';

export type {
  CachedState,
  PersistHost,
  PersistPlugin,
  PersistSession,
  ReduceContext,
  SyncHealth,
  SyncCounters,
  SyncStore,
  SyncStoreEvent,
  SyncStoreOptions,
} from './api';
export { defaultPayload } from './options';

/** The options createSyncStore knows; any other name is a misspelling. */
const STORE_OPTIONS = [
  'client',
  'pollUrl',
  'payload',
  'reduce',
  'initialState',
  'persist',
  'timing',
  'hasChanged',
  'fetch',
  'environment',
  'random',
];

/** What a store needs of its client; anything else is no client. */
const CLIENT_METHODS = [
  'onPayload',
  'onConnect',
  'onDisconnect',
  'onDispose',
  'onError',
  'request',
  'reportError',
  'refreshAuth',
];

/**
 * Creates a sync store over a namespaced client: handshake with seq/epoch,
 * ordered and coalesced pushes, degraded polling with recovery, warm start.
 * `S` (the state), `Snap` (a snapshot) and `P` (the request data) are inferred from
 * `initialState`, `reduce` and `payload`; see {@link SyncStoreOptions}.
 *
 * @example
 * ```ts
 * const store = createSyncStore({ client: getNamespacedClient('/state_sync') })
 * store.subscribe(() => render(store.state, store.health))
 * await store.start()
 * ```
 */
export function createSyncStore<
  S = Record<string, unknown>,
  Snap extends object = object,
  P extends object = object,
>(options: SyncStoreOptions<S, Snap, P>): SyncStore<S> {
  const opts = required(options, 'options', 'object');
  knownKeys(opts, STORE_OPTIONS);
  const client = required(opts.client, 'client', CLIENT_METHODS);
  const { clock } = client;
  const timing = resolveTiming(opts.timing);
  const initialState = (opts.initialState ?? {}) as S;
  const payload =
    opt(opts.payload, 'payload', 'function') ?? (defaultPayload as unknown as (s: S) => P);
  // Snapshots come off the wire unchecked (the store checks the push around them, not their
  // fields): the caller's `Snap` is its own reading of the server, taken on trust here, once.
  const reduce =
    (opt(opts.reduce, 'reduce', 'function') as RuntimeParts<S, P>['reduce'] | undefined) ??
    ((_s: S, snapshot: object) => snapshot as S);
  const hasChanged =
    (opt(opts.hasChanged, 'hasChanged', 'function') as
      RuntimeParts<S, P>['hasChanged'] | undefined) ??
    ((s: S, snap: object) =>
      !deepEqual(reduce(s, snap, { source: 'poll', requestResync: noop }), s));
  const env = opt(opts.environment, 'environment', ['read', 'subscribe']) ?? browserEnvironment;
  const random = opt(opts.random, 'random', 'function') ?? Math.random;
  let pollUrl: string;
  try {
    pollUrl = new URL(opts.pollUrl ?? '/poll', client.url).href;
  } catch {
    throw invalid('pollUrl', `a URL relative to ${client.url}`);
  }
  // The plugin opens this store's cache now; what it gives back is checked like any option,
  // so a function that is no cache fails here, not later from a timer. Its failures are
  // reported through the machine, which keeps the last one as health.lastError.
  const plugin = opt(opts.persist || undefined, 'persist', 'function');
  let cache: PersistSession<S> | undefined;
  try {
    cache = plugin?.({
      clock,
      report: (e) => rt.dispatch({ type: 'error', code: e.code, message: e.message, cause: e }),
    });
  } catch (e) {
    throw asError(e, 'VALIDATION_ERROR', 'persist: ');
  }
  if (plugin) required(cache, 'persist()', ['load', 'save', 'flush']);
  // One prefix per store: handshake correlationIds are `<prefix><gen>`, so a tagged push names its handshake.
  const tagPrefix = createCorrelationId('state') + '-';

  // Machine timers plus 'notify', each at most once.
  const timers = createTimers(clock);
  const view = createView(clock, timers, timing.notifyIntervalMs, initialState, client.reportError);
  // Subscriptions and work in flight (handshakes, polls), each with its own cleanup, so stop() ends them synchronously.
  const cleanups = new Set<() => void>();
  const track = listen(cleanups);
  const poll = createPoll(
    client,
    pollUrl,
    opt(opts.fetch, 'fetch', 'function'),
    pollTimeoutMs(timing),
    track,
    view.confirmed,
  );
  const rt = createRuntime<S, P>({
    client,
    timing,
    timers,
    view,
    initialState,
    payload,
    reduce,
    hasChanged,
    random,
    cache,
    tagPrefix,
    poll,
    track,
    cleanAll: () => {
      cleanups.forEach((fn) => fn());
      cleanups.clear();
    },
    connect: () => connectClient(),
  });
  const { dispatch } = rt;

  const tagOf = createTagReader(tagPrefix);
  const onPush = (payload: unknown) => {
    const push = readPush(payload, tagOf, clock.now());
    if (typeof push === 'string') dispatch({ type: 'pushInvalid', message: push });
    else dispatch({ type: 'push', push });
  };

  // What the client says went wrong. A terminal error (the server does not know the namespace)
  // means no connection will ever come: FAILED, saying why, rather than polling as if it might.
  // A rejected or failed connect while not HEALTHY is why the store polls: health shows it.
  let terminalError: SyncwireError | undefined;
  const onClientError = markInternal((e: SyncwireError) => {
    const { code, message } = e;
    if (code === 'UNKNOWN_NAMESPACE') {
      terminalError = e;
      dispatch({ type: 'fatal', code, message, cause: e });
    } else if (code === 'CONNECT_ERROR') {
      dispatch({ type: 'clientError', code, message });
    }
  });
  // Failures reach onError (and so onClientError), except a terminal one the client already
  // knew, which connect() only rejects with: handled the same way. The grace timer degrades.
  const connectClient = () => {
    client.connect().catch((e: unknown) => {
      if (isSyncwireError(e, 'UNKNOWN_NAMESPACE')) onClientError(e);
    });
  };

  const store: SyncStore<S> = {
    get mode() {
      return rt.machine.mode;
    },
    get state() {
      return view.state;
    },
    get health() {
      return view.health(rt.machine);
    },
    timing: Object.freeze({ ...timing }),

    async start() {
      if (client.disposed) return rt.release({ type: 'disposed' });
      if (rt.machine.running || cleanups.size) {
        if (rt.machine.mode === FAILED) store.resync('restarted');
        return;
      }
      rt.runId++;
      const id = rt.runId;
      const onEnv = (e: EnvironmentState & { leaving?: boolean }) => {
        if (e.leaving) cache?.flush();
        dispatch({ type: 'env', hidden: e.hidden, online: e.online });
      };
      // The cache read starts first: a warm start must not queue behind connection set-up.
      // A cache breaking its contract (load() threw, synchronously or not) is reported; the
      // network has the state anyway.
      let cacheRead: Promise<CachedState<S> | undefined> | undefined;
      if (cache) {
        const load = new Promise<CachedState<S> | undefined>((resolve) => resolve(cache.load()));
        cacheRead = load.catch((error: unknown) => {
          client.reportError(error);
          return undefined;
        });
      }
      onEnv(env.read());
      const listeners = [
        client.onPayload('state_push', onPush),
        client.onConnect(() => dispatch({ type: 'connected' })),
        client.onDisconnect(() => dispatch({ type: 'disconnected' })),
        client.onDispose(() => rt.release({ type: 'disposed' })),
        client.onError(onClientError),
        env.subscribe(onEnv),
      ];
      for (const dispose of listeners) track(dispose);
      // From now on it hears the connection come and go; what it missed while stopped, it asks.
      dispatch({ type: client.isConnected() ? 'connected' : 'disconnected' });
      if (!client.isConnected()) connectClient();
      const cached = await cacheRead;
      if (id !== rt.runId) return; // stopped while reading the cache
      if (cached) {
        view.show(cached.state, cached.epoch, 'cache', cached.savedAt);
        view.notify(); // at once: a warm start is about showing this before anything else
        if (id !== rt.runId) return; // a subscriber stopped the store
      }
      // The state a stopped store kept is resumed like a cache: from its epoch, with its cursors.
      let resume: { epoch: string | null } | null = null;
      if (cached) resume = { epoch: cached.epoch };
      else if (view.source) resume = { epoch: view.epoch };
      dispatch({ type: 'start', cache: resume, connected: client.isConnected() });
      if (terminalError) onClientError(terminalError); // the client was known lost before the store ran
    },

    stop: () => rt.release({ type: 'stop' }),

    resync(reason = 'resync() called') {
      dispatch({ type: 'resync', reason });
    },

    subscribe: listen(view.listeners),
  };
  return store;
}
