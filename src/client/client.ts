/**
 * `createNamespacedClient`: the connection lifecycle of one Socket.IO namespace (lazy connect,
 * credentials first, retries after rejections, the Manager's give-up, dispose) and the public
 * client object. Calls, inbound events and option checks live in calls.ts, inbound.ts and
 * options.ts.
 */
import { createTimers } from '../clock';
import { fail, invalid, type SyncwireError } from '../errors';
import { fire, listen } from '../listeners';
import { assertEventName } from '../protocol';
import { isNullish, noop } from '../util';
import { createCredentials } from './auth';
import { createCalls } from './calls';
import { connectTimeoutError, describeConnectError, gaveUpError } from './connect-errors';
import { staleCookies } from './connect-errors';
import { createInbound } from './inbound';
import { createRuntimeIds } from './runtime-ids';
import { createErrorReport } from './report';
import { resolveOptions } from './options';
import { createRetry } from './retry';
import { createTransportUpgrade } from './transport';
import type { SocketLike, SocketListener } from './socket';
import type { Status } from './status';
import type { ClientOptions, ConnectInfo, EventCallback, EventMap, NamespacedClient } from './api';

// The layers built on the client (the store) name its types from here.
export type { ClientOptions, NamespacedClient } from './api';

/** The name of the timer of connect()'s deadline. */
const CONNECT_TIMER = 'connect';

/**
 * Creates a client for one Socket.IO namespace. Nothing connects until `connect()`, `emit()`,
 * `request()` or `on()` is first called. `E` types its events (see {@link EventMap}).
 *
 * @example
 * ```ts
 * const client = createNamespacedClient('/state_sync', { url: 'https://example.test' })
 * const off = client.on('server_restart', ({ data }) => console.log(data.runtimeId))
 * const { results } = await client.request('echo', { hello: 1 }, { timeoutMs: 1500 })
 * ```
 */
