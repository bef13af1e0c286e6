import { backoffDelay, createTimerGroup, systemClock } from '../clock';
import { SyncwireError, fail, invalid, messageOf } from '../errors';
import { fire, listen } from '../listeners';
import { createLogger, type LogCategory, type Logger, type LoggerOptions } from '../logger';
import { optFn, optObj, optShape } from '../validate';
import {
  assertEventName,
  isPlainObject,
  validateAck,
  validateServerEnvelope,
  type RequestResponse,
  type ServerEnvelope,
} from '../protocol';
import { csrfTokenAuth, userAuth } from './auth';
import { callOptions, createCalls, positive } from './calls';
import { defaultSocketFactory, type SocketLike, type SocketListener } from './socket';

import type { ClientOptions, ConnectInfo, EmitOptions, EventCallback, NamespacedClient, RequestOptions } from './api';

export type { ClientOptions, ConnectInfo, EmitOptions, EventCallback, NamespacedClient, RequestOptions } from './api';

const noop = () => {};

/** A Logger as given, or one made from LoggerOptions. */
function loggerFrom(value: ClientOptions['logger']): Logger {
  if (value !== undefined && typeof (value as Partial<Logger> | null)?.log === 'function') return value as Logger;
  const opts = optObj(value as LoggerOptions | undefined, 'logger');
  const enabled: unknown = opts?.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean' && !(Array.isArray(enabled) && enabled.every((c) => typeof c === 'string'))) {
    throw invalid('logger.enabled', 'logger.enabled expects a boolean or a list of categories');
  }
  optFn(opts?.sink, 'logger.sink');
  return createLogger(opts);
}

/**
 * Creates a client for one Socket.IO namespace. Nothing connects until
 * `connect()`, `emit()`, `request()` or `on()` is first called.
 *
 * @example
 * ```ts
 * const client = createNamespacedClient('/state_sync', { url: 'https://example.test' })
 * const off = client.on('server_restart', ({ data }) => console.log(data.runtimeId))
 * const { results } = await client.request('echo', { hello: 1 }, { timeoutMs: 1500 })
 * ```
 */
