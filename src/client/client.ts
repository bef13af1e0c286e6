import { backoffDelay, createTimers, systemClock } from '../clock';
import { asError, fail, invalid, messageOf, type SyncwireError } from '../errors';
import { fire, listen, noop } from '../listeners';
import { createLogger, type Logger, type LoggerOptions } from '../logger';
import { num, optFn, optObj, optShape } from '../validate';
import { assertEventName, isPlainObject, validateAck, validateServerEnvelope, type RequestResponse, type ServerEnvelope } from '../protocol';
import { csrfTokenAuth, userAuth } from './auth';
import { createCalls } from './calls';
import { defaultSocketFactory, type SocketLike, type SocketListener } from './socket';

import type { ClientOptions, ConnectInfo, EventCallback, NamespacedClient } from './api';

export type { ClientOptions, ConnectInfo, EmitOptions, EventCallback, NamespacedClient, RequestOptions } from './api';

/** A Logger as given, or one made from LoggerOptions. */
function loggerFrom(value: ClientOptions['logger']): Logger {
  if (typeof (value as Partial<Logger> | undefined)?.log == 'function') return value as Logger;
  const opts = optObj(value as LoggerOptions | undefined, 'logger') ?? {};
  const enabled: unknown = opts.enabled;
  if (enabled !== undefined && typeof enabled != 'boolean' && !(Array.isArray(enabled) && enabled.every((c) => typeof c == 'string'))) {
    throw invalid('logger.enabled', 'logger.enabled expects a boolean or a list of categories');
  }
  optFn(opts.sink, 'logger.sink');
  return createLogger(opts);
}

