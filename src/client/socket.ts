import { Manager, type ManagerOptions, type SocketOptions } from 'socket.io-client';

/** A listener as Socket.IO calls it; the last argument may be an ack function. */
export type SocketListener = (...args: unknown[]) => void;

/**
 * What the client may know and do about a socket's transport (WebSocket or HTTP long-polling),
 * for the background WebSocket probe. The default factory's sockets have it; a socket without
 * it is never probed nor moved.
 */
export interface SocketTransport {
  /** The transport of the open connection (`'websocket'`, `'polling'`, ...); undefined while none is open. */
  readonly name: string | undefined;
  /** The transports the next connection tries, in that order (empty when they have no names). */
  readonly order: readonly string[];
  /** Makes `name` (one of `order`) the first transport of the next connections; the rest keep their order. */
  setFirst(name: string): void;
  /** Calls `listener` with the new transport's name when the open connection upgrades. Returns its remover. */
  onUpgrade(listener: (name: string) => void): () => void;
  /**
   * Opens a throwaway Engine.IO connection to the same server, with the same options but
   * WebSocket only, and closes it as soon as it opens: `done(true)`; `done(false)` when it
   * fails. Returns a canceller that closes it; `done` is then never called.
   */
  probe(done: (ok: boolean) => void): () => void;
}

/**
 * The slice of a Socket.IO `Socket` the client uses. Tests inject a fake
 * through {@link ClientOptions.socketFactory}; production uses socket.io-client.
 */
export interface SocketLike {
  readonly connected: boolean;
  /** False once Socket.IO itself will not reconnect (manual disconnect or a server rejection). */
  readonly active: boolean;
  connect(): unknown;
  disconnect(): unknown;
  on(event: string, listener: SocketListener): unknown;
  off(event: string, listener: SocketListener): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  /**
   * The socket's Manager (socket.io-client's `socket.io`), for its `reconnect_failed`: after
   * `reconnectionAttempts` the Manager stops while the socket stays `active`. Optional: a
   * socket without one is assumed to reconnect by itself for as long as it is active.
   */
  readonly io?: {
    on(event: 'reconnect_failed', listener: () => void): unknown;
    off(event: 'reconnect_failed', listener: () => void): unknown;
  };
  /** Transport information and control (see {@link SocketTransport}). Optional. */
  readonly transport?: SocketTransport;
}

/** Options handed to Socket.IO's Manager and Socket. */
export type SocketIoOptions = Partial<ManagerOptions & SocketOptions>;

/** Creates the socket for one client. `auth` must be passed through to Socket.IO as is. */
export type SocketFactory = (init: {
  url: string;
  namespace: string;
  auth: (cb: (data: object) => void) => void;
  options: SocketIoOptions;
}) => SocketLike;

/** The transports' names in order, or none when one is given as a class (no name to move by). */
const namesOf = (list: unknown): string[] =>
  Array.isArray(list) && list.every((t) => typeof t === 'string') ? list : [];

/**
 * {@link SocketTransport} on socket.io-client: the Manager's engine tells the transport, the
 * Manager's options (which it hands to each new engine) set the order of the next connection.
 */
function managerTransport(url: string, manager: Manager, isOpen: () => boolean): SocketTransport {
  return {
    get name() {
      return isOpen() ? manager.engine?.transport?.name : undefined;
    },
    get order() {
      return namesOf(manager.opts.transports);
    },
    setFirst(name) {
      const order = namesOf(manager.opts.transports);
      if (order.includes(name))
        manager.opts.transports = [name, ...order.filter((t) => t !== name)];
    },
    onUpgrade(listener) {
      let engine: Manager['engine'] | undefined;
      const upgraded = (t: { name: string }) => listener(t.name);
      // Each connection has an engine of its own: follow the current one.
      const follow = () => {
        engine?.off('upgrade', upgraded);
        engine = manager.engine;
        engine?.on('upgrade', upgraded);
      };
      follow();
      manager.on('open', follow);
      return () => {
        manager.off('open', follow);
        engine?.off('upgrade', upgraded);
      };
    },
    probe(done) {
      // An Engine.IO connection only (no namespace joins it), so the server's application
      // never sees it; socket.io-client's Manager is already in the bundle, engine.io-client
      // would be a dependency of its own.
      const probe = new Manager(url, {
        ...manager.opts,
        transports: ['websocket'],
        tryAllTransports: false,
        reconnection: false,
        autoConnect: false,
        // The client's clock bounds the probe; no timer of socket.io's may outlive a cancel.
        timeout: false as unknown as number,
      });
      let live = true;
      probe.open((err?: unknown) => {
        if (!live) return;
        live = false;
        probe.engine.close();
        done(!err);
      });
      return () => {
        if (!live) return;
        live = false;
        probe.engine.close();
      };
    },
  };
}

/**
 * Each client gets its own Manager: socket.io-client's `io()` caches Managers
 * per URL in module state, which would couple unrelated clients and tests.
 *
 * `tryAllTransports` makes a blocked WebSocket fall back to long-polling: the
 * anchor left it off, so a proxy that blocks upgrades left pages empty.
 */
export const defaultSocketFactory: SocketFactory = ({ url, namespace, auth, options }) => {
  const manager = new Manager(url, {
    autoConnect: false,
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    withCredentials: true,
    ...options,
  });
  const socket = manager.socket(namespace, { auth });
  return Object.assign(socket, {
    transport: managerTransport(url, manager, () => socket.connected),
  });
};
