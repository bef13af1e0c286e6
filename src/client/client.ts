import { backoffDelay, createTimerGroup, systemClock, type Clock } from '../clock';
import { SyncwireError, fail, invalid, messageOf } from '../errors';
import { fire, listen } from '../listeners';
import { createLogger, type LogCategory, type Logger, type LoggerOptions } from '../logger';
import { optFn, optObj, optShape } from '../validate';
import {
  assertEventName,
  buildPayload,
  createCorrelationId,
  isPlainObject,
  kindOf,
  validateAck,
  validateServerEnvelope,
  type RequestResponse,
  type ServerEnvelope,
} from '../protocol';
import { csrfTokenAuth, userAuth, type AuthOption, type FetchLike } from './auth';
import { defaultSocketFactory, type SocketFactory, type SocketIoOptions, type SocketLike, type SocketListener } from './socket';

/** Options of {@link createNamespacedClient}. */
export interface ClientOptions {
  /** Server origin. @default the page's origin (`location.origin`) */
  url?: string;
  /** Connect credentials; see {@link AuthOption}. @default `GET /csrf_token` → `{ csrf_token }` */
  auth?: AuthOption;
  /** Default request timeout; always finite. @default 30000 */
  requestTimeoutMs?: number;
  /** How long `connect()` waits for the first answer before rejecting (retries go on). @default 20000 */
  connectTimeoutMs?: number;
  /** How long an auth call may take before the attempt goes on without credentials. @default 5000 */
  authTimeoutMs?: number;
  /** Largest outgoing payload, checked before sending. @default 52428800 (50 MiB) */
  maxPayloadBytes?: number;
  /**
   * Most emits and requests under way at once (waiting for the connection, or for their
   * ack). One more rejects at once with `OVERFLOW`: the caller learns, nothing piles up. @default 1000
   */
  maxPending?: number;
  /** Backoff for retries after the server rejects a connect. @default { baseMs: 250, maxMs: 10000 } */
  retry?: { baseMs?: number; maxMs?: number };
  /** Passed to socket.io-client's Manager and Socket. */
  socketOptions?: SocketIoOptions;
  /** A logger, or options for one (off by default). */
  logger?: Logger | LoggerOptions;
  /** Time source for every timer. @default systemClock */
  clock?: Clock;
  /** Randomness for backoff jitter. @default Math.random */
  random?: () => number;
  /** fetch used by the default auth. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Socket constructor, for tests and custom transports. */
  socketFactory?: SocketFactory;
}

/** What `onConnect` listeners receive. */
export interface ConnectInfo {
  /** True only for the first successful connect of this client. */
  firstConnect: boolean;
  /** The server's runtime id, from `server_restart` or `/csrf_token`, when known. */
  runtimeId?: string;
  /** True when the runtime id differs from the one seen on the previous connect. */
  runtimeChanged: boolean;
}

/** Options of `emit()`. */
export interface EmitOptions {
  correlationId?: string;
  /**
   * Wait for the server to acknowledge the event (any Socket.IO ack counts; Agent Zero's
   * server acknowledges every event that asks). Then a resolved emit was delivered, and one
   * that could not be confirmed rejects (`TIMEOUT`, `DISCONNECTED`): none is lost silently.
   * `false` is plain fire-and-forget (at most once), for servers that never acknowledge. @default true
   */
  confirm?: boolean;
  /** Deadline of a confirmed emit. @default the client's requestTimeoutMs */
  timeoutMs?: number;
  /** Aborting rejects a pending emit with `ABORTED`. */
  signal?: AbortSignal;
}

/** Options of `request()`. */
export interface RequestOptions {
  correlationId?: string;
  /** Milliseconds from the call until the request rejects with `TIMEOUT`. @default the client's requestTimeoutMs */
  timeoutMs?: number;
  /** Aborting rejects the request with `ABORTED` at once; a late ack is ignored. */
  signal?: AbortSignal;
}

/** A subscriber. For server requests (emits with an ack) its return value is the answer. */
export type EventCallback<T extends object = Record<string, unknown>> = (envelope: ServerEnvelope<T>) => unknown;

