import { Manager, type ManagerOptions, type SocketOptions } from 'socket.io-client';

/** A listener as Socket.IO calls it; the last argument may be an ack function. */
export type SocketListener = (...args: unknown[]) => void;

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

/**
 * Each client gets its own Manager: socket.io-client's `io()` caches Managers
 * per URL in module state, which would couple unrelated clients and tests.
 *
 * `tryAllTransports` makes a blocked WebSocket fall back to long-polling: the
 * anchor left it off, so a proxy that blocks upgrades left pages empty.
 */
export const defaultSocketFactory: SocketFactory = ({ url, namespace, auth, options }) =>
  new Manager(url, {
    autoConnect: false,
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    withCredentials: true,
    ...options,
  }).socket(namespace, { auth });
