import { createTimers, unitRandom } from '../clock';
import {
  SyncwireError,
  asError,
  codeOf,
  fail,
  invalid,
  isSyncwireError,
  messageOf,
} from '../errors';
import { fire, listen, markInternal } from '../listeners';
import { createCorrelationId, type ServerEnvelope } from '../protocol';
import { isPlainObject, kindOf, noop } from '../util';
import { knownKeys, opt } from '../validate';
import type {
  CachedState,
  PersistSession,
  SyncHealth,
  SyncStore,
  SyncStoreEvent,
  SyncStoreOptions,
} from './api';
import { browserEnvironment, type EnvironmentState } from './env';
import { deepEqual } from './equal';
import { handshakeAnswer } from './handshake';
import {
  inOrderPush,
  initialMachineState,
  transition,
  type Effect,
  type MachineEvent,
} from './machine';
import { defaultPayload, resolveTiming } from './options';
import { createPoll } from './poll';

export type {
  CachedState,
  PersistHost,
  PersistPlugin,
  PersistSession,
  ReduceContext,
  SyncHealth,
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

/**
 * Creates a sync store over a namespaced client: handshake with seq/epoch,
 * ordered and coalesced pushes, degraded polling with recovery, warm start.
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
  P extends object = Record<string, unknown>,
>(options: SyncStoreOptions<S, P>): SyncStore<S> {
  const o = opt(options, 'options', 'object', 1)!;
  knownKeys(o, STORE_OPTIONS);
  const client = opt(
    o.client,
    'client',
    [
      'on',
      'onConnect',
      'onDisconnect',
      'onDispose',
      'onError',
      'request',
      'reportError',
      'refreshAuth',
    ],
    1,
  )!;
  const { clock } = client;
  const timing = resolveTiming(o.timing);
  const initialState = (o.initialState ?? {}) as S;
  const payload =
    opt(o.payload, 'payload', 'function') ?? (defaultPayload as unknown as (s: S) => P);
  const reduce =
    opt(o.reduce, 'reduce', 'function') ?? ((_s: S, snapshot: object) => snapshot as S);
  const hasChanged =
    opt(o.hasChanged, 'hasChanged', 'function') ??
    ((s: S, snap: object) =>
      !deepEqual(reduce(s, snap, { source: 'poll', requestResync: noop }), s));
  const env = opt(o.environment, 'environment', ['read', 'subscribe']) ?? browserEnvironment;
  const random = opt(o.random, 'random', 'function') ?? Math.random;
  let pollUrl: string;
  try {
    pollUrl = new URL(o.pollUrl ?? '/poll', client.url).href;
  } catch {
    throw invalid('pollUrl', `a URL relative to ${client.url}`);
  }
  // The plugin opens this store's cache now; what it gives back is checked like any option,
  // so a function that is no cache fails here, not later from a timer.
  const plugin = opt(o.persist || undefined, 'persist', 'function');
  let cache: PersistSession<S> | undefined;
  try {
    cache = plugin?.({ clock, report: (e) => report(e.code, e.message, e) });
  } catch (e) {
    throw asError(e, 'VALIDATION_ERROR', 'persist: ');
  }
  if (plugin) opt(cache, 'persist()', ['load', 'save', 'flush'], 1);
  // One prefix per store: handshake correlationIds are `<prefix><gen>`, so a tagged push names its handshake.
  const tagPrefix = createCorrelationId('state') + '-';

  let m = initialMachineState();
  let state = initialState;
  let lastAppliedAt: number | null = null;
  // The epoch of the state shown (health.epoch): the machine's moves to a new period's at its
  // ack, while the page still shows the old state until that period's first snapshot.
  let shownEpoch: string | null = null;
  let source: SyncHealth['source'] = null;
  let confirmedAt: number | null = null;
  let invalidPushes = 0;
  let reduceFailures = 0;
  let lastError: SyncHealth['lastError'] = null;
  let runId = 0;
  let lastNotifyAt = -Infinity;
  const listeners = new Set<(e: SyncStoreEvent<S>) => void>();
  // Machine timers plus 'notify', each at most once.
  const timers = createTimers(clock);
  // Subscriptions and work in flight (handshakes, polls), each with its own cleanup, so stop() ends them synchronously.
  const cleanups = new Set<() => void>();
  const track = listen(cleanups);

  const report = (code: string, message: string, cause?: unknown) => {
    lastError = { code, message };
    client.reportError(
      cause instanceof SyncwireError ? cause : fail(code, message, undefined, cause),
    );
  };
  const emit = (e: SyncStoreEvent<S>) => fire(listeners, e, client.reportError);

  const fetchSnapshot = createPoll(
    client,
    pollUrl,
    opt(o.fetch, 'fetch', 'function'),
    Math.max(timing.handshakeTimeoutMs * 5, 5000),
    track,
    () => void (confirmedAt = clock.now()),
  );
  // User code (payload) runs inside the promise chain: a throw becomes a failed poll, never an exception out of a timer.
  const pollFrom = (base: S) => Promise.resolve(base).then((b) => fetchSnapshot(payload(b)));

  // Events raised while effects run are queued, so every transition sees a settled state.
  // Events left behind by a run that threw still go first.
  const queue: MachineEvent[] = [];
  let busy = false;
  const step = (next: MachineEvent) => {
    // A push in order while HEALTHY (nearly all of them): the machine's shortcut gives the
    // next state, and transition() would add exactly this apply as its one effect.
    const push = next.type == 'push' && next.push;
    const fast = push && inOrderPush(m, push);
    if (fast) {
      m = fast;
      return apply(push.snapshot, 'push', false);
    }
    const wasHealthy = m.mode == 'HEALTHY';
    const [s, fx] = transition(m, next, timing, unitRandom(random));
    m = s;
    if (wasHealthy && s.mode != 'HEALTHY') confirmedAt = clock.now();
    // A listener that calls stop() ends this transition's remaining effects.
    const id = runId;
    fx.forEach((e) => id == runId && run(e));
  };
  const drain = () => {
    if (busy) return;
    busy = true;
    try {
      for (let next; (next = queue.shift());) step(next);
    } finally {
      busy = false;
    }
  };
  const dispatch = (ev: MachineEvent) => {
    queue.push(ev);
    drain();
  };

  const run = (e: Effect) => {
    switch (e.type) {
      case 'mode':
        client.logger.log('push', `mode ${e.from} → ${e.to}`, { reason: e.reason });
        emit(e);
        break;
      case 'set':
        timers.set(e.name, e.ms, () => dispatch({ type: 'timer', name: e.name }));
        break;
      case 'clear':
        timers.clear(e.name);
        break;
      case 'error':
        report(e.code, e.message, e.cause);
        break;
      case 'reconnect':
        client.reconnect({ refreshAuth: true }).catch(noop);
        break;
      case 'connect':
        connectClient();
        break;
      case 'handshake':
        handshake(e.gen, e.full);
        break;
      case 'apply':
        apply(e.snapshot, e.source, e.fromInitial);
        break;
      case 'poll':
        pollFrom(e.full ? initialState : state).then(
          // Agent Zero's runtime id (from /csrf_token, server_restart) is its runtime_epoch.
          (answer) =>
            dispatch({
              type: 'polled',
              id: e.id,
              ok: true,
              snapshot: answer.snapshot,
              epoch: answer.runtimeId,
            }),
          (err: unknown) =>
            dispatch({
              type: 'polled',
              id: e.id,
              ok: false,
              code: codeOf(err, 'POLL_FAILED'),
              message: messageOf(err),
              cause: err,
            }),
        );
        break;
      case 'audit': {
        const before = state;
        pollFrom(before)
          .then((answer) => hasChanged(before, answer.snapshot))
          .then(
            (changed) => dispatch({ type: 'audited', id: e.id, changed: changed === true }),
            // A failed audit (network, or payload/hasChanged threw) proves nothing: look again next window.
            (err: unknown) => {
              if (!(err instanceof SyncwireError))
                report('VALIDATION_ERROR', `liveness audit failed: ${messageOf(err)}`, err);
              dispatch({ type: 'audited', id: e.id, changed: null });
            },
          );
      }
    }
  };

  // The handshake in flight: a newer one supersedes it, and if it still waits for the connection
  // it must never be sent after the newer one (the server would open its period last).
  let cancelHandshake = noop;
  const handshake = (gen: number, full: boolean) => {
    cancelHandshake();
    let data: P;
    try {
      data = payload(full ? initialState : state);
    } catch (err) {
      return dispatch({
        type: 'nack',
        gen,
        code: 'VALIDATION_ERROR',
        message: `payload() threw: ${messageOf(err)}`,
      });
    }
    const ctl = new AbortController();
    const untrack = track(() => ctl.abort());
    cancelHandshake = () => ctl.abort();
    let answered = false;
    const answer = (ev: MachineEvent) => {
      if (answered) return;
      answered = true;
      untrack();
      dispatch(ev);
    };
    // The ack is taken as it arrives (onAck), in wire order: the period's first push, which the
    // server sends right after it (in the same batch of packets over long-polling), is then seen
    // after the ack instead of being held before it as ambiguous, which stalled idle servers.
    void client
      .request('state_request', data, {
        timeoutMs: timing.handshakeTimeoutMs,
        correlationId: tagPrefix + gen,
        signal: ctl.signal,
        onAck: (res) => answer(handshakeAnswer(gen, res)),
      })
      .then(
        (res) => answer(handshakeAnswer(gen, res)),
        (err: unknown) =>
          answer({
            type: 'nack',
            gen,
            code: codeOf(err, 'HANDSHAKE_FAILED'),
            message: messageOf(err),
            cause: err,
          }),
      );
  };

  // One context per source, shared by every apply (a push must not allocate one); its
  // requestResync only counts while reduce runs.
  let resyncReason: string | undefined;
  let reducing = false;
  const requestResync = (reason = 'reducer asked') => void (reducing && (resyncReason = reason));
  const contexts = {
    push: { source: 'push', requestResync },
    poll: { source: 'poll', requestResync },
  } as const;
  const apply = (snapshot: object, from: 'push' | 'poll', fromInitial: boolean) => {
    // After a reduce failure only a snapshot from the initial state applies: a delta on top of
    // the state that missed the failed one would show a state the server never had.
    if (reduceFailures && !fromInitial) return;
    let next: S;
    resyncReason = undefined;
    reducing = true;
    try {
      next = reduce(fromInitial ? initialState : state, snapshot, contexts[from]);
    } catch (err) {
      // The state is left as it was. Retry from scratch once; a reducer that fails on a
      // full snapshot too would loop forever, so that is terminal.
      const message = messageOf(err);
      report('REDUCE_ERROR', `reduce threw: ${message}`, err);
      return dispatch(
        ++reduceFailures > 1 && fromInitial
          ? { type: 'fatal', code: 'REDUCE_ERROR', message }
          : { type: 'resync', reason: 'reduce threw' },
      );
    } finally {
      reducing = false;
    }
    if (!fromInitial || !resyncReason) reduceFailures = 0;
    state = next;
    lastAppliedAt = confirmedAt = clock.now();
    shownEpoch = m.epoch;
    source = from;
    scheduleNotify();
    cache?.save({ epoch: shownEpoch, savedAt: lastAppliedAt, state });
    if (resyncReason) dispatch({ type: 'resync', reason: resyncReason });
  };

  // Timer-based, not requestAnimationFrame (rAF stops in hidden tabs). A burst within one
  // macrotask is one notification; pushes that each arrive in their own macrotask (1,000/s)
  // are held to one notification per notifyIntervalMs, so a UI never renders per push.
  const scheduleNotify = () =>
    timers.has('notify') ||
    timers.set('notify', Math.max(0, lastNotifyAt + timing.notifyIntervalMs - clock.now()), notify);
  const notify = () => {
    lastNotifyAt = clock.now();
    emit({ type: 'state', state });
  };

  const onPush = (envelope: ServerEnvelope) => {
    const d = envelope.data;
    const seq = d.seq as number;
    const bad =
      typeof d.runtime_epoch != 'string'
        ? 'runtime_epoch'
        : !Number.isInteger(seq) || seq < 0
          ? 'seq'
          : !isPlainObject(d.snapshot)
            ? 'snapshot'
            : '';
    if (bad) {
      invalidPushes++;
      return report('INVALID_ENVELOPE', `state_push field '${bad}' is invalid (${kindOf(d[bad])})`);
    }
    dispatch({
      type: 'push',
      push: {
        epoch: d.runtime_epoch as string,
        seq,
        snapshot: d.snapshot as object,
        gen: tagOf(envelope.correlationId),
      },
    });
  };
  // The handshake a push was tagged with (correlationId `<prefix><gen>`), if any. A period's
  // pushes all carry the same correlationId, so the last one is remembered.
  let lastId: string | undefined;
  let lastTag: number | null = null;
  const tagOf = (id: string) => {
    if (id !== lastId) {
      const tag = id.startsWith(tagPrefix) ? Number(id.slice(tagPrefix.length)) : NaN;
      lastId = id;
      lastTag = Number.isInteger(tag) ? tag : null;
    }
    return lastTag;
  };

  const connected = () => dispatch({ type: 'connected' });

  // What the client says went wrong. A terminal error (the server does not know the namespace)
  // means no connection will ever come: FAILED, saying why, rather than polling as if it might.
  // A rejected or failed connect while not HEALTHY is why the store polls: health shows it.
  let terminalError: SyncwireError | undefined;
  const onClientError = markInternal((e: SyncwireError) => {
    if (e.code == 'UNKNOWN_NAMESPACE') {
      terminalError = e;
      if (m.running && m.mode != 'FAILED')
        dispatch({ type: 'fatal', code: e.code, message: e.message, cause: e });
    } else if (e.code == 'CONNECT_ERROR' && m.mode != 'HEALTHY')
      lastError = { code: e.code, message: e.message };
  });
  // Failures reach onError (and so onClientError), except a terminal one the client already
  // knew, which connect() only rejects with: handled the same way. The grace timer degrades.
  const connectClient = () => {
    client.connect().catch((e: unknown) => {
      if (isSyncwireError(e, 'UNKNOWN_NAMESPACE')) onClientError(e);
    });
  };

  /**
   * Ends the run: `stop()`, or the client's disposal (the store then stays FAILED with a
   * DISPOSED error). Every listener, timer and request goes synchronously, from wherever it is called.
   */
  const release = (ev: MachineEvent) => {
    runId++;
    cleanups.forEach((fn) => fn());
    cleanups.clear();
    // Called from a listener, mid-run: the events still queued belong to the run that ends.
    queue.length = 0;
    // Timers end here; a pending save or notification happens now rather than never.
    const hadNotify = timers.has('notify');
    timers.clearAll();
    cache?.flush();
    // The machine stops at once, even inside another transition (a subscriber called stop()),
    // so a start() right after it, or from its own mode event, finds the store stopped and wins.
    const outer = busy;
    busy = true;
    try {
      step(ev);
    } finally {
      busy = outer;
    }
    if (hadNotify) notify();
    drain(); // what a subscriber's start() raised meanwhile
  };

  const store: SyncStore<S> = {
    get mode() {
      return m.mode;
    },
    get state() {
      return state;
    },
    get health() {
      const { mode, stats } = m;
      return {
        mode,
        connected: m.connected,
        epoch: shownEpoch,
        lastSeq: m.lastSeq,
        lastAppliedAt,
        source,
        // Never below 0, even when the wall clock was set back.
        staleMs:
          mode == 'HEALTHY'
            ? 0
            : confirmedAt === null
              ? null
              : Math.max(0, clock.now() - confirmedAt),
        lastError,
        counters: { ...stats, pushesDropped: stats.pushesDropped + invalidPushes },
      };
    },

    async start() {
      if (client.disposed) return release({ type: 'disposed' });
      if (m.running || cleanups.size) {
        if (m.mode == 'FAILED') store.resync('restarted');
        return;
      }
      const id = ++runId;
      // A new run resumes from the last good state: the rule "only a full snapshot after a
      // reduce failure" belongs to the run that failed.
      reduceFailures = 0;
      const onEnv = (e: EnvironmentState & { leaving?: boolean }) => {
        if (e.leaving) cache?.flush();
        dispatch({ type: 'env', hidden: e.hidden, online: e.online });
      };
      // The cache read is issued first: a warm start must not queue behind connection setup.
      // A cache breaking its contract (load() threw or rejected) is reported; the network has
      // the state anyway. The executor runs now, so the read still starts first.
      const cacheRead =
        cache &&
        new Promise<CachedState<S> | undefined>((r) => r(cache.load())).catch(client.reportError);
      onEnv(env.read());
      [
        client.on('state_push', onPush),
        client.onConnect(connected),
        client.onDisconnect(() => dispatch({ type: 'disconnected' })),
        client.onDispose(() => release({ type: 'disposed' })),
        client.onError(onClientError),
        env.subscribe(onEnv),
      ].forEach(track);
      // From now on it hears the connection come and go; what it missed while stopped, it asks.
      dispatch({ type: client.isConnected() ? 'connected' : 'disconnected' });
      if (!client.isConnected()) connectClient();
      const cached = await cacheRead;
      if (id != runId) return; // stopped while reading the cache
      if (cached) {
        state = cached.state;
        lastAppliedAt = confirmedAt = cached.savedAt;
        shownEpoch = cached.epoch;
        source = 'cache';
        notify(); // at once: a warm start is about showing this before anything else
        if (id != runId) return; // a subscriber stopped the store
      }
      // The state a stopped store kept is resumed like a cache: from its epoch, with its cursors.
      const resume = cached ? { epoch: cached.epoch } : source ? { epoch: shownEpoch } : null;
      dispatch({ type: 'start', cache: resume, connected: client.isConnected() });
      if (terminalError) onClientError(terminalError); // the client was known lost before the store ran
    },

    stop: () => release({ type: 'stop' }),

    resync(reason = 'resync() called') {
      dispatch({ type: 'resync', reason });
    },

    subscribe: listen(listeners),
  };
  return store;
}
