import type { NamespacedClient } from '../client/client';
import { SyncwireError, fail, invalid, messageOf } from '../errors';
import { fire, listen } from '../listeners';
import { createCorrelationId, isPlainObject, kindOf, type RequestResult, type ServerEnvelope } from '../protocol';
import { browserEnvironment, type EnvironmentSource, type EnvironmentState } from './env';
import { initialMachineState, transition, type Effect, type MachineEvent, type SyncMode, type Timing } from './machine';
import { idbStorage, readRecord, type PersistOptions, type PersistStorage, type PersistedRecord } from './persist';
import { deepEqual } from './equal';
import { unitRandom } from '../clock';
import { optFn, optObj, optShape } from '../validate';

/** Passed to `reduce` with each snapshot. */
export interface ReduceContext {
  /** Where the snapshot came from. */
  source: 'push' | 'poll';
  /** Ask for a full resync after this apply (e.g. a `log_guid` changed). */
  requestResync(reason?: string): void;
}

/** Options of {@link createSyncStore}. */
export interface SyncStoreOptions<S, P extends object = Record<string, unknown>> {
  /** The client of the namespace that serves `state_request` / `state_push`. */
  client: NamespacedClient;
  /** HTTP fallback endpoint, relative to the client's url. @default '/poll' */
  pollUrl?: string;
  /** Builds the `state_request` data and the poll body from the current state. */
  payload?: (state: S) => P;
  /** Returns the next state. @default the snapshot replaces the state */
  reduce?: (state: S, snapshot: object, context: ReduceContext) => S;
  /** State before anything arrived; a full resync reduces onto it. @default {} */
  initialState?: S;
  /** Warm start from IndexedDB: `false` (default) or options. */
  persist?: false | PersistOptions;
  /** Timing knobs, milliseconds. */
  timing?: Partial<Timing>;
  /** Decides whether an audit poll shows the server moved on. @default reduce it and compare */
  hasChanged?: (state: S, snapshot: object) => boolean;
  /** fetch for polls. @default globalThis.fetch */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Page visibility and network signals. @default the browser's */
  environment?: EnvironmentSource;
  /** Randomness for jitter. @default Math.random */
  random?: () => number;
}

/** What subscribers hear: a coalesced state change, or a mode change. */
export type SyncStoreEvent<S> =
  | { type: 'state'; state: S }
  | { type: 'mode'; from: SyncMode; to: SyncMode; reason: string };

/** A snapshot of how the store is doing. */
export interface SyncHealth {
  mode: SyncMode;
  connected: boolean;
  /** Runtime epoch of the applied state. */
  epoch: string | null;
  lastSeq: number;
  /** When state was last applied, and from where. */
  lastAppliedAt: number | null;
  source: 'push' | 'poll' | 'cache' | null;
  /** 0 while the push channel is live; otherwise ms since the state was last known current (null: never). */
  staleMs: number | null;
  lastError: { code: string; message: string } | null;
  counters: { pushesApplied: number; pushesDropped: number; resyncs: number; polls: number; handshakes: number };
}

/** The store. */
export interface SyncStore<S> {
  readonly mode: SyncMode;
  readonly state: S;
  readonly health: SyncHealth;
  /** Starts syncing (restores the cache first when `persist` is on). Restarting after FAILED retries. */
  start(): Promise<void>;
  /** Stops: no timer, listener, poll or request is left behind. The state is kept. */
  stop(): void;
  /** Full resync (e.g. after the page switches context); keeps showing the last good state until it lands. */
  resync(reason?: string): void;
  /** Called after each coalesced apply and each mode change. */
  subscribe(listener: (event: SyncStoreEvent<S>) => void): () => void;
}

const DEFAULT_TIMING: Timing = {
  handshakeTimeoutMs: 2000,
  pollIntervalMs: 250,
  // Under the 3000 ms ceiling with room to spare: a page with no push channel polls within 2 s.
  connectGraceMs: 2000,
  livenessMs: 30000,
  backoffBaseMs: 500,
  backoffMaxMs: 5000,
  pollBackoffMaxMs: 5000,
  notifyIntervalMs: 16,
};