export function createNamespacedClient(namespace: string, options: ClientOptions = {}): NamespacedClient {
  if (typeof namespace !== 'string' || !namespace.trim()) throw invalid('namespace', 'namespace expects a non-empty string');
  const given: unknown = options;
  if (!isPlainObject(given)) throw invalid('options', 'options expects a plain object');
  const ns = namespace.trim().replace(/^\/?/, '/');
  const url = options.url ?? (typeof location !== 'undefined' ? location.origin : '');
  if (typeof url !== 'string' || !url) throw invalid('url', 'url is required outside a browser page');
  const requestTimeoutMs = positive(options.requestTimeoutMs, 'requestTimeoutMs', 30000);
  const connectTimeoutMs = positive(options.connectTimeoutMs, 'connectTimeoutMs', 20000);
  const authTimeoutMs = positive(options.authTimeoutMs, 'authTimeoutMs', 5000);
  const maxPayloadBytes = positive(options.maxPayloadBytes, 'maxPayloadBytes', 50 * 1024 * 1024);
  const maxPending = positive(options.maxPending, 'maxPending', 1000);
  const retryBase = positive(options.retry?.baseMs, 'retry.baseMs', 250);
  const retryMax = positive(options.retry?.maxMs, 'retry.maxMs', 10000);
  const clock = optShape(options.clock, 'clock', ['now', 'setTimeout', 'clearTimeout']) ?? systemClock;
  const random = optFn(options.random, 'random') ?? Math.random;
  optFn(options.fetch, 'fetch');
  optFn(options.socketFactory, 'socketFactory');
  optObj(options.retry, 'retry');
  optObj(options.socketOptions, 'socketOptions');
  if (options.auth !== undefined && typeof options.auth !== 'function') optObj(options.auth, 'auth');
  const logger = loggerFrom(options.logger);
  const timers = createTimerGroup(clock);
  const auth = options.auth !== undefined ? userAuth(options.auth) : csrfTokenAuth(url, options.fetch, timers, authTimeoutMs);
  const log: Logger['log'] = (c, m, d) => logger.log(c, m, d);
  // Hot paths (every push, every request) build their log details only when someone listens.
  const logging = (c: LogCategory) => logger.isEnabled(c);

  const subs = new Map<string, Set<EventCallback<object>>>();
  // Each event's callbacks as an array to iterate, copied once after a change rather than per event.
  const lists = new Map<string, EventCallback<object>[]>();
  const dispatchers = new Map<string, SocketListener>();
  const connectHooks = new Set<(i: ConnectInfo) => void>();
  const disconnectHooks = new Set<(r: string) => void>();
  const errorHooks = new Set<(e: SyncwireError) => void>();
  const disposeHooks = new Set<() => void>();

  let socket: SocketLike | undefined;
  // The pending connect() promise shared by every caller, and how to settle it.
  let waiting: Promise<void> | undefined;
  let settleWaiting: (err?: SyncwireError) => void = noop;
  let cancelRetry: (() => void) | undefined;
  let retryAttempt = 0;
  let refreshAuth = false;
  let manual = false;
  let terminal: SyncwireError | undefined;
  let disposed = false;
  let everConnected = false;
  let csrfToken: string | undefined;
  let authRuntimeId: string | undefined;
  let restartRuntimeId: string | undefined;
  let runtimeId: string | undefined;

  const disposedError = () => fail('DISPOSED', 'client was disposed');

  const reportError = (e: unknown) => {
    const err = e instanceof SyncwireError ? e : fail('HANDLER_ERROR', messageOf(e), { cause: e });
    log('connect', 'error', { code: err.code, message: err.message });
    // Listeners that throw here are swallowed: reporting an error must never loop.
    fire(errorHooks, err, noop);
  };

  const stopRetry = () => {
    cancelRetry?.();
    cancelRetry = undefined;
  };

  const runAuth = (refresh: boolean) =>
    auth({ namespace: ns, refresh }).then((r) => {
      if (r.runtimeId) authRuntimeId = r.runtimeId;
      if (typeof r.payload.csrf_token === 'string') csrfToken = r.payload.csrf_token;
      return r.payload;
    });

  // Socket.IO calls this on every connect attempt, reconnects included.
  const authCallback = (cb: (data: object) => void) => {
    const refresh = refreshAuth;
    refreshAuth = false;
    let done = false;
    const finish = (payload: object) => {
      if (done || disposed) return;
      done = true;
      cancel();
      cb(payload);
    };
    // Going on without credentials lets a server that needs none accept us, and one
    // that does reject us, which schedules a retry with fresh credentials.
    const withoutCredentials = (err: SyncwireError) => {
      reportError(err);
      finish({});
    };
    const cancel = timers.set(() => withoutCredentials(fail('CONNECT_ERROR', `auth took longer than ${authTimeoutMs} ms`)), authTimeoutMs);
    runAuth(refresh).then(finish, (e: unknown) =>
      withoutCredentials(e instanceof SyncwireError ? e : fail('CONNECT_ERROR', `auth failed: ${messageOf(e)}`, { cause: e })),
    );
  };

  const dispatch = (event: string, raw: unknown, ack: ((v: unknown) => void) | undefined) => {
    let env: ServerEnvelope;
    try {
      env = validateServerEnvelope(raw);
    } catch (e) {
      const error = messageOf(e);
      reportError(fail('INVALID_ENVELOPE', `'${event}': ${error}`, { cause: e, details: (e as SyncwireError).details }));
      ack?.({ correlationId: null, results: [{ ok: false, error: { code: 'INVALID_ENVELOPE', error } }] });
      return;
    }
    if (logging('push')) log('push', event, { correlationId: env.correlationId, handlerId: env.handlerId });
    // The set as it is now: a callback that (un)subscribes changes the next event's list, not this one.
    let callbacks = lists.get(event);
    if (!callbacks) lists.set(event, (callbacks = [...(subs.get(event) ?? [])]));
    if (!ack) {
      for (const cb of callbacks) {
        try {
          const r = cb(env);
          if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(noop, reportError);
        } catch (e) {
          reportError(e);
        }
      }
      return;
    }
    // A server request: one result per callback, awaited, errors turned into items.
    void Promise.all(
      callbacks.map((cb) =>
        Promise.resolve()
          .then(() => cb(env))
          .then(
            (value) => ({ ok: true, data: value === undefined ? {} : value }),
            (e: unknown) => ({ ok: false, error: { code: 'HANDLER_ERROR', error: messageOf(e) } }),
          ),
      ),
    ).then((results) =>
      ack({
        correlationId: env.correlationId,
        results: results.length ? results : [{ ok: false, error: { code: 'NO_HANDLERS', error: `No client handler for '${event}'` } }],
      }),
    );
  };

  const attach = (event: string) => {
    if (!socket || dispatchers.has(event)) return;
    // Not `(...args) =>`: Socket.IO calls listeners through apply(), so a rest array would be
    // built for every inbound event. Reading `arguments` by index builds nothing.
    const d: SocketListener = function (raw: unknown) {
      const last: unknown = arguments[arguments.length - 1]; // eslint-disable-line prefer-rest-params
      dispatch(event, raw, typeof last === 'function' ? (last as (v: unknown) => void) : undefined);
    };
    dispatchers.set(event, d);
    socket.on(event, d);
  };

  const scheduleRetry = () => {
    if (cancelRetry || manual || disposed || terminal) return;
    const delay = backoffDelay(retryAttempt++, retryBase, retryMax, random, 50);
    log('connect', 'retry scheduled', { delay });
    cancelRetry = timers.set(() => {
      cancelRetry = undefined;
      if (!manual && !disposed) open();
    }, delay);
  };

  // The default auth also sets the csrf_token_<runtime id> cookie, which the server checks on
  // the Engine.IO handshake, before Socket.IO ever asks for auth. So the token is fetched
  // before the socket opens, as Agent Zero's page does; the auth callback then reuses it.
  let opening = false;
  const open = () => {
    const s = socket;
    if (!s || opening || s.active || s.connected) return;
    if (options.auth !== undefined) return void s.connect();
    opening = true;
    const refresh = refreshAuth;
    refreshAuth = false;
    void runAuth(refresh)
      .catch(noop) // the callback tries again and reports
      .then(() => {
        opening = false;
        if (!manual && !disposed && !s.active && !s.connected) s.connect();
      });
  };

  // Attached before the socket opens, so an event the server sends inside its
  // connect handler (server_restart) is never lost.
  const socketHandlers: Record<string, SocketListener> = {
    server_restart(raw) {
      if (isPlainObject(raw) && isPlainObject(raw.data) && typeof raw.data.runtimeId === 'string') restartRuntimeId = raw.data.runtimeId;
    },

    connect() {
      stopRetry();
      retryAttempt = 0;
      // server_restart arrives before `connect`, so its runtime id is the freshest we have.
      const id = restartRuntimeId ?? authRuntimeId;
      restartRuntimeId = undefined;
      const info: ConnectInfo = { firstConnect: !everConnected, runtimeChanged: !!(id && runtimeId && id !== runtimeId) };
      if (id) info.runtimeId = runtimeId = id;
      everConnected = true;
      log('connect', 'connected', { namespace: ns, ...info });
      settleWaiting();
      fire(connectHooks, info, reportError);
    },

    connect_error(raw) {
      const e = raw instanceof Error ? raw : new Error(String(raw));
      const data = (e as { data?: unknown }).data;
      const unknownNs = e.message === 'UNKNOWN_NAMESPACE' || (isPlainObject(data) && data.code === 'UNKNOWN_NAMESPACE');
      const rejected = !socket?.active;
      const err = unknownNs
        ? fail('UNKNOWN_NAMESPACE', `the server does not know namespace ${ns}`, { cause: e, details: data ?? { code: 'UNKNOWN_NAMESPACE', namespace: ns } })
        : fail('CONNECT_ERROR', `connect to ${ns} failed: ${e.message}`, { cause: e, details: { reason: e.message, rejected, data } });
      if (unknownNs) terminal = err;
      settleWaiting(err);
      reportError(err);
      if (!unknownNs && rejected) {
        // A namespace-level rejection (e.g. a CSRF token from before a restart): Socket.IO
        // will not retry it, so we do, with fresh credentials. Transport failures are left
        // to Socket.IO's own Manager, so two loops never drive one socket.
        refreshAuth = true;
        scheduleRetry();
      }
    },

    disconnect(reason) {
      const why = String(reason);
      log('connect', 'disconnected', { reason: why });
      const err = fail('DISCONNECTED', `connection to ${ns} closed (${why})`, { details: { reason: why } });
      calls.dropSent(err);
      fire(disconnectHooks, why, reportError);
      // The server closed this namespace on purpose; Socket.IO will not come back by itself.
      if (why === 'io server disconnect') {
        refreshAuth = true;
        scheduleRetry();
      }
    },
  };

  const ensureSocket = (): SocketLike => {
    if (socket) return socket;
    const s = (options.socketFactory ?? defaultSocketFactory)({ url, namespace: ns, auth: authCallback, options: options.socketOptions ?? {} });
    socket = s;
    Object.entries(socketHandlers).forEach(([event, fn]) => s.on(event, fn));
    subs.forEach((_, event) => attach(event));
    return s;
  };

  const connect = (): Promise<void> => {
    if (disposed) return Promise.reject(disposedError());
    if (terminal) return Promise.reject(terminal);
    manual = false;
    const s = ensureSocket();
    if (s.connected) return Promise.resolve();
    const w = (waiting ??= new Promise<void>((resolve, reject) => {
      const cancel = timers.set(
        () => settleWaiting(fail('CONNECT_ERROR', `no answer from ${ns} within ${connectTimeoutMs} ms`, { details: { reason: 'timeout' } })),
        connectTimeoutMs,
      );
      settleWaiting = (err) => {
        waiting = undefined;
        settleWaiting = noop;
        cancel();
        if (err) reject(err);
        else resolve();
      };
    }));
    // While a rejection retry is pending, let the backoff run; otherwise (re)start.
    if (!cancelRetry) open();
    return w;
  };

  const whenConnected = (): Promise<SocketLike> =>
    socket?.connected
      ? Promise.resolve(socket)
      : connect().then(
          () => socket as SocketLike,
          (e: SyncwireError) => {
            throw e.code === 'DISPOSED' || e.code === 'UNKNOWN_NAMESPACE'
              ? e
              : fail('NOT_CONNECTED', `not connected to ${ns}: ${e.message}`, { cause: e, details: { code: e.code } });
          },
        );
  const notConnected = () => fail('NOT_CONNECTED', `not connected to ${ns}`);

  const calls = createCalls({
    clock,
    requestTimeoutMs,
    maxPayloadBytes,
    maxPending,
    connectedSocket: () => (socket?.connected ? socket : undefined),
    whenConnected,
    notConnected,
    log,
    logging,
  });

  const client: NamespacedClient = {
    namespace: ns,
    url,
    logger,
    clock,
    get csrfToken() {
      return csrfToken;
    },
    get runtimeId() {
      return runtimeId;
    },
    get disposed() {
      return disposed;
    },
    connect,

    emit(event, data, given) {
      // Bad options reject like every other failure: emit() and request() never throw.
      let opts: EmitOptions;
      try {
        opts = callOptions(given);
      } catch (e) {
        return Promise.reject(e instanceof SyncwireError ? e : fail('VALIDATION_ERROR', messageOf(e)));
      }
      if (opts.confirm === false) return calls.fireAndForget(event, data, opts);
      return calls.call(event, data, opts, 'emit', noop);
    },

    request<T>(event: string, data?: object | null, given?: RequestOptions) {
      let opts: RequestOptions;
      try {
        opts = callOptions(given);
      } catch (e) {
        return Promise.reject(e instanceof SyncwireError ? e : fail('VALIDATION_ERROR', messageOf(e)));
      }
      return calls.call(event, data, opts, 'request', validateAck) as Promise<RequestResponse<T>>;
    },

    on<T extends object>(event: string, callback: EventCallback<T>) {
      assertEventName(event);
      if (typeof callback !== 'function') throw invalid('callback', 'callback expects a function');
      if (disposed) throw disposedError();
      let set = subs.get(event);
      if (!set) subs.set(event, (set = new Set()));
      set.add(callback as EventCallback<object>);
      lists.delete(event);
      if (socket) attach(event);
      else connect().catch(noop); // the failure reaches onError listeners
      return () => client.off(event, callback);
    },

    off<T extends object>(event: string, callback: EventCallback<T>) {
      // Removing every callback of a shared client is how the anchor's harness broke live updates.
      if (typeof callback !== 'function') throw invalid('callback', 'off() needs the callback to remove');
      const set = subs.get(event);
      if (!set?.delete(callback as EventCallback<object>)) return;
      lists.delete(event);
      if (set.size) return;
      subs.delete(event);
      const d = dispatchers.get(event);
      dispatchers.delete(event);
      if (d) socket?.off(event, d);
    },

    onConnect: listen(connectHooks),
    onDisconnect: listen(disconnectHooks),
    onError: listen(errorHooks),
    reportError,
    refreshAuth: () => runAuth(true).then(noop),
    isConnected: () => !!socket?.connected,

    reconnect(opts = {}) {
      if (opts.refreshAuth) refreshAuth = true;
      if (socket) {
        stopRetry();
        socket.disconnect();
      }
      return connect();
    },

    disconnect() {
      manual = true;
      stopRetry();
      settleWaiting(fail('DISCONNECTED', 'disconnect() was called'));
      socket?.disconnect();
    },

    dispose() {
      if (disposed) return;
      client.disconnect();
      disposed = true;
      const s = socket;
      if (s) [...Object.entries(socketHandlers), ...dispatchers].forEach(([event, fn]) => s.off(event, fn));
      calls.dispose(disposedError());
      [dispatchers, subs, lists, connectHooks, disconnectHooks, errorHooks].forEach((c) => c.clear());
      timers.clear();
      auth.cancel?.();
      disposeHooks.forEach((fn) => fn());
      disposeHooks.clear();
    },
  };
  onDispose.set(client, listen(disposeHooks));
  return client;
}

/** @internal lets the registry forget a client once it is disposed. */
export const onDispose = new WeakMap<NamespacedClient, (fn: () => void) => void>();
