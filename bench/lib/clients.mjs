// Client-side helpers: the built library, bare socket.io-client sockets, a socket
// factory that keeps a handle on what it builds, and a counting page environment.
import { randomUUID } from 'node:crypto';
import { Manager } from 'socket.io-client';
import { now, waitFor } from './util.mjs';

/** The options src/client/socket.ts (defaultSocketFactory) gives every Manager. */
export const DEFAULT_MANAGER_OPTIONS = Object.freeze({
  autoConnect: false,
  transports: ['websocket', 'polling'],
  tryAllTransports: true,
  withCredentials: true,
});

/**
 * A socketFactory that builds exactly what the default one builds (one Manager
 * per client, same options) and remembers the sockets, so a bench can hook
 * arrivals (`prependAny`) and count listeners through socket.io-client's API.
 */
export function recordingFactory() {
  const sockets = [];
  return {
    sockets,
    get socket() {
      return sockets[sockets.length - 1];
    },
    factory: ({ url, namespace, auth, options }) => {
      const socket = new Manager(url, { ...DEFAULT_MANAGER_OPTIONS, ...options }).socket(
        namespace,
        { auth },
      );
      sockets.push(socket);
      return socket;
    },
  };
}

/** GET /csrf_token → token. */
export async function csrfToken(url) {
  const res = await fetch(`${url}/csrf_token`);
  const body = await res.json();
  if (!body?.token) throw new Error(`no token from ${url}/csrf_token`);
  return body.token;
}

/** A bare socket.io-client socket (same Manager options as the library's), connected. */
export async function rawSocket(url, namespace, managerOptions = {}) {
  const token = await csrfToken(url);
  const socket = new Manager(url, { ...DEFAULT_MANAGER_OPTIONS, ...managerOptions }).socket(
    namespace,
    { auth: { csrf_token: token } },
  );
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
    socket.connect();
  });
  return socket;
}

/** The wire payload the library sends: `{ ts, data, correlationId }`. */
export const wirePayload = (data, prefix = 'request') => ({
  ts: new Date().toISOString(),
  data,
  correlationId: `${prefix}-${randomUUID()}`,
});

/** A real state_request handshake on a bare socket; resolves with the ack's result data. */
export async function rawHandshake(socket, prefix = 'bare') {
  const ack = await socket
    .timeout(5000)
    .emitWithAck(
      'state_request',
      wirePayload({ context: null, log_from: 0, notifications_from: 0, timezone: 'UTC' }, prefix),
    );
  const item = ack?.results?.find((r) => r.ok && r.data?.runtime_epoch);
  if (!item) throw new Error(`bare handshake failed: ${JSON.stringify(ack)}`);
  return item.data;
}

/**
 * A page environment (the store's `environment` option) that is always visible
 * and online and counts the listeners the store keeps attached to it.
 */
export function countingEnvironment() {
  const listeners = new Set();
  return {
    read: () => ({ hidden: false, online: true }),
    subscribe(fn) {
      const entry = { fn };
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}

/** Records the store's mode changes with timestamps; `next(to)` waits for the next change to `to`. */
export function modeWatch(store) {
  const changes = [];
  const waiters = new Set();
  const off = store.subscribe((e) => {
    if (e.type !== 'mode') return;
    const change = { at: now(), from: e.from, to: e.to, reason: e.reason };
    changes.push(change);
    for (const w of [...waiters]) {
      if (!w.match(change)) continue;
      waiters.delete(w);
      w.resolve(change);
    }
  });
  return {
    changes,
    off,
    /** Resolves with the first change after now that matches. */
    next(to, { timeoutMs = 15000, where = () => true } = {}) {
      return new Promise((resolve, reject) => {
        const w = { match: (c) => c.to === to && where(c), resolve };
        waiters.add(w);
        const t = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no mode ${to} within ${timeoutMs} ms (mode ${store.mode})`));
        }, timeoutMs);
        const done = w.resolve;
        w.resolve = (c) => {
          clearTimeout(t);
          done(c);
        };
      });
    },
  };
}

/** Starts a store and waits for HEALTHY. */
export async function startHealthy(store, timeoutMs = 10000) {
  await store.start();
  await waitFor(() => store.mode === 'HEALTHY', { timeoutMs, what: 'store HEALTHY' });
}

/**
 * Listeners reachable through socket.io-client's public API: `listeners(event)`
 * and `listenersAny()` / `listenersAnyOutgoing()` on the socket, its Manager and
 * the Manager's current engine. Event names are taken from the emitter's table
 * (it has no eventNames()); the counts come from the public `listeners()`.
 */
export function countSocketListeners(socket) {
  const count = (emitter) => {
    if (!emitter) return 0;
    const names = Object.keys(emitter._callbacks ?? {}).map((k) => k.slice(1));
    return names.reduce((n, name) => n + emitter.listeners(name).length, 0);
  };
  const manager = socket.io;
  return {
    socket: count(socket) + socket.listenersAny().length + socket.listenersAnyOutgoing().length,
    manager: count(manager),
    engine: count(manager?.engine),
  };
}

/**
 * Throws unless the store (Agent Zero model) shows what the server has now: its epoch, the
 * notifications cursor and guid, and every chat. `what` names the scenario in the error.
 */
export function assertConverged(server, store, what) {
  const s = store.state;
  const ok =
    store.health.epoch === server.runtime.id &&
    s.notifications_version === server.world.notifications.updates.length &&
    s.notifications_guid === server.world.notifications.guid &&
    s.contexts.length === server.world.chats.size;
  if (!ok)
    throw new Error(
      `${what}: HEALTHY but not the server's state (${JSON.stringify(store.health)})`,
    );
}