/** One Socket.IO namespace, connected lazily. */
export interface NamespacedClient {
  readonly namespace: string;
  readonly url: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The CSRF token of the current credentials, when known (for HTTP fallbacks). */
  readonly csrfToken: string | undefined;
  /** The server runtime id seen last, when known. */
  readonly runtimeId: string | undefined;
  /** Connects (one shared handshake for all callers). Rejects if the first attempt fails; retries go on in the background unless the failure is terminal. */
  connect(): Promise<void>;
  /** Sends an event. Resolves once the server acknowledged it (or, with `confirm: false`, once handed to a connected socket). */
  emit(event: string, data?: object | null, options?: EmitOptions): Promise<void>;
  /** Request/ack. Always settles: ack, `TIMEOUT`, `DISCONNECTED`, or a validation error. */
  request<T = Record<string, unknown>>(event: string, data?: object | null, options?: RequestOptions): Promise<RequestResponse<T>>;
  /** Subscribes; recorded at once, kept across reconnects and failed connects. Starts the lazy connect. */
  on<T extends object = Record<string, unknown>>(event: string, callback: EventCallback<T>): () => void;
  /** Removes that one callback. */
  off<T extends object = Record<string, unknown>>(event: string, callback: EventCallback<T>): void;
  onConnect(listener: (info: ConnectInfo) => void): () => void;
  onDisconnect(listener: (reason: string) => void): () => void;
  onError(listener: (error: SyncwireError) => void): () => void;
  /** Runs the auth provider again with `refresh: true` (e.g. after an HTTP 403), updating `csrfToken`. */
  refreshAuth(): Promise<void>;
  /** Sends an error to the `onError` listeners; layers built on the client use it. */
  reportError(error: unknown): void;
  isConnected(): boolean;
  /** Drops the connection and connects again, optionally with fresh credentials. */
  reconnect(options?: { refreshAuth?: boolean }): Promise<void>;
  /** Closes the connection; pending requests reject with `DISCONNECTED`. A later emit/request reconnects. */
  disconnect(): void;
  /** Closes everything and removes every listener and timer. The client is unusable afterwards. */
  dispose(): void;
  readonly disposed: boolean;
}

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

/** Call options: a plain object (or nothing), with an AbortSignal-like `signal` if any. */
function callOptions<T extends RequestOptions>(value: T | undefined): T {
  if (value === null) throw invalid('options', 'options expects a plain object, but got null');
  const opts = optObj(value, 'options') ?? ({} as T);
  if (opts.signal !== undefined) optShape(opts.signal, 'signal', ['addEventListener', 'removeEventListener']);
  return opts;
}