/** The seed's default `state_request` body. */
export function defaultPayload(): Record<string, unknown> {
  return { context: null, log_from: 0, notifications_from: 0, timezone: (zone ??= browserZone()) };
}
// Read once: building an Intl.DateTimeFormat per handshake and poll costs more than the rest of the payload.
let zone: string | undefined;
function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC'; // some embedded browsers have no Intl time zones; the server accepts UTC
  }
}

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
  const timing: Timing = { ...DEFAULT_TIMING };
  Object.entries(optObj(options.timing, 'timing') ?? {}).forEach(([k, v]) => {
    // At least 1 ms: a zero backoff, poll interval or timeout would spin. A zero notify
    // interval only means "once per macrotask".
    const min = k === 'notifyIntervalMs' ? 0 : 1;
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_TIMING, k) || typeof v !== 'number' || !(v >= min) || v > 2 ** 31 - 1) {
      throw invalid(`timing.${k}`, `timing.${k} expects a known key with a finite number >= ${min}, but got ${typeof v === 'number' ? v : kindOf(v)}`);
    }
    timing[k as keyof Timing] = v;
  });
  timing.connectGraceMs = Math.min(timing.connectGraceMs, 3000);
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

  // Events raised while effects run are queued, so every transition sees a settled state.
  const queue: MachineEvent[] = [];
  let busy = false;
  const dispatch = (ev: MachineEvent) => {
    queue.push(ev);
    if (busy) return;
    busy = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const wasHealthy = m.mode === 'HEALTHY';
        const [s, fx] = transition(m, next, timing, unitRandom(random));
        m = s;
        if (wasHealthy && m.mode !== 'HEALTHY') confirmedAt = clock.now();
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
        const item = pickResult(res.results);
        const d = isPlainObject(item?.data) ? item.data : {};
        const seqBase = d.seq_base;
        if (item?.ok && typeof d.runtime_epoch === 'string' && Number.isInteger(seqBase) && (seqBase as number) >= 0) {
          return dispatch({ type: 'ack', gen, epoch: d.runtime_epoch, seqBase: seqBase as number, tagged: d.push_correlation === true });
        }
        // An ok:true item carrying { code, message } is Agent Zero's wrapped INVALID_REQUEST (anchor §4.2-B).
        // The error item is server data: only string code/message are trusted.
        const e = isPlainObject(item?.error) ? item.error : d;
        const code = typeof e.code === 'string' && e.code ? e.code : item ? 'INVALID_ENVELOPE' : 'HANDSHAKE_FAILED';
        const message = typeof e.error === 'string' ? e.error : typeof e.message === 'string' ? e.message : `state_request ack ${item ? 'lacks runtime_epoch/seq_base' : 'has no results'}`;
        nack(code, message);
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

  const fetchSnapshot = async (body: P): Promise<object> => {
    const f = options.fetch ?? (typeof fetch === 'function' ? fetch : undefined);
    if (!f) throw fail('POLL_FAILED', 'no fetch available for polling');
    const ctl = new AbortController();
    const timer = clock.setTimeout(() => ctl.abort(), Math.max(timing.handshakeTimeoutMs * 5, 5000));
    const untrack = track(() => {
      clock.clearTimeout(timer);
      ctl.abort();
    });
    try {
      const send = () => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        // The token goes only to the server it came from.
        if (client.csrfToken && new URL(pollUrl).origin === new URL(client.url, pollUrl).origin) headers['X-CSRF-Token'] = client.csrfToken;
        return f(pollUrl, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body), signal: ctl.signal });
      };
      // No socket ever connected (WebSockets blocked): get a token before the first poll.
      if (!client.csrfToken) await client.refreshAuth().catch(noop);
      let res = await send();
      if (res.status === 403) {
        // A restart rotated the token; fetch a fresh one and try once more.
        await client.refreshAuth();
        res = await send();
      }
      if (!res.ok) throw fail('POLL_FAILED', `POST ${pollUrl} answered HTTP ${res.status}`, { details: { status: res.status } });
      const snapshot = (await res.json()) as unknown;
      if (!isPlainObject(snapshot)) throw fail('POLL_FAILED', `poll answer expects a JSON object, but got ${kindOf(snapshot)}`);
      confirmedAt = clock.now();
      return snapshot;
    } finally {
      clock.clearTimeout(timer);
      untrack();
    }
  };

  const onPush = (env: ServerEnvelope) => {
    const d = env.data;
    const seq = d.seq as number;
    const bad = typeof d.runtime_epoch !== 'string' ? 'runtime_epoch' : !Number.isInteger(seq) || seq < 0 ? 'seq' : !isPlainObject(d.snapshot) ? 'snapshot' : '';
    if (bad) {
      invalidPushes++;
      return report('INVALID_ENVELOPE', `state_push field '${bad}' is invalid (${kindOf(d[bad])})`);
    }
    const tag = env.correlationId.startsWith(tagPrefix) ? Number(env.correlationId.slice(tagPrefix.length)) : NaN;
    dispatch({ type: 'push', push: { epoch: d.runtime_epoch as string, seq, snapshot: d.snapshot as object, gen: Number.isInteger(tag) ? tag : null } });
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

/** The handshake's own result: the one carrying runtime_epoch, else the first error (anchor §4.2-S). */
function pickResult(results: RequestResult[]): RequestResult | undefined {
  return (
    results.find((r) => r.ok && isPlainObject(r.data) && 'runtime_epoch' in r.data) ?? results.find((r) => !r.ok) ?? results[0]
  );
}

const codeOf = (err: unknown, fallback: string): string => (err instanceof SyncwireError ? err.code : fallback);
const noop = () => {};
