import { SyncwireError, fail, invalid, messageOf } from '../errors';
import { fire, listen } from '../listeners';
import { createCorrelationId, isPlainObject, kindOf, type ServerEnvelope } from '../protocol';
import type { SyncHealth, SyncStore, SyncStoreEvent, SyncStoreOptions } from './api';
import { browserEnvironment, type EnvironmentState } from './env';
import { initialMachineState, inOrderPush, transition, type Effect, type MachineEvent, type PushIn } from './machine';
import { idbStorage, readRecord, type PersistStorage, type PersistedRecord } from './persist';
import { deepEqual } from './equal';
import { handshakeAnswer } from './handshake';
import { defaultPayload, resolveTiming } from './options';
import { createPoll } from './poll';
import { unitRandom } from '../clock';
import { optFn, optObj, optShape } from '../validate';

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
  const opts: unknown = options;
  if (!isPlainObject(opts)) throw invalid('options', 'createSyncStore expects { client, ... }');
  const client = optShape(options.client, 'client', ['on', 'onConnect', 'onDisconnect', 'request', 'reportError', 'refreshAuth']);
  if (!client) throw invalid('client', 'createSyncStore needs { client }');
  const persistOpts = options.persist === false ? undefined : optObj(options.persist, 'persist');
  if (persistOpts) optShape(persistOpts.storage, 'persist.storage', ['get', 'set']);
  const clock = client.clock;
  const timing = resolveTiming(options.timing);
  const initialState = (options.initialState ?? {}) as S;
  const payload = optFn(options.payload, 'payload') ?? (defaultPayload as unknown as (s: S) => P);
  const reduce = optFn(options.reduce, 'reduce') ?? ((_s: S, snapshot: object) => snapshot as S);
  const hasChanged =
    optFn(options.hasChanged, 'hasChanged') ?? ((s: S, snap: object) => !deepEqual(reduce(s, snap, { source: 'poll', requestResync() {} }), s));
  const env = optShape(options.environment, 'environment', ['read', 'subscribe']) ?? browserEnvironment;
  const random = optFn(options.random, 'random') ?? Math.random;
  optFn(options.fetch, 'fetch');
  let pollUrl: string;
  try {
    pollUrl = new URL(options.pollUrl ?? '/poll', client.url).href;
  } catch {
    throw invalid('pollUrl', `pollUrl (${kindOf(options.pollUrl)}) and the client's url do not make a valid URL`);
  }
  const persistKey = persistOpts?.key ?? 'syncwire:state';
  const persistVersion = persistOpts?.version ?? 1;
  let storage: PersistStorage | undefined;
  // One prefix per store: handshake correlationIds are `<prefix>-<gen>`, so a tagged push names its handshake.
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
  const listeners = new Set<(e: SyncStoreEvent<S>) => void>();
  // Machine timers plus the notify and save timers, each at most once.
  const timers = new Map<string, unknown>();
  // Subscriptions and work in flight (handshakes, polls), each with its own cleanup, so stop() ends them synchronously.
  const cleanups = new Set<() => void>();

  const report = (code: string, message: string, cause?: unknown) => {
    lastError = { code, message };
    client.reportError(cause instanceof SyncwireError ? cause : fail(code as SyncwireError['code'], message, { cause }));
  };

  const emit = (e: SyncStoreEvent<S>) => fire(listeners, e, (err) => client.reportError(err));

  const clearTimer = (name: string) => {
    if (timers.has(name)) clock.clearTimeout(timers.get(name));
    timers.delete(name);
  };
  const setTimer = (name: string, ms: number, fn: () => void) => {
    clearTimer(name);
    timers.set(name, clock.setTimeout(() => (timers.delete(name), fn()), ms));
  };

  const track = listen(cleanups);
  const fetchSnapshot = createPoll({
    client,
    pollUrl,
    fetch: options.fetch,
    clock,
    timeoutMs: Math.max(timing.handshakeTimeoutMs * 5, 5000),
    track,
    confirmed: () => void (confirmedAt = clock.now()),
  });

  // Events raised while effects run are queued, so every transition sees a settled state.
  const queue: MachineEvent[] = [];
  let busy = false;
  // Runs `fn(arg)` with the machine to itself, then every event raised meanwhile, in order.
  const exclusive = <A>(fn: (arg: A) => void, arg: A) => {
    busy = true;
    try {
      fn(arg);
      for (let next = queue.shift(); next; next = queue.shift()) step(next);
    } finally {
      busy = false;
    }
  };
  const dispatch = (ev: MachineEvent) => {
    if (busy) return void queue.push(ev);
    if (!queue.length) return exclusive(step, ev);
    queue.push(ev); // events left behind by a run that threw still go first
    exclusive(step, queue.shift() as MachineEvent);
  };
  const step = (ev: MachineEvent) => {
    if (ev.type !== 'push' || !inOrder(ev.push)) general(ev);
  };
  // A push in order while HEALTHY: transition() would return this state plus one apply of
  // its snapshot, so the apply runs straight away (no effect list, no jitter to draw).
  const inOrder = (push: PushIn): boolean => {
    const next = inOrderPush(m, push);
    if (!next) return false;
    m = next;
    apply(push.snapshot, 'push', false);
    return true;
  };
  const general = (ev: MachineEvent) => {
    const wasHealthy = m.mode === 'HEALTHY';
    const [s, fx] = transition(m, ev, timing, unitRandom(random));
    m = s;
    if (wasHealthy && m.mode !== 'HEALTHY') confirmedAt = clock.now();
    for (const e of fx) run(e);
  };
  // A push as it arrives, when nothing else is under way: no event object, no queue.
  const pushNow = (push: PushIn) => {
    if (!inOrder(push)) general({ type: 'push', push });
  };

  const run = (e: Effect) => {
    switch (e.type) {
      case 'mode':
        client.logger.log('push', `mode ${e.from} → ${e.to}`, { reason: e.reason });
        emit(e);
        break;
      case 'set':
        setTimer(e.name, e.ms, () => dispatch({ type: 'timer', name: e.name }));
        break;
      case 'clear':
        clearTimer(e.name);
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
        // User code (payload) runs inside the promise chain: a throw becomes a failed poll, never an exception out of a timer.
        Promise.resolve(e.full ? initialState : state)
          .then((base) => fetchSnapshot(payload(base)))
          .then(
            (snapshot) => dispatch({ type: 'polled', id: e.id, ok: true, snapshot }),
            (err: unknown) => dispatch({ type: 'polled', id: e.id, ok: false, code: codeOf(err, 'POLL_FAILED'), message: messageOf(err) }),
          );
        break;
      case 'audit': {
        const before = state;
        Promise.resolve()
          .then(() => fetchSnapshot(payload(before)))
          .then((snapshot) => hasChanged(before, snapshot))
          .then(
            (changed) => dispatch({ type: 'audited', id: e.id, changed: changed === true }),
            // A failed audit (network, or payload/hasChanged threw) proves nothing: look again next window.
            (err: unknown) => {
              if (!(err instanceof SyncwireError)) report('VALIDATION_ERROR', `liveness audit failed: ${messageOf(err)}`, err);
              dispatch({ type: 'audited', id: e.id, changed: null });
            },
          );
        break;
      }
    }
  };

  const handshake = (gen: number, full: boolean) => {
    const ctl = new AbortController();
    const untrack = track(() => ctl.abort());
    const nack = (code: string, message: string) => dispatch({ type: 'nack', gen, code, message });
    let data: P;
    try {
      data = payload(full ? initialState : state);
    } catch (err) {
      return nack('VALIDATION_ERROR', `payload() threw: ${messageOf(err)}`);
    }
    client.request('state_request', data, { timeoutMs: timing.handshakeTimeoutMs, correlationId: tagPrefix + gen, signal: ctl.signal }).then(
      (res) => {
        untrack();
        dispatch(handshakeAnswer(gen, res));
      },
      (err: unknown) => {
        untrack();
        nack(codeOf(err, 'HANDSHAKE_FAILED'), messageOf(err));
      },
    );
  };

  const apply = (snapshot: object, from: 'push' | 'poll', fromInitial: boolean) => {
    let resyncReason: string | undefined;
    let next: S;
    try {
      next = reduce(fromInitial ? initialState : state, snapshot, {
        source: from,
        requestResync: (reason = 'reducer asked') => void (resyncReason = reason),
      });
    } catch (err) {
      // The state is left as it was. Retry from scratch once; a reducer that fails on a
      // full snapshot too would loop forever, so that is terminal.
      report('REDUCE_ERROR', `reduce threw: ${messageOf(err)}`, err);
      return dispatch(
        ++reduceFailures > 1 && fromInitial ? { type: 'fatal', code: 'REDUCE_ERROR', message: messageOf(err) } : { type: 'resync', reason: 'reduce threw' },
      );
    }
    if (!fromInitial || !resyncReason) reduceFailures = 0;
    state = next;
    lastAppliedAt = confirmedAt = clock.now();
    source = from;
    scheduleNotify();
    // Saves are throttled: one write per throttleMs at most, with the state of that moment.
    if (persistOpts && !timers.has('save')) setTimer('save', persistOpts.throttleMs ?? 1000, save);
    if (resyncReason) dispatch({ type: 'resync', reason: resyncReason });
  };

  // Timer-based, not requestAnimationFrame (rAF stops in hidden tabs). A burst within one
  // macrotask is one notification; pushes that each arrive in their own macrotask (1,000/s)
  // are held to one notification per notifyIntervalMs, so a UI never renders per push.
  let lastNotifyAt = -Infinity;
  const scheduleNotify = () => {
    if (!timers.has('notify')) setTimer('notify', Math.max(0, lastNotifyAt + timing.notifyIntervalMs - clock.now()), notify);
  };
  const notify = () => {
    lastNotifyAt = clock.now();
    emit({ type: 'state', state });
  };

  const save = () => {
    const record: PersistedRecord<S> = { format: 1, version: persistVersion, epoch: m.epoch, savedAt: lastAppliedAt ?? clock.now(), state };
    // Inside the chain, a storage that throws synchronously (quota, a clone error) is reported like a rejection.
    Promise.resolve()
      .then(() => storage?.set(persistKey, record))
      .then(
        () => void (saveFailing = false),
        (err: unknown) => {
          if (!saveFailing) report('STORAGE_ERROR', `saving the state failed: ${messageOf(err)}`, err);
          saveFailing = true;
        },
      );
  };

  const onPush = (env: ServerEnvelope) => {
    const d = env.data;
    const seq = d.seq as number;
    const bad = typeof d.runtime_epoch !== 'string' ? 'runtime_epoch' : !Number.isInteger(seq) || seq < 0 ? 'seq' : !isPlainObject(d.snapshot) ? 'snapshot' : '';
    if (bad) {
      invalidPushes++;
      return report('INVALID_ENVELOPE', `state_push field '${bad}' is invalid (${kindOf(d[bad])})`);
    }
    const push: PushIn = { epoch: d.runtime_epoch as string, seq, snapshot: d.snapshot as object, gen: tagOf(env.correlationId) };
    if (busy || queue.length) dispatch({ type: 'push', push });
    else exclusive(pushNow, push);
  };
  // The handshake a push was tagged with (correlationId `<prefix><gen>`), if any. A period's
  // pushes all carry the same correlationId, so the last one is remembered.
  let lastTagId: string | undefined;
  let lastTag: number | null = null;
  const tagOf = (correlationId: string): number | null => {
    if (correlationId !== lastTagId) {
      const tag = correlationId.startsWith(tagPrefix) ? Number(correlationId.slice(tagPrefix.length)) : NaN;
      lastTagId = correlationId;
      lastTag = Number.isInteger(tag) ? tag : null;
    }
    return lastTag;
  };

  const loadCache = async (id: number): Promise<{ epoch: string | null } | null> => {
    if (!persistOpts) return null;
    try {
      storage ??= persistOpts.storage ?? idbStorage(persistOpts.dbName ?? 'syncwire', persistOpts.storeName ?? 'state');
      const db = storage;
      const raw = await new Promise<unknown>((resolve, reject) => {
        const t = clock.setTimeout(() => reject(new Error('cache read timed out')), persistOpts.loadTimeoutMs ?? 1000);
        // Through the chain: a get() that throws synchronously must still clear the timer.
        Promise.resolve()
          .then(() => db.get(persistKey))
          .then(resolve, reject)
          .finally(() => clock.clearTimeout(t));
      });
      const record = readRecord<S>(raw, persistVersion);
      if (!record || id !== runId) return null;
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
        staleMs: mode === 'HEALTHY' ? 0 : confirmedAt === null ? null : clock.now() - confirmedAt,
        lastError,
        counters: { ...stats, pushesDropped: stats.pushesDropped + invalidPushes },
      };
    },

    async start() {
      if (m.running) {
        if (m.mode === 'FAILED') store.resync('restarted');
        return;
      }
      const id = ++runId;
      const onEnv = (e: EnvironmentState & { leaving?: boolean }) => {
        if (e.leaving && timers.has('save')) {
          clearTimer('save');
          save();
        }
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
      if (id !== runId) return; // stopped while reading the cache
      dispatch({ type: 'start', cache });
    },

    stop() {
      runId++;
      cleanups.forEach((fn) => fn());
      cleanups.clear();
      dispatch({ type: 'stop' });
      // Timers end here; a pending save or notification happens now rather than never.
      const hadSave = timers.has('save');
      const hadNotify = timers.has('notify');
      timers.forEach((h) => clock.clearTimeout(h));
      timers.clear();
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

const codeOf = (err: unknown, fallback: string): string => (err instanceof SyncwireError ? err.code : fallback);
const noop = () => {};
