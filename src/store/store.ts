import { createTimers, unitRandom } from '../clock';
import { SyncwireError, codeOf, fail, invalid, messageOf } from '../errors';
import { fire, listen, noop } from '../listeners';
import { createCorrelationId, isPlainObject, kindOf, type ServerEnvelope } from '../protocol';
import { optFn, optObj, optShape } from '../validate';
import type { SyncHealth, SyncStore, SyncStoreEvent, SyncStoreOptions } from './api';
import { browserEnvironment, type EnvironmentState } from './env';
import { deepEqual } from './equal';
import { handshakeAnswer } from './handshake';
import { initialMachineState, transition, type Effect, type MachineEvent } from './machine';
import { defaultPayload, resolveTiming } from './options';
import { idbStorage, readRecord, type PersistedRecord } from './persist';
import { createPoll } from './poll';

export type { ReduceContext, SyncHealth, SyncStore, SyncStoreEvent, SyncStoreOptions } from './api';
export { defaultPayload } from './options';

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
export function createSyncStore<S = Record<string, unknown>, P extends object = Record<string, unknown>>(
  options: SyncStoreOptions<S, P>,
): SyncStore<S> {
  const given: unknown = options;
  if (!isPlainObject(given)) throw invalid('options', 'createSyncStore expects { client, ... }');
  const o = options;
  const client = optShape(o.client, 'client', ['on', 'onConnect', 'onDisconnect', 'request', 'reportError', 'refreshAuth']);
  if (!client) throw invalid('client', 'createSyncStore needs { client }');
  const persist = o.persist === false ? undefined : optObj(o.persist, 'persist');
  const storage = persist && (optShape(persist.storage, 'persist.storage', ['get', 'set']) ?? idbStorage(persist.dbName ?? 'syncwire', persist.storeName ?? 'state'));
  const persistKey = persist?.key ?? 'syncwire:state';
  const persistVersion = persist?.version ?? 1;
  const { clock } = client;
  const timing = resolveTiming(o.timing);
  const initialState = (o.initialState ?? {}) as S;
  const payload = optFn(o.payload, 'payload') ?? (defaultPayload as unknown as (s: S) => P);
  const reduce = optFn(o.reduce, 'reduce') ?? ((_s: S, snapshot: object) => snapshot as S);
  const hasChanged = optFn(o.hasChanged, 'hasChanged') ?? ((s: S, snap: object) => !deepEqual(reduce(s, snap, { source: 'poll', requestResync: noop }), s));
  const env = optShape(o.environment, 'environment', ['read', 'subscribe']) ?? browserEnvironment;
  const random = optFn(o.random, 'random') ?? Math.random;
  optFn(o.fetch, 'fetch');
  let pollUrl: string;
  try {
    pollUrl = new URL(o.pollUrl ?? '/poll', client.url).href;
  } catch {
    throw invalid('pollUrl', `pollUrl (${kindOf(o.pollUrl)}) and the client's url do not make a valid URL`);
  }
  // One prefix per store: handshake correlationIds are `<prefix><gen>`, so a tagged push names its handshake.
  const tagPrefix = createCorrelationId('state') + '-';

  let m = initialMachineState();
  let state = initialState;
  let lastAppliedAt: number | null = null;
  let source: SyncHealth['source'] = null;
  let confirmedAt: number | null = null;
  let invalidPushes = 0;
  let reduceFailures = 0;
  let lastError: SyncHealth['lastError'] = null;
  // A storage that keeps failing (no IndexedDB, a full disk) is reported once per failure streak, not on every save.
  let saveFailing = false;
  let runId = 0;
  let lastNotifyAt = -Infinity;
  const listeners = new Set<(e: SyncStoreEvent<S>) => void>();
  // Machine timers plus 'notify' and 'save', each at most once.
  const timers = createTimers(clock);
  // Subscriptions and work in flight (handshakes, polls), each with its own cleanup, so stop() ends them synchronously.
  const cleanups = new Set<() => void>();
  const track = listen(cleanups);

  const report = (code: string, message: string, cause?: unknown) => {
    lastError = { code, message };
    client.reportError(cause instanceof SyncwireError ? cause : fail(code, message, undefined, cause));
  };
  const emit = (e: SyncStoreEvent<S>) => fire(listeners, e, (err) => client.reportError(err));

  const fetchSnapshot = createPoll(client, pollUrl, o.fetch, Math.max(timing.handshakeTimeoutMs * 5, 5000), track, () => void (confirmedAt = clock.now()));
  // User code (payload) runs inside the promise chain: a throw becomes a failed poll, never an exception out of a timer.
  const pollFrom = (base: S) => Promise.resolve(base).then(payload).then(fetchSnapshot);

  // Events raised while effects run are queued, so every transition sees a settled state.
  // Events left behind by a run that threw still go first.
  const queue: MachineEvent[] = [];
  let busy = false;
  const dispatch = (ev: MachineEvent) => {
    queue.push(ev);
    if (busy) return;
    busy = true;
    try {
      for (let next; (next = queue.shift()); ) {
        const wasHealthy = m.mode == 'HEALTHY';
        const [s, fx] = transition(m, next, timing, unitRandom(random));
        m = s;
        if (wasHealthy && s.mode != 'HEALTHY') confirmedAt = clock.now();
        fx.forEach(run);
      }
    } finally {
      busy = false;
    }
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
        report(e.code, e.message);
        break;
      case 'reconnect':
        client.reconnect({ refreshAuth: true }).catch(noop);
        break;
      case 'handshake':
        handshake(e.gen, e.full);
        break;
      case 'apply':
        apply(e.snapshot, e.source, e.fromInitial);
        break;
      case 'poll':
        pollFrom(e.full ? initialState : state).then(
          (snapshot) => dispatch({ type: 'polled', id: e.id, ok: true, snapshot }),
          (err: unknown) => dispatch({ type: 'polled', id: e.id, ok: false, code: codeOf(err, 'POLL_FAILED'), message: messageOf(err) }),
        );
        break;
      case 'audit': {
        const before = state;
        pollFrom(before)
          .then((snapshot) => hasChanged(before, snapshot))
          .then(
            (changed) => dispatch({ type: 'audited', id: e.id, changed: changed === true }),
            // A failed audit (network, or payload/hasChanged threw) proves nothing: look again next window.
            (err: unknown) => {
              if (!(err instanceof SyncwireError)) report('VALIDATION_ERROR', `liveness audit failed: ${messageOf(err)}`, err);
              dispatch({ type: 'audited', id: e.id, changed: null });
            },
          );
      }
    }
  };

  const handshake = (gen: number, full: boolean) => {
    let data: P;
    try {
      data = payload(full ? initialState : state);
    } catch (err) {
      return dispatch({ type: 'nack', gen, code: 'VALIDATION_ERROR', message: `payload() threw: ${messageOf(err)}` });
    }
    const ctl = new AbortController();
    const untrack = track(() => ctl.abort());
    void client
      .request('state_request', data, { timeoutMs: timing.handshakeTimeoutMs, correlationId: tagPrefix + gen, signal: ctl.signal })
      .then(
        (res) => handshakeAnswer(gen, res),
        (err: unknown): MachineEvent => ({ type: 'nack', gen, code: codeOf(err, 'HANDSHAKE_FAILED'), message: messageOf(err) }),
      )
      .then((ev) => {
        untrack();
        dispatch(ev);
      });
  };

  const apply = (snapshot: object, from: 'push' | 'poll', fromInitial: boolean) => {
    let resyncReason: string | undefined;
    let next: S;
    try {
      next = reduce(fromInitial ? initialState : state, snapshot, { source: from, requestResync: (reason = 'reducer asked') => void (resyncReason = reason) });
    } catch (err) {
      // The state is left as it was. Retry from scratch once; a reducer that fails on a
      // full snapshot too would loop forever, so that is terminal.
      const message = messageOf(err);
      report('REDUCE_ERROR', `reduce threw: ${message}`, err);
      return dispatch(++reduceFailures > 1 && fromInitial ? { type: 'fatal', code: 'REDUCE_ERROR', message } : { type: 'resync', reason: 'reduce threw' });
    }
    if (!fromInitial || !resyncReason) reduceFailures = 0;
    state = next;
    lastAppliedAt = confirmedAt = clock.now();
    source = from;
    scheduleNotify();
    // Saves are throttled: one write per throttleMs at most, with the state of that moment.
    if (persist && !timers.has('save')) timers.set('save', persist.throttleMs ?? 1000, save);
    if (resyncReason) dispatch({ type: 'resync', reason: resyncReason });
  };

  // Timer-based, not requestAnimationFrame (rAF stops in hidden tabs). A burst within one
  // macrotask is one notification; pushes that each arrive in their own macrotask (1,000/s)
  // are held to one notification per notifyIntervalMs, so a UI never renders per push.
  const scheduleNotify = () => timers.has('notify') || timers.set('notify', Math.max(0, lastNotifyAt + timing.notifyIntervalMs - clock.now()), notify);
  const notify = () => {
    lastNotifyAt = clock.now();
    emit({ type: 'state', state });
  };

  const save = () => {
    const record: PersistedRecord<S> = { format: 1, version: persistVersion, epoch: m.epoch, savedAt: lastAppliedAt ?? clock.now(), state };
    // Inside the chain, a storage that throws synchronously (quota, a clone error) is reported like a rejection.
    Promise.resolve(record)
      .then((r) => storage?.set(persistKey, r))
      .then(
        () => void (saveFailing = false),
        (err: unknown) => {
          if (!saveFailing) report('STORAGE_ERROR', `saving the state failed: ${messageOf(err)}`, err);
          saveFailing = true;
        },
      );
  };

  const onPush = (envelope: ServerEnvelope) => {
    const d = envelope.data;
    const seq = d.seq as number;
    const bad = typeof d.runtime_epoch != 'string' ? 'runtime_epoch' : !Number.isInteger(seq) || seq < 0 ? 'seq' : !isPlainObject(d.snapshot) ? 'snapshot' : '';
    if (bad) {
      invalidPushes++;
      return report('INVALID_ENVELOPE', `state_push field '${bad}' is invalid (${kindOf(d[bad])})`);
    }
    // The handshake the push was tagged with (correlationId `<prefix><gen>`), if any.
    const cid = envelope.correlationId;
    const tag = cid.startsWith(tagPrefix) ? Number(cid.slice(tagPrefix.length)) : NaN;
    dispatch({ type: 'push', push: { epoch: d.runtime_epoch as string, seq, snapshot: d.snapshot as object, gen: Number.isInteger(tag) ? tag : null } });
  };

  const loadCache = async (id: number): Promise<{ epoch: string | null } | null> => {
    if (!storage) return null;
    try {
      const raw = await new Promise<unknown>((resolve, reject) => {
        const t = clock.setTimeout(() => reject(new Error('cache read timed out')), persist?.loadTimeoutMs ?? 1000);
        // Through the chain: a get() that throws synchronously must still clear the timer.
        Promise.resolve(persistKey)
          .then((k) => storage.get(k))
          .then(resolve, reject)
          .finally(() => clock.clearTimeout(t));
      });
      const record = readRecord<S>(raw, persistVersion);
      if (!record || id != runId) return null;
      state = record.state;
      lastAppliedAt = confirmedAt = record.savedAt;
      source = 'cache';
      scheduleNotify();
      return { epoch: record.epoch };
    } catch (err) {
      // Missing, full or broken storage never stops syncing.
      report('STORAGE_ERROR', `reading the cached state failed: ${messageOf(err)}`, err);
      return null;
    }
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
        epoch: m.epoch,
        lastSeq: m.lastSeq,
        lastAppliedAt,
        source,
        staleMs: mode == 'HEALTHY' ? 0 : confirmedAt === null ? null : clock.now() - confirmedAt,
        lastError,
        counters: { ...stats, pushesDropped: stats.pushesDropped + invalidPushes },
      };
    },

    async start() {
      if (m.running) {
        if (m.mode == 'FAILED') store.resync('restarted');
        return;
      }
      const id = ++runId;
      const onEnv = (e: EnvironmentState & { leaving?: boolean }) => {
        if (e.leaving && timers.clear('save')) save();
        dispatch({ type: 'env', hidden: e.hidden, online: e.online });
      };
      // The cache read is issued first: a warm start must not queue behind connection setup.
      const cacheRead = loadCache(id);
      onEnv(env.read());
      [
        client.on('state_push', onPush),
        client.onConnect(() => dispatch({ type: 'connected' })),
        client.onDisconnect(() => dispatch({ type: 'disconnected' })),
        env.subscribe(onEnv),
      ].forEach(track);
      if (client.isConnected()) dispatch({ type: 'connected' });
      else client.connect().catch(noop); // failures reach onError; the grace timer degrades
      const cache = await cacheRead;
      if (id == runId) dispatch({ type: 'start', cache }); // else stopped while reading the cache
    },

    stop() {
      runId++;
      cleanups.forEach((fn) => fn());
      cleanups.clear();
      dispatch({ type: 'stop' });
      // Timers end here; a pending save or notification happens now rather than never.
      const hadSave = timers.has('save');
      const hadNotify = timers.has('notify');
      timers.clearAll();
      if (hadSave) save();
      if (hadNotify) notify();
    },

    resync(reason = 'resync() called') {
      dispatch({ type: 'resync', reason });
    },

    subscribe: listen(listeners),
  };
  return store;
}
