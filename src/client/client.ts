import { backoffDelay, createTimers, isWallTime, systemClock } from '../clock';
import { asError, fail, invalid, messageOf, type SyncwireError } from '../errors';
import { fire, isInternal, listen, noop } from '../listeners';
import { loggerFrom, type Logger } from '../logger';
import { httpUrl, knownKeys, num, opt } from '../validate';
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
import { csrfTokenAuth, userAuth } from './auth';
import { describeConnectError } from './connect-errors';
import { defaultSocketFactory, type SocketLike, type SocketListener } from './socket';

import type {
  ClientOptions,
  ConnectInfo,
  EmitOptions,
  EventCallback,
  NamespacedClient,
  RequestOptions,
} from './api';

export type {
  ClientOptions,
  ConnectInfo,
  EmitOptions,
  EventCallback,
  NamespacedClient,
  RequestOptions,
} from './api';

/** The options createNamespacedClient knows; any other name is a misspelling. */
const CLIENT_OPTIONS = [
  'url',
  'auth',
  'csrfTokenUrl',
  'requestTimeoutMs',
  'connectTimeoutMs',
  'authTimeoutMs',
  'maxPayloadBytes',
  'maxPending',
  'retry',
  'socketOptions',
  'logger',
  'clock',
  'random',
  'fetch',
  'socketFactory',
];
const CALL_OPTIONS = ['correlationId', 'confirm', 'timeoutMs', 'signal', 'onAck'];

// Names of the client's own timers; auth attempts use their callback as the name.
const RETRY = 0;
const CONNECT = 1;
const PREFETCH = 2;