function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value > 2 ** 31 - 1) {
    throw invalid(field, `${field} expects a finite number > 0, but got ${typeof value === 'number' ? value : kindOf(value)}`);
  }
  return value;
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
  let pending = 0;
  // Takes a slot for one emit/request, or throws OVERFLOW; the returned function gives it back once.
  const slot = (event: string) => {
    if (pending >= maxPending) throw fail('OVERFLOW', `'${event}' refused: ${maxPending} emits/requests already pending`, { details: { maxPending } });
    pending++;
    let held = true;
    return () => {
      if (held) pending--;
      held = false;
    };
  };
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
  const dispatchers = new Map<string, SocketListener>();
  const connectHooks = new Set<(i: ConnectInfo) => void>();
  const disconnectHooks = new Set<(r: string) => void>();
  const errorHooks = new Set<(e: SyncwireError) => void>();
  const inflight = new Set<(e: SyncwireError) => void>();
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

  const dispatch = (event: string, args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (v: unknown) => void) : undefined;
    let env: ServerEnvelope;
    try {
      env = validateServerEnvelope(args[0]);
    } catch (e) {
      const error = messageOf(e);
      reportError(fail('INVALID_ENVELOPE', `'${event}': ${error}`, { cause: e, details: (e as SyncwireError).details }));
      ack?.({ correlationId: null, results: [{ ok: false, error: { code: 'INVALID_ENVELOPE', error } }] });
      return;
    }
    if (logging('push')) log('push', event, { correlationId: env.correlationId, handlerId: env.handlerId });
    const callbacks = [...(subs.get(event) ?? [])];
    if (!ack) {
      callbacks.forEach((cb) => {
        try {
          const r = cb(env);
          if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(noop, reportError);
        } catch (e) {
          reportError(e);
        }
      });
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
    const d: SocketListener = (...args) => dispatch(event, args);
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
      [...inflight].forEach((reject) => reject(err));
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

  // At most once: handed to a connected socket, with no way to know it arrived.
  const fireAndForget = async (event: string, data: unknown, opts: EmitOptions) => {
    assertEventName(event);
    const payload = buildPayload(data, opts.correlationId ?? createCorrelationId('emit'), maxPayloadBytes, clock.now());
    const release = slot(event);
    try {
      const s = await whenConnected();
      if (!s.connected) throw notConnected();
      if (logging('request')) log('request', 'emit', { event, correlationId: payload.correlationId });
      s.emit(event, payload);
    } finally {
      release();
    }
  };

  /**
   * A call that waits for the server's ack: `request()`, and `emit()` with confirmation.
   * It always settles: the ack, `TIMEOUT`, `DISCONNECTED`, `ABORTED`, or a validation error.
   */
  const call = <R>(event: string, data: unknown, opts: RequestOptions, kind: 'emit' | 'request', onAck: (res: unknown, correlationId: string) => R) =>
    new Promise<R>((resolve, reject) => {
      assertEventName(event);
      const timeoutMs = positive(opts.timeoutMs, 'timeoutMs', requestTimeoutMs);
      const payload = buildPayload(data, opts.correlationId ?? createCorrelationId(kind), maxPayloadBytes, clock.now());
      const correlationId = payload.correlationId;
      const signal = opts.signal;
      const release = slot(event);
      let settled = false;
      const finish = (err?: SyncwireError, value?: R) => {
        if (settled) return;
        settled = true;
        release();
        cancelTimeout();
        inflight.delete(onDrop);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as R);
      };
      const end = (code: SyncwireError['code'], what: string, details: object = {}) =>
        finish(fail(code, `${kind} '${event}' ${what}`, { details: { correlationId, ...details } }));
      const onDrop = (e: SyncwireError) => end('DISCONNECTED', `lost: ${e.message}`);
      const onAbort = () => end('ABORTED', 'was aborted');
      // The deadline counts from the call, so waiting for a connection is part of it.
      const cancelTimeout = timers.set(() => end('TIMEOUT', `got no answer within ${timeoutMs} ms`, { timeoutMs }), timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const send = (s: SocketLike) => {
        if (settled) return;
        if (!s.connected) return finish(notConnected());
        inflight.add(onDrop);
        if (logging('request')) log('request', kind, { event, correlationId, timeoutMs });
        s.emit(event, payload, (res: unknown) => {
          if (settled) return;
          try {
            const value = onAck(res, correlationId);
            if (logging('request')) log('request', 'ack', { event, correlationId });
            finish(undefined, value);
          } catch (e) {
            finish(e as SyncwireError);
          }
        });
      };
      // Connected: send now, without a promise hop (it shows in round-trip times).
      if (socket?.connected) send(socket);
      else whenConnected().then(send, finish);
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
      if (opts.confirm === false) return fireAndForget(event, data, opts);
      return call(event, data, opts, 'emit', () => undefined);
    },

    request<T>(event: string, data?: object | null, given?: RequestOptions) {
      let opts: RequestOptions;
      try {
        opts = callOptions(given);
      } catch (e) {
        return Promise.reject(e instanceof SyncwireError ? e : fail('VALIDATION_ERROR', messageOf(e)));
      }
      return call(event, data, opts, 'request', (res, id) => validateAck(res, id) as RequestResponse<T>);
    },

    on<T extends object>(event: string, callback: EventCallback<T>) {
      assertEventName(event);
      if (typeof callback !== 'function') throw invalid('callback', 'callback expects a function');
      if (disposed) throw disposedError();
      let set = subs.get(event);
      if (!set) subs.set(event, (set = new Set()));
      set.add(callback as EventCallback<object>);
      if (socket) attach(event);
      else connect().catch(noop); // the failure reaches onError listeners
      return () => client.off(event, callback);
    },

    off<T extends object>(event: string, callback: EventCallback<T>) {
      // Removing every callback of a shared client is how the anchor's harness broke live updates.
      if (typeof callback !== 'function') throw invalid('callback', 'off() needs the callback to remove');
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
      [...inflight].forEach((reject) => reject(disposedError()));
      [dispatchers, subs, connectHooks, disconnectHooks, errorHooks].forEach((c) => c.clear());
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
