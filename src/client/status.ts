/**
 * @internal Where a client stands. The connection itself (connected, or Socket.IO's Manager trying)
 * is the socket's own state, read from `socket.connected` and `socket.active`; this is what
 * the client decided on top of it:
 *
 * - `ready`: connecting on demand; Socket.IO (and rejection retries) keep it connected.
 * - `gave-up`: the Manager stopped reconnecting (`reconnectionAttempts`); the socket still
 *   counts as active, so only an explicit connect(), emit() or request() opens it again.
 * - `stopped`: `disconnect()` was called; no retry runs until the next connect().
 * - `failed`: the server does not know the namespace; connect() rejects with that error.
 * - `disposed`: final.
 *
 * Transitions: ready → gave-up (`reconnect_failed`); gave-up → ready (the client opens the
 * socket again); ready | gave-up → stopped (`disconnect()`); stopped → ready (`connect()`);
 * ready | gave-up | stopped → failed (`UNKNOWN_NAMESPACE`); any → disposed (`dispose()`).
 */
export type Status = 'ready' | 'gave-up' | 'stopped' | 'failed' | 'disposed';