/** A call waiting for its ack: `sent` once handed to the socket (a disconnect then loses its ack). */
interface LiveCall {
  sent?: boolean;
  /** The deadline: a clock timer of its own (a per-request path, kept out of the timer map). */
  timer?: unknown;
  end(code: Parameters<typeof fail>[0], what: string, details?: object): void;
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
/** `path` resolved against `base` (like a link on its page), refused unless it stays on `base`'s origin. */
function sameOriginUrl(path: unknown, base: string, field: string): string {
  if (typeof path != 'string' || !path)
    throw invalid(
      field,
      "a path such as /api/csrf_token, or a URL on the server's origin",
      kindOf(path),
    );
  const resolved = new URL(path, base + '/');
  if (resolved.origin !== new URL(base).origin)
    throw invalid(
      field,
      `a URL on the server's origin (${new URL(base).origin})`,
      JSON.stringify(path),
    );
  return resolved.href;
}

export function createNamespacedClient(
  namespace: string,
  options: ClientOptions = {},
): NamespacedClient {
  if (typeof namespace != 'string' || !namespace.trim())
    throw invalid('namespace', 'a non-empty string');
  const o = opt(options, 'options', 'object', 1)!;
  knownKeys(o, CLIENT_OPTIONS);
  const ns = namespace.trim().replace(/^\/?/, '/');
  // A page's origin by default; a host without `location` (Node) must name the server.
  const given = o.url ?? (globalThis as Partial<typeof globalThis>).location?.origin;
  if (given === undefined)
    throw invalid(
      'url',
      "the server's URL (a page gives its own origin; Node and workers must name it)",
    );
  // Without its trailing slashes: '//csrf_token' would be another path.
  const url = httpUrl(given, 'url').replace(/\/+$/, '');
  const tokenUrl = sameOriginUrl(o.csrfTokenUrl ?? '/csrf_token', url, 'csrfTokenUrl');
  const retry = opt(o.retry, 'retry', 'object') ?? {};
  knownKeys(retry, ['baseMs', 'maxMs'], 'retry.');
  const retryBase = num(retry, 'baseMs', 250, 'retry.');
  const retryMax = num(retry, 'maxMs', 10000, 'retry.');
  const connectTimeoutMs = num(o, 'connectTimeoutMs', 20000);
  const authTimeoutMs = num(o, 'authTimeoutMs', 5000);
  const requestTimeoutMs = num(o, 'requestTimeoutMs', 30000);
  const maxPayloadBytes = num(o, 'maxPayloadBytes', 52428800);
  const maxPending = num(o, 'maxPending', 1000);
  const clock = opt(o.clock, 'clock', ['now', 'setTimeout', 'clearTimeout']) ?? systemClock;
  const now = clock.now();
  if (!isWallTime(now))
    throw invalid(
      'clock.now()',
      'wall time in ms since 1970, like Date.now(), not a monotonic clock',
      typeof now == 'number' ? now : kindOf(now),
    );
  const random = opt(o.random, 'random', 'function') ?? Math.random;
  const socketFactory = opt(o.socketFactory, 'socketFactory', 'function') ?? defaultSocketFactory;
  const socketOptions = opt(o.socketOptions, 'socketOptions', 'object') ?? {};
  if (typeof o.auth != 'function') opt(o.auth, 'auth', 'object');
  const logger = loggerFrom(o.logger);
  const warnUnheard = !(isPlainObject(o.logger) && o.logger.warn === false);
  const warned = new Set<string>();
  const log: Logger['log'] = (c, m, d) => logger.log(c, m, d);
  const timers = createTimers(clock);
  const auth =
    o.auth != null
      ? userAuth(o.auth)
      : csrfTokenAuth(tokenUrl, url, opt(o.fetch, 'fetch', 'function'), timers, authTimeoutMs);

  const subs = new Map<string, Set<EventCallback<object>>>();
  const dispatchers = new Map<string, SocketListener>();
  const connectHooks = new Set<(i: ConnectInfo) => void>();
  const disconnectHooks = new Set<(r: string) => void>();
  const errorHooks = new Set<(e: SyncwireError) => void>();
  const disposeHooks = new Set<() => void>();
  // Calls holding a slot (maxPending counts them), and those waiting for an ack.
  const calls = new Set<LiveCall>();
  let pending = 0;

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
  // socket.io-client's Manager stopped reconnecting (reconnectionAttempts reached); the socket
  // still counts as active, so only an explicit connect() opens it again.
  let gaveUp = false;
  let csrfToken: string | undefined;
  // The server's runtime id: the latest known (a token answer, server_restart, a connect),
  // and the one of the last connect (to tell a restart from a reconnect).
  let knownRuntimeId: string | undefined;
  let restartRuntimeId: string | undefined;
  let connectedRuntimeId: string | undefined;
  // Credentials fetched before the socket opened, for that attempt's auth callback.
  let prefetched: object | undefined;

  const disposedError = () => fail('DISPOSED', 'client was disposed');

  const reportError = (e: unknown) => {
    const err = asError(e, 'HANDLER_ERROR');
    log('connect', 'error', { code: err.code, message: err.message });
    // A library that is otherwise silent says what goes wrong when nobody listens: once per
    // code, since a server that stays down repeats the same error every few seconds.
    if (warnUnheard && !warned.has(err.code) && ![...errorHooks].some((fn) => !isInternal(fn))) {
      warned.add(err.code);
      console.warn(
        `[syncwire ${ns}] ${err.code}: ${err.message} (no onError listener on this client; later ${err.code} errors are not printed; logger: { warn: false } silences these)`,
      );
    }
    // Listeners that throw here are swallowed: reporting an error must never loop.
    fire(errorHooks, err, noop);
  };

  // The next auth call drops cached credentials when the server rejected the last attempt.
  const runAuth = (refresh = refreshAuth) => {
    refreshAuth = false;
    return auth({ namespace: ns, refresh }).then((r) => {
      if (r.runtimeId) knownRuntimeId = r.runtimeId;
      if (typeof r.payload.csrf_token == 'string') csrfToken = r.payload.csrf_token;
      return r.payload;
    });
  };

  // Socket.IO calls this on every connect attempt, reconnects included. Going on without
  // credentials lets a server that needs none accept us, and one that does reject us,
  // which schedules a retry with fresh credentials.
  const authCallback = (cb: (data: object) => void) => {
    const finish = (payload: object, err?: unknown) => {
      if (!timers.clear(cb) || disposed) return;
      if (err) reportError(asError(err, 'CONNECT_ERROR', 'auth failed: '));
      cb(payload);
    };
    timers.set(
      cb,
      authTimeoutMs,
      () => (
        reportError(fail('CONNECT_ERROR', `auth took longer than ${authTimeoutMs} ms`)),
        cb({})
      ),
    );
    const ready = prefetched;
    prefetched = undefined;
    (ready ? Promise.resolve(ready) : runAuth()).then(finish, (e: unknown) => finish({}, e));
  };

  // One inbound event: validated once, then handed to each subscriber.
  const dispatch = (event: string, raw: unknown, ack: unknown) => {
    const answer = typeof ack == 'function' ? (ack as (v: unknown) => void) : undefined;
    let env: ServerEnvelope;
    try {
      env = validateServerEnvelope(raw);
    } catch (e) {
      const error = messageOf(e);
      reportError(
        fail('INVALID_ENVELOPE', `'${event}': ${error}`, (e as SyncwireError).details, e),
      );
      return answer?.({
        correlationId: null,
        results: [{ ok: false, error: { code: 'INVALID_ENVELOPE', error } }],
      });
    }
    if (logger.isEnabled('push'))
      log('push', event, { correlationId: env.correlationId, handlerId: env.handlerId });
    // The set as it is now: a callback that (un)subscribes changes the next event, not this one.
    const callbacks = [...(subs.get(event) ?? [])];
    if (!answer) {
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
            (data) => ({ ok: true, data: data === undefined ? {} : data }),
            (e: unknown) => ({ ok: false, error: { code: 'HANDLER_ERROR', error: messageOf(e) } }),
          ),
      ),
    ).then((results) => {
      const items = results.length
        ? results
        : [
            {
              ok: false,
              error: { code: 'NO_HANDLERS', error: `No client handler for '${event}'` },
            },
          ];
      try {
        answer({
          correlationId: env.correlationId,
          results: items.map((item) => sendable(event, item)),
        });
      } catch (e) {
        reportError(
          fail(
            'HANDLER_ERROR',
            `answer to '${event}' could not be sent: ${messageOf(e)}`,
            undefined,
            e,
          ),
        );
      }
    });
  };

  // Socket.IO serialises an answer as it sends it, and one it cannot serialise (a cycle, a
  // BigInt) throws inside its encoder after the ack was used up: the server would wait until
  // its own timeout. So each item is checked first, and one that cannot go becomes an error item.
  const sendable = (event: string, item: object): object => {
    try {
      JSON.stringify(item);
      return item;
    } catch (e) {
      const error = `the answer to '${event}' cannot be serialised: ${messageOf(e)}`;
      reportError(fail('HANDLER_ERROR', error, undefined, e));
      return { ok: false, error: { code: 'HANDLER_ERROR', error } };
    }
  };

  const attach = (event: string) => {
    if (!socket || dispatchers.has(event)) return;
    // Not `(...args) =>`: Socket.IO calls listeners through apply(), and reading
    // `arguments` by index builds no array per inbound event.
    const d: SocketListener = function (raw: unknown) {
      // eslint-disable-next-line prefer-rest-params
      dispatch(event, raw, arguments[arguments.length - 1]);
    };
    dispatchers.set(event, d);
    socket.on(event, d);
  };

  // After a namespace-level rejection (e.g. a CSRF token from before a restart) or a server
  // disconnect, Socket.IO will not come back by itself: we retry, with fresh credentials.
  // Transport failures are left to Socket.IO's own Manager, so two loops never drive one socket.
  const retryFresh = () => {
    refreshAuth = true;
    if (timers.has(RETRY) || manual || disposed || terminal) return;
    const delay = backoffDelay(retryAttempt++, retryBase, retryMax, random, 50);
    log('connect', 'retry', { delay });
    timers.set(RETRY, delay, () => manual || disposed || open());
  };

  // Fetching the token sets cookies (the server's session, csrf_token_<runtime id>) that the
  // server checks on the Engine.IO handshake, before Socket.IO ever asks for auth. So auth
  // runs before the socket opens, as Agent Zero's page does, whether it is the default or
  // the user's function; that attempt's auth callback then reuses its answer. (A fixed auth
  // object has nothing to fetch.)
  const open = () => {
    const s = socket as SocketLike;
    // Not connected, and neither Socket.IO's Manager nor a rejection retry is on it.
    const idle = () => !s.connected && (!s.active || gaveUp);
    const start = () => {
      gaveUp = false;
      s.connect();
    };
    if (opening || !idle()) return;
    if (o.auth != null && typeof o.auth != 'function') return start();
    opening = true;
    prefetched = undefined;
    let done = false;
    const go = () => {
      if (done) return;
      done = true;
      timers.clear(PREFETCH);
      opening = false;
      if (!manual && !disposed && idle()) start();
    };
    // An auth that does not answer in time holds no attempt back: the attempt's auth callback
    // asks again (with the same deadline), and reports.
    timers.set(PREFETCH, authTimeoutMs, go);
    void runAuth()
      .then((payload) => {
        if (!done) prefetched = payload;
      }, noop) // on failure the auth callback tries again and reports
      .then(go);
  };

  // The Manager gave up: whoever waits for a connection learns it now, and the next
  // connect(), emit() or request() starts afresh.
  const onGiveUp = () => {
    gaveUp = true;
    const err = fail(
      'CONNECT_ERROR',
      `gave up reconnecting to ${ns} at ${url} (socketOptions.reconnectionAttempts reached); the next connect(), emit() or request() tries again`,
      {
        url,
        namespace: ns,
        reason: 'reconnect_failed',
      },
    );
    settleWaiting(err);
    reportError(err);
  };

  // Attached before the socket opens, so an event the server sends inside its
  // connect handler (server_restart) is never lost.
  const socketHandlers: Record<string, SocketListener> = {
    server_restart(raw) {
      const id = isPlainObject(raw) && isPlainObject(raw.data) && raw.data.runtimeId;
      if (typeof id == 'string') restartRuntimeId = knownRuntimeId = id;
    },

    connect() {
      timers.clear(RETRY);
      retryAttempt = 0;
      // server_restart arrives before `connect`, so its runtime id is the freshest we have.
      const id = restartRuntimeId ?? knownRuntimeId;
      restartRuntimeId = undefined;
      const info: ConnectInfo = {
        firstConnect: !everConnected,
        runtimeChanged: !!(id && connectedRuntimeId && id != connectedRuntimeId),
      };
      if (id) info.runtimeId = connectedRuntimeId = id;
      everConnected = true;
      log('connect', 'connected', { namespace: ns, ...info });
      settleWaiting();
      fire(connectHooks, info, reportError);
    },

    connect_error(raw) {
      const rejected = !socket?.active;
      const err = describeConnectError(
        raw,
        ns,
        url,
        typeof socketOptions.path == 'string' ? socketOptions.path : '/socket.io',
        rejected,
      );
      if (err.code == 'UNKNOWN_NAMESPACE') terminal = err;
      settleWaiting(err);
      reportError(err);
      if (rejected) retryFresh();
      // The Engine.IO handshake refused (current Agent Zero checks its session and CSRF cookies
      // there): the Manager would retry with the same stale cookies for ever. New credentials
      // set new cookies, which its next attempt carries. (A WebSocket error has no status, so
      // only the long-polling transport can tell; the default transports end with it.)
      const status = (err.details as { status?: number } | undefined)?.status;
      if (!rejected && (status == 401 || status == 403)) void runAuth(true).catch(noop);
    },

    disconnect(reason) {
      const why = String(reason);
      log('connect', 'disconnected', { reason: why });
      // Deleting from a Set while iterating it is safe; settling runs no user code synchronously.
      calls.forEach((c) => c.sent && c.end('DISCONNECTED', `lost: connection closed (${why})`));
      fire(disconnectHooks, why, reportError);
      if (why == 'io server disconnect') retryFresh();
    },
  };

  const connect = (): Promise<void> => {
    if (disposed) return Promise.reject(disposedError());
    if (terminal) return Promise.reject(terminal);
    manual = false;
    if (!socket) {
      const s = (socket = socketFactory({
        url,
        namespace: ns,
        auth: authCallback,
        options: socketOptions,
      }));
      for (const event in socketHandlers) s.on(event, socketHandlers[event] as SocketListener);
      s.io?.on('reconnect_failed', onGiveUp);
      subs.forEach((_, event) => attach(event));
    }
    if (socket.connected) return Promise.resolve();
    waiting ??= new Promise<void>((resolve, reject) => {
      timers.set(CONNECT, connectTimeoutMs, () =>
        settleWaiting(
          fail(
            'CONNECT_ERROR',
            `no answer from ${ns} at ${url} within ${connectTimeoutMs} ms (connectTimeoutMs)`,
            { url, namespace: ns, reason: 'timeout' },
          ),
        ),
      );
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

  // A connected socket, or a rejection saying why there is none.
  const whenConnected = () =>
    connect().then(
      () =>
        (socket as SocketLike).connected ||
        Promise.reject(fail('NOT_CONNECTED', `not connected to ${ns}`)),
      (e: SyncwireError) => {
        throw e.code != 'CONNECT_ERROR'
          ? e
          : fail('NOT_CONNECTED', `not connected to ${ns}: ${e.message}`, { code: e.code }, e);
      },
    );

  /**
   * `request()` and `emit()`: one packet `{ ts, data, correlationId }`, checked before
   * anything is sent. Waits for the ack (`onAck` turns it into the result, or throws)
   * within a deadline that counts from the call; an emit with `confirm: false` resolves
   * once handed to a connected socket. Never throws: bad input rejects.
   */
  const call = <R>(
    kind: 'emit' | 'request',
    event: string,
    data: unknown,
    options: unknown,
    onAck: (res: unknown, correlationId: string) => R,
  ) =>
    new Promise<R>((resolve, reject) => {
      // Absent is no options; null, like any other non-object, is a VALIDATION_ERROR.
      const opts: EmitOptions = opt(
        (options === undefined ? {} : options) as EmitOptions,
        'options',
        'object',
        1,
      )!;
      knownKeys(opts, CALL_OPTIONS);
      const { signal } = opts;
      opt(signal, 'signal', ['addEventListener', 'removeEventListener']);
      const timeoutMs = num(opts, 'timeoutMs', requestTimeoutMs);
      opt((opts as RequestOptions).onAck, 'onAck', 'function');
      assertEventName(event);
      const payload = buildPayload(
        data,
        opts.correlationId ?? createCorrelationId(kind),
        maxPayloadBytes,
        clock.now(),
      );
      const { correlationId } = payload;
      // A slot, or OVERFLOW at once: the caller learns, nothing piles up.
      if (pending >= maxPending)
        throw fail('OVERFLOW', `'${event}': ${maxPending} calls already pending`, { maxPending });
      pending++;
      const logCall = (what: string) =>
        logger.isEnabled('request') && log('request', what, { event, correlationId });
      // Settles once, giving back the slot, the deadline and the abort listener.
      const finish = (err?: Error, value?: R) => {
        if (!calls.delete(self)) return;
        pending--;
        clock.clearTimeout(self.timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as R);
      };
      const self: LiveCall = {
        end: (code, what, details) =>
          finish(fail(code, `${kind} '${event}' ${what}`, { correlationId, ...details })),
      };
      const onAbort = () => self.end('ABORTED', 'was aborted');
      calls.add(self);
      self.timer = clock.setTimeout(
        () => self.end('TIMEOUT', `got no answer within ${timeoutMs} ms`, { timeoutMs }),
        timeoutMs,
      );
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const send = () => {
        if (!calls.has(self)) return;
        self.sent = true;
        logCall(kind);
        // At most once: handed to a connected socket, with no way to know it arrived.
        if (opts.confirm === false) return ((socket as SocketLike).emit(event, payload), finish());
        (socket as SocketLike).emit(event, payload, (res: unknown) => {
          if (!calls.has(self)) return; // a late ack, after a timeout or an abort
          try {
            const value = onAck(res, correlationId);
            logCall('ack');
            finish(undefined, value);
          } catch (e) {
            finish(e as Error);
          }
        });
      };
      // Connected: send now, without a promise hop (it shows in round-trip times).
      if (socket?.connected) send();
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
      return knownRuntimeId;
    },
    get disposed() {
      return disposed;
    },
    connect,
    emit: (event, data, opts) => call('emit', event, data, opts, noop),
    request: <T>(event: string, data?: object | null, opts?: RequestOptions) =>
      call('request', event, data, opts, (res, correlationId) => {
        const response = validateAck(res, correlationId);
        // In wire order: before the promise settles, and before events the server sent after the ack.
        const observe = opts?.onAck;
        if (observe) {
          try {
            observe(response);
          } catch (e) {
            reportError(e);
          }
        }
        return response;
      }) as Promise<RequestResponse<T>>,

    on<T extends object>(event: string, callback: EventCallback<T>) {
      assertEventName(event);
      if (typeof callback != 'function') throw invalid('callback', 'a function');
      if (disposed) throw disposedError();
      subs.set(event, (subs.get(event) ?? new Set()).add(callback as EventCallback<object>));
      if (socket) attach(event);
      else connect().catch(noop); // the failure reaches onError listeners
      return () => client.off(event, callback);
    },

    off<T extends object>(event: string, callback: EventCallback<T>) {
      // Removing every callback of a shared client is how the anchor's harness broke live updates.
      if (typeof callback != 'function') throw invalid('callback', 'a function');
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
    onDispose: listen(disposeHooks),
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
      // Disposed first: a disconnect listener that connects or calls again now gets DISPOSED.
      disposed = true;
      client.disconnect();
      // Layers built on the client (a sync store) let go of it now.
      fire(disposeHooks, undefined, reportError);
      const s = socket;
      if (s) {
        for (const event in socketHandlers) s.off(event, socketHandlers[event] as SocketListener);
        s.io?.off('reconnect_failed', onGiveUp);
        dispatchers.forEach((fn, event) => s.off(event, fn));
      }
      calls.forEach((c) => c.end('DISCONNECTED', 'lost: client was disposed'));
      [dispatchers, subs, connectHooks, disconnectHooks, errorHooks, disposeHooks].forEach((c) =>
        c.clear(),
      );
      timers.clearAll();
      auth.cancel?.();
    },
  };
  return client;
}