export function createNamespacedClient<E extends EventMap = EventMap>(
  namespace: string,
  options: ClientOptions = {},
): NamespacedClient<E> {
  const opts = resolveOptions(namespace, options);
  const { ns, url, logger, clock } = opts;
  const timers = createTimers(clock);
  const connectHooks = new Set<(i: ConnectInfo) => void>();
  const disconnectHooks = new Set<(r: string) => void>();
  const disposeHooks = new Set<() => void>();

  let status: Status = 'ready';
  let terminal: SyncwireError | undefined; // why the client 'failed'
  let socket: SocketLike | undefined;
  // The pending connect() promise shared by every caller, and how to settle it.
  let waiting: Promise<void> | undefined;
  let settleWaiting: (err?: SyncwireError) => void = noop;

  const isDisposed = () => status === 'disposed';
  // Not stopped by disconnect() and not disposed: a timer's or auth's late answer may open.
  const mayOpen = () => status !== 'stopped' && status !== 'disposed';
  // Neither stopped by disconnect(), failed nor disposed: retries and reconnects may run.
  const running = () => status === 'ready' || status === 'gave-up';
  const disposedError = () => fail('DISPOSED', 'client was disposed');

  const { hooks: errorHooks, report: reportError } = createErrorReport(opts);

  const runtimeIds = createRuntimeIds();
  const credentials = createCredentials(
    opts,
    timers,
    reportError,
    (id) => runtimeIds.learn(id),
    isDisposed,
  );
  const inbound = createInbound(logger, reportError, () => upgrade.quiet());

  // After a namespace-level rejection (e.g. a CSRF token from before a restart) or a server
  // disconnect, Socket.IO will not come back by itself: we retry, with fresh credentials.
  // Transport failures are left to Socket.IO's own Manager, so two loops never drive one socket.
  const retry = createRetry(opts, timers);
  const retryFresh = () => {
    credentials.refreshNext();
    if (running())
      retry.schedule(() => {
        if (mayOpen()) open();
      });
  };

  // Fetching the token sets cookies (the server's session, csrf_token_<runtime id>) that the
  // server checks on the Engine.IO handshake, before Socket.IO ever asks for auth. So auth
  // runs before the socket opens, as Agent Zero's page does, whether it is the default or
  // the user's function; that attempt's auth callback then reuses its answer. (A fixed auth
  // object has nothing to fetch.)
  const open = () => {
    const s = socket as SocketLike;
    // Not connected, and neither Socket.IO's Manager nor a rejection retry is on it.
    const idle = () => !s.connected && (!s.active || status === 'gave-up');
    const start = () => {
      if (status === 'gave-up') status = 'ready';
      s.connect();
    };
    if (credentials.prefetching() || !idle()) return;
    if (!isNullish(opts.auth) && typeof opts.auth !== 'function') {
      start();
      return;
    }
    credentials.prefetch(() => {
      if (mayOpen() && idle()) start();
    });
  };

  // The Manager gave up: whoever waits for a connection learns it now, and the next
  // connect(), emit() or request() starts afresh.
  const onGiveUp = () => {
    if (status === 'ready') status = 'gave-up';
    const err = gaveUpError(ns, url);
    settleWaiting(err);
    reportError(err);
  };

  // Attached before the socket opens, so an event the server sends inside its
  // connect handler (server_restart) is never lost.
  const socketHandlers: Record<string, SocketListener> = {
    server_restart: (raw) => runtimeIds.onRestart(raw),

    connect() {
      retry.reset();
      const info = runtimeIds.onConnect();
      logger.log('connect', 'connected', { namespace: ns, ...info });
      settleWaiting();
      fire(connectHooks, info, reportError);
      upgrade.connected();
    },

    connect_error(raw) {
      const rejected = !socket?.active;
      const err = describeConnectError(raw, ns, url, opts.socketOptions.path, rejected);
      if (err.code === 'UNKNOWN_NAMESPACE' && !isDisposed()) {
        status = 'failed';
        terminal = err;
      }
      settleWaiting(err);
      reportError(err);
      if (rejected) retryFresh();
      // The Engine.IO handshake refused (current Agent Zero checks its session and CSRF cookies
      // there): the Manager would retry with the same stale cookies for ever. New credentials
      // set new cookies, which its next attempt carries. (A WebSocket error has no status, so
      // only the long-polling transport can tell; the default transports end with it.)
      if (!rejected && staleCookies(err)) void credentials.load(true).catch(noop);
    },

    disconnect(reason) {
      const why = String(reason);
      upgrade.stop();
      logger.log('connect', 'disconnected', { reason: why });
      calls.loseSent(why);
      fire(disconnectHooks, why, reportError);
      if (why === 'io server disconnect') retryFresh();
    },
  };

  const createSocket = (): SocketLike => {
    const s = opts.socketFactory({
      url,
      namespace: ns,
      auth: (cb) => credentials.callback(cb),
      options: opts.socketOptions,
    });
    socket = s;
    for (const event in socketHandlers) s.on(event, socketHandlers[event] as SocketListener);
    s.io?.on('reconnect_failed', onGiveUp);
    upgrade.attach(s);
    inbound.bind(s);
    return s;
  };

  const connect = (): Promise<void> => {
    if (isDisposed()) return Promise.reject(disposedError());
    if (status === 'failed' && terminal) return Promise.reject(terminal);
    if (status === 'stopped') status = 'ready';
    const s = socket ?? createSocket();
    if (s.connected) return Promise.resolve();
    waiting ??= new Promise<void>((resolve, reject) => {
      timers.set(CONNECT_TIMER, opts.connectTimeoutMs, () =>
        settleWaiting(connectTimeoutError(ns, url, opts.connectTimeoutMs)),
      );
      settleWaiting = (err) => {
        waiting = undefined;
        settleWaiting = noop;
        timers.clear(CONNECT_TIMER);
        if (err) reject(err);
        else resolve();
      };
    });
    // While a rejection retry is pending, let the backoff run; otherwise (re)start.
    if (!retry.pending()) open();
    return waiting;
  };

  // A probe opened: reconnect (the next connection tries WebSocket first) once calls are done.
  const reopen = () => status === 'ready' && void client.reconnect().catch(noop);
  const upgrade = createTransportUpgrade(
    opts,
    timers,
    () => socket,
    () => calls.idle() && inbound.idle(),
    reopen,
  );
  const calls = createCalls(opts, () => socket, connect, reportError, upgrade.quiet);

  // on() and onPayload(): checked, recorded at once (`add`), and the lazy connect started.
  const subscribe = <R>(event: string, callback: unknown, add: () => R): R => {
    assertEventName(event);
    if (typeof callback !== 'function') throw invalid('callback', 'a function');
    if (isDisposed()) throw disposedError();
    const added = add();
    if (!socket) connect().catch(noop); // the failure reaches onError listeners
    return added;
  };

  // EventCallback<never> takes a callback of any payload type: the interface's signatures
  // (untyped, or from an event map) decide which ones a caller may pass. Removing every
  // callback of a shared client is how the anchor's harness broke live updates: one at a time.
  const off = (event: string, callback: EventCallback<never>) => {
    if (typeof callback !== 'function') throw invalid('callback', 'a function');
    inbound.unsubscribe(event, callback as EventCallback<object>);
  };
  const client: NamespacedClient<E> = {
    namespace: ns,
    url,
    logger,
    clock,
    get csrfToken() {
      return credentials.csrfToken;
    },
    transport: upgrade.info,
    get runtimeId() {
      return runtimeIds.latest;
    },
    get disposed() {
      return isDisposed();
    },
    connect,
    emit: calls.emit,
    request: calls.request,
    on(event: string, callback: EventCallback<never>) {
      subscribe(event, callback, () => inbound.subscribe(event, callback as EventCallback<object>));
      return () => off(event, callback);
    },
    onPayload: (event: string, callback: (payload: unknown) => void) =>
      subscribe(event, callback, () => inbound.subscribePayload(event, callback)),
    off,

    onConnect: listen(connectHooks),
    onDisconnect: listen(disconnectHooks),
    onError: listen(errorHooks),
    onDispose: listen(disposeHooks),
    reportError,
    refreshAuth: () => credentials.load(true).then(noop),
    isConnected: () => socket?.connected === true,

    reconnect(opts = {}) {
      if (opts.refreshAuth) credentials.refreshNext();
      retry.cancel();
      socket?.disconnect();
      return connect();
    },

    disconnect() {
      if (running()) status = 'stopped';
      retry.cancel();
      settleWaiting(fail('DISCONNECTED', 'disconnect() was called'));
      socket?.disconnect();
    },

    dispose() {
      if (isDisposed()) return;
      // Disposed first: a disconnect listener that connects or calls again now gets DISPOSED.
      status = 'disposed';
      client.disconnect();
      // Layers built on the client (a sync store) let go of it now.
      fire(disposeHooks, undefined, reportError);
      const s = socket;
      if (s) {
        for (const event in socketHandlers) s.off(event, socketHandlers[event] as SocketListener);
        s.io?.off('reconnect_failed', onGiveUp);
      }
      inbound.clear();
      upgrade.dispose();
      calls.endAll();
      for (const hooks of [connectHooks, disconnectHooks, errorHooks, disposeHooks]) hooks.clear();
      timers.clearAll();
      credentials.cancel();
    },
  };
  return client;
}