// Timer names of the client's own timers (auth fetches use their AbortController as the name).
const RETRY = 0;
const CONNECT = 1;

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
  if (typeof namespace != 'string' || !namespace.trim()) throw invalid('namespace', 'namespace expects a non-empty string');
  const given: unknown = options;
  if (!isPlainObject(given)) throw invalid('options', 'options expects a plain object');
  const o = options;
  const ns = namespace.trim().replace(/^\/?/, '/');
  const url = o.url ?? (typeof location != 'undefined' ? location.origin : '');
  if (typeof url != 'string' || !url) throw invalid('url', 'url is required outside a browser page');
  const retry = optObj(o.retry, 'retry') ?? {};
  const retryBase = num(retry, 'baseMs', 250, 'retry.');
  const retryMax = num(retry, 'maxMs', 10000, 'retry.');
  const connectTimeoutMs = num(o, 'connectTimeoutMs', 20000);
  const authTimeoutMs = num(o, 'authTimeoutMs', 5000);
  const clock = optShape(o.clock, 'clock', ['now', 'setTimeout', 'clearTimeout']) ?? systemClock;
  const random = optFn(o.random, 'random') ?? Math.random;
  optFn(o.fetch, 'fetch');
  const socketFactory = optFn(o.socketFactory, 'socketFactory') ?? defaultSocketFactory;
  const socketOptions = optObj(o.socketOptions, 'socketOptions') ?? {};
  if (typeof o.auth != 'function') optObj(o.auth, 'auth');
  const logger = loggerFrom(o.logger);
  const log: Logger['log'] = (c, m, d) => logger.log(c, m, d);
  const timers = createTimers(clock);
  const auth = o.auth !== undefined ? userAuth(o.auth) : csrfTokenAuth(url, o.fetch, timers, authTimeoutMs);

  const subs = new Map<string, Set<EventCallback<object>>>();
  const dispatchers = new Map<string, SocketListener>();
  const connectHooks = new Set<(i: ConnectInfo) => void>();
  const disconnectHooks = new Set<(r: string) => void>();
  const errorHooks = new Set<(e: SyncwireError) => void>();

  let socket: SocketLike | undefined;
  // The pending connect() promise shared by every caller, and how to settle it.
  let waiting: Promise<void> | undefined;
  let settleWaiting: (err?: SyncwireError) => void = noop;
  let retryAttempt = 0;
  let refreshAuth = false;
  let manual = false;
  let opening = false;
  let terminal: SyncwireError | undefined;
  let disposed = false;
  let everConnected = false;
  let csrfToken: string | undefined;
  let authRuntimeId: string | undefined;
  let restartRuntimeId: string | undefined;
  let runtimeId: string | undefined;

  const disposedError = () => fail('DISPOSED', 'client was disposed');

  const reportError = (e: unknown) => {
    const err = asError(e, 'HANDLER_ERROR');
    log('connect', 'error', { code: err.code, message: err.message });
    // Listeners that throw here are swallowed: reporting an error must never loop.
    fire(errorHooks, err, noop);
  };

  // Takes the refresh flag: the next auth call drops cached credentials.
  const takeRefresh = () => {
    const r = refreshAuth;
    refreshAuth = false;
    return r;
  };
  const runAuth = (refresh: boolean) =>
    auth({ namespace: ns, refresh }).then((r) => {
      if (r.runtimeId) authRuntimeId = r.runtimeId;
      if (typeof r.payload.csrf_token == 'string') csrfToken = r.payload.csrf_token;
      return r.payload;
    });

  // Socket.IO calls this on every connect attempt, reconnects included. Going on without
  // credentials lets a server that needs none accept us, and one that does reject us,
  // which schedules a retry with fresh credentials.
  const authCallback = (cb: (data: object) => void) => {
    let done = false;
    const finish = (payload: object, err?: unknown) => {
      if (done || disposed) return;
      done = true;
      timers.clear(cb);
      if (err) reportError(asError(err, 'CONNECT_ERROR', 'auth failed: '));
      cb(payload);
    };
    timers.set(cb, authTimeoutMs, () => finish({}, fail('CONNECT_ERROR', `auth took longer than ${authTimeoutMs} ms`)));
    runAuth(takeRefresh()).then(finish, (e: unknown) => finish({}, e));
  };

  // Delivers one inbound event. Socket.IO calls listeners through apply(); reading
  // `arguments` by index (not `...args`) builds no array per event.
  const dispatch = (event: string, raw: unknown, ack: unknown) => {
    let env: ServerEnvelope;
    try {
      env = validateServerEnvelope(raw);
    } catch (e) {
      const error = messageOf(e);
      reportError(fail('INVALID_ENVELOPE', `'${event}': ${error}`, (e as SyncwireError).details, e));
      if (typeof ack == 'function') (ack as (v: unknown) => void)({ correlationId: null, results: [{ ok: false, error: { code: 'INVALID_ENVELOPE', error } }] });
      return;
    }
    if (logger.isEnabled('push')) log('push', event, { correlationId: env.correlationId, handlerId: env.handlerId });
    // The set as it is now: a callback that (un)subscribes changes the next event, not this one.
    const callbacks = [...(subs.get(event) ?? [])];
    if (typeof ack != 'function') {
      for (const cb of callbacks) {
        try {
          const r = cb(env) as Promise<unknown> | undefined;
          if (typeof r?.then == 'function') r.then(noop, reportError);
        } catch (e) {
          reportError(e);
        }
      }
      return;
    }
    // A server request: one result per callback, awaited, errors turned into items.
    void Promise.all(
      callbacks.map((cb) =>
        Promise.resolve(env)
          .then(cb)
          .then(
            (value) => ({ ok: true, data: value === undefined ? {} : value }),
            (e: unknown) => ({ ok: false, error: { code: 'HANDLER_ERROR', error: messageOf(e) } }),
          ),
      ),
    ).then((results) =>
      (ack as (v: unknown) => void)({
        correlationId: env.correlationId,
        results: results.length ? results : [{ ok: false, error: { code: 'NO_HANDLERS', error: `No client handler for '${event}'` } }],
      }),
    );
  };

  const attach = (event: string) => {
    if (!socket || dispatchers.has(event)) return;
    const d: SocketListener = function (raw: unknown) {
      // eslint-disable-next-line prefer-rest-params
      dispatch(event, raw, arguments[arguments.length - 1]);
    };
    dispatchers.set(event, d);
    socket.on(event, d);
  };

  const scheduleRetry = () => {
    if (timers.has(RETRY) || manual || disposed || terminal) return;
    const delay = backoffDelay(retryAttempt++, retryBase, retryMax, random, 50);
    log('connect', 'retry scheduled', { delay });
    timers.set(RETRY, delay, () => manual || disposed || open());
  };

  // The default auth also sets the csrf_token_<runtime id> cookie, which the server checks on
  // the Engine.IO handshake, before Socket.IO ever asks for auth. So the token is fetched
  // before the socket opens, as Agent Zero's page does; the auth callback then reuses it.
  const open = () => {
    const s = socket as SocketLike;
    const idle = () => !s.active && !s.connected;
    if (opening || !idle()) return;
    if (o.auth !== undefined) return void s.connect();
    opening = true;
    void runAuth(takeRefresh())
      .catch(noop) // the auth callback tries again and reports
      .then(() => {
        opening = false;
        if (!manual && !disposed && idle()) s.connect();
      });
  };

  // Attached before the socket opens, so an event the server sends inside its
  // connect handler (server_restart) is never lost.
  const socketHandlers: Record<string, SocketListener> = {
    server_restart(raw) {
      const id = isPlainObject(raw) && isPlainObject(raw.data) && raw.data.runtimeId;
      if (typeof id == 'string') restartRuntimeId = id;
    },

    connect() {
      timers.clear(RETRY);
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
      const unknownNs = e.message == 'UNKNOWN_NAMESPACE' || (isPlainObject(data) && data.code == 'UNKNOWN_NAMESPACE');
      const rejected = !socket?.active;
      const err = unknownNs
        ? (terminal = fail('UNKNOWN_NAMESPACE', `the server does not know namespace ${ns}`, data ?? { code: 'UNKNOWN_NAMESPACE', namespace: ns }, e))
        : fail('CONNECT_ERROR', `connect to ${ns} failed: ${e.message}`, { reason: e.message, rejected, data }, e);
      settleWaiting(err);
      reportError(err);
      // A namespace-level rejection (e.g. a CSRF token from before a restart): Socket.IO
      // will not retry it, so we do, with fresh credentials. Transport failures are left
      // to Socket.IO's own Manager, so two loops never drive one socket.
      if (rejected) retryFresh();
    },

    disconnect(reason) {
      const why = String(reason);
      log('connect', 'disconnected', { reason: why });
      calls.dropSent(fail('DISCONNECTED', `connection to ${ns} closed (${why})`, { reason: why }));
      fire(disconnectHooks, why, reportError);
      // The server closed this namespace on purpose; Socket.IO will not come back by itself.
      if (why == 'io server disconnect') retryFresh();
    },
  };
  const retryFresh = () => {
    refreshAuth = true;
    scheduleRetry();
  };

  const connect = (): Promise<void> => {
    if (disposed) return Promise.reject(disposedError());
    if (terminal) return Promise.reject(terminal);
    manual = false;
    if (!socket) {
      const s = (socket = socketFactory({ url, namespace: ns, auth: authCallback, options: socketOptions }));
      for (const event in socketHandlers) s.on(event, socketHandlers[event] as SocketListener);
      subs.forEach((_, event) => attach(event));
    }
    if (socket.connected) return Promise.resolve();
    waiting ??= new Promise<void>((resolve, reject) => {
      timers.set(CONNECT, connectTimeoutMs, () => settleWaiting(fail('CONNECT_ERROR', `no answer from ${ns} within ${connectTimeoutMs} ms`, { reason: 'timeout' })));
      settleWaiting = (err) => {
        waiting = undefined;
        settleWaiting = noop;
        timers.clear(CONNECT);
        if (err) reject(err);
        else resolve();
      };
    });
    // While a rejection retry is pending, let the backoff run; otherwise (re)start.
    if (!timers.has(RETRY)) open();
    return waiting;
  };

  const calls = createCalls({
    clock,
    requestTimeoutMs: num(o, 'requestTimeoutMs', 30000),
    maxPayloadBytes: num(o, 'maxPayloadBytes', 50 * 1024 * 1024),
    maxPending: num(o, 'maxPending', 1000),
    connectedSocket: () => (socket?.connected ? socket : undefined),
    whenConnected: () =>
      connect().then(
        () => socket as SocketLike,
        (e: SyncwireError) => {
          throw e.code == 'DISPOSED' || e.code == 'UNKNOWN_NAMESPACE' ? e : fail('NOT_CONNECTED', `not connected to ${ns}: ${e.message}`, { code: e.code }, e);
        },
      ),
    notConnected: () => fail('NOT_CONNECTED', `not connected to ${ns}`),
    logger,
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
    emit: (event, data, opts) => calls.call(event, data, opts, 'emit', noop),
    request: <T>(event: string, data?: object | null, opts?: unknown) => calls.call(event, data, opts, 'request', validateAck) as Promise<RequestResponse<T>>,

    on<T extends object>(event: string, callback: EventCallback<T>) {
      assertEventName(event);
      if (typeof callback != 'function') throw invalid('callback', 'callback expects a function');
      if (disposed) throw disposedError();
      const set = subs.get(event) ?? new Set();
      subs.set(event, set.add(callback as EventCallback<object>));
      if (socket) attach(event);
      else connect().catch(noop); // the failure reaches onError listeners
      return () => client.off(event, callback);
    },

    off<T extends object>(event: string, callback: EventCallback<T>) {
      // Removing every callback of a shared client is how the anchor's harness broke live updates.
      if (typeof callback != 'function') throw invalid('callback', 'off() needs the callback to remove');
      const set = subs.get(event);
      if (!set?.delete(callback as EventCallback<object>) || set.size) return;
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
      timers.clear(RETRY);
      socket?.disconnect();
      return connect();
    },

    disconnect() {
      manual = true;
      timers.clear(RETRY);
      settleWaiting(fail('DISCONNECTED', 'disconnect() was called'));
      socket?.disconnect();
    },

    dispose() {
      if (disposed) return;
      client.disconnect();
      disposed = true;
      const s = socket;
      if (s) {
        for (const event in socketHandlers) s.off(event, socketHandlers[event] as SocketListener);
        dispatchers.forEach((fn, event) => s.off(event, fn));
      }
      calls.dispose(disposedError());
      [dispatchers, subs, connectHooks, disconnectHooks, errorHooks].forEach((c) => c.clear());
      timers.clearAll();
      auth.cancel?.();
    },
  };
  return client;
}
