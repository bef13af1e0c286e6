// The Socket.IO layer: a JavaScript stand-in for Agent Zero's WebSocketManager.
// It owns the connect checks, the payload unwrap, handler fan-out with ack
// aggregation, and the delivery envelope on every server emit.
import { randomUUID } from 'node:crypto';
import { checkOrigin, parseCookies } from './security.mjs';

export const MANAGER_ID = 'syncwire.reference.Manager';
export const NAMESPACES = Object.freeze(['/dev_websocket_test', '/state_sync']);
const EVENT_NAME = /^[a-z][a-z0-9_]*$/;
const RESULT = Symbol('syncwire.result');

/**
 * @typedef {import('socket.io').Server} IoServer
 * @typedef {import('socket.io').Socket} IoSocket
 * @typedef {import('./security.mjs').Runtime} Runtime
 * @typedef {import('./security.mjs').CsrfStore} CsrfStore
 *
 * @typedef {{ code: string, error: string, details?: unknown }} ResultError
 * @typedef {{ handlerId: string, ok: true, correlationId?: string, data: Record<string, unknown> }
 *   | { handlerId: string, ok: false, correlationId?: string, error: ResultError }} ResultItem
 * @typedef {{ correlationId: string, results: ResultItem[] }} Aggregate
 * @typedef {{ handlerId: string, eventId: string, correlationId: string, ts: string, data: any }} Envelope
 * @typedef {{ at: string, namespace: string, reason: string }} Rejection
 *
 * @typedef {object} Stats
 * @property {number} connections namespace connections open now
 * @property {number} totalConnections namespace connections ever accepted
 * @property {Map<string, number>} received client events received, by correlationId
 * @property {number} stateRequests state_request events processed
 * @property {number} fullStateRequests valid state_requests from the start (log_from and
 *   notifications_from 0): what full resyncs cost, as opposed to incremental resumes
 * @property {number} polls /poll requests received
 * @property {Rejection[]} rejections refused connects (reasons only, never tokens)
 *
 * @typedef {object} HandlerContext
 * @property {string} sid
 * @property {string} namespace
 * @property {IoSocket} socket
 * @property {string} correlationId the client's, or a generated one
 * @property {(event: string, data?: unknown, correlationId?: string) => boolean} emitToSender defaults to this event's correlationId
 * @property {(event: string, data?: unknown, opts?: { excludeSids?: string[] }) => number} broadcast returns the number of sockets reached
 * @property {(event: string, data?: unknown, timeoutMs?: number) => Promise<any>} request never rejects
 *
 * @typedef {object} Handler
 * @property {string} handlerId
 * @property {string[]} events
 * @property {(event: string, data: any, ctx: HandlerContext) => unknown} handle
 * @property {(sid: string, namespace: string) => void} [onDisconnect]
 *
 * @typedef {object} ManagerOptions
 * @property {string[]} allowedOrigins
 * @property {boolean} allowMissingOrigin
 * @property {boolean} requireCsrfCookie
 * @property {boolean} serverRestartEvent
 */

/** @param {unknown} data @returns {{ ok: true, data: Record<string, unknown> }} an explicit success result */
export function resultOk(data) {
  return /** @type {any} */ ({ [RESULT]: true, ok: true, data: data ?? {} });
}

/**
 * @param {string} code @param {string} message @param {unknown} [details]
 * @returns {{ ok: false, error: ResultError }} an explicit error result
 */
export function resultError(code, message, details) {
  const error =
    details === undefined ? { code, error: message } : { code, error: message, details };
  return /** @type {any} */ ({ [RESULT]: true, ok: false, error });
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
export function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** @param {string} handlerId @param {unknown} data @param {string} [correlationId] @returns {Envelope} */
export function envelope(handlerId, data, correlationId) {
  return {
    handlerId,
    eventId: randomUUID(),
    correlationId: correlationId || randomUUID(),
    ts: new Date().toISOString(),
    data: data ?? {},
  };
}

/** @param {string} handlerId @param {string} correlationId @param {unknown} value @returns {ResultItem} */
function toItem(handlerId, correlationId, value) {
  const v = /** @type {any} */ (value);
  if (v && v[RESULT])
    return v.ok
      ? { handlerId, ok: true, correlationId, data: v.data }
      : { handlerId, ok: false, correlationId, error: v.error };
  if (value === undefined || value === null)
    return { handlerId, ok: true, correlationId, data: {} };
  if (isPlainObject(value)) return { handlerId, ok: true, correlationId, data: value };
  return { handlerId, ok: true, correlationId, data: { result: value } };
}

/** @param {string} correlationId @param {string} code @param {string} error @returns {Aggregate} */
function managerError(correlationId, code, error) {
  return { correlationId, results: [{ handlerId: MANAGER_ID, ok: false, error: { code, error } }] };
}

export class Manager {
  /**
   * @param {{ io: IoServer, runtime: Runtime, csrf: CsrfStore, stats: Stats, options: ManagerOptions }} deps
   */
  constructor({ io, runtime, csrf, stats, options }) {
    this.io = io;
    this.runtime = runtime;
    this.csrf = csrf;
    this.stats = stats;
    this.options = options;
    /** @type {Map<string, Map<string, Handler[]>>} namespace → event → handlers in registration order */
    this.handlers = new Map();
    /**
     * When it returns true for an incoming event, the event is dropped unprocessed and unacked (a fault).
     * @type {((namespace: string, event: string) => boolean) | null}
     */
    this.swallow = null;
    /** @type {Map<string, import('socket.io').Namespace>} */
    this.nsps = new Map();
    /** @type {Set<{ timer: ReturnType<typeof setTimeout>, finish: () => void }>} */
    this.pendingRequests = new Set();

    for (const name of NAMESPACES) {
      this.handlers.set(name, new Map());
      const nsp = io.of(name);
      this.nsps.set(name, nsp);
      nsp.use((socket, next) => this.checkConnect(name, socket, next));
      nsp.on('connection', (socket) => this.onConnection(name, socket));
    }
    // Anything else is refused like Agent Zero's gatekeeper does. The catch-all must
    // come after our namespaces (io.of(name) would otherwise make them its children),
    // and '/' always exists in socket.io, so it needs the same middleware.
    /** @type {(socket: IoSocket, next: (err?: Error) => void) => void} */
    const unknown = (socket, next) => {
      const err = /** @type {Error & { data?: unknown }} */ (new Error('UNKNOWN_NAMESPACE'));
      err.data = { code: 'UNKNOWN_NAMESPACE', namespace: socket.nsp.name };
      next(err);
    };
    io.of('/').use(unknown);
    io.of(/^\/.*/).use(unknown);
  }

  /**
   * Origin, then CSRF; on success the last step sends server_restart, which
   * therefore leaves before socket.io writes the namespace CONNECT packet (as in python-socketio).
   * @param {string} namespace @param {IoSocket} socket @param {(err?: Error) => void} next
   */
  checkConnect(namespace, socket, next) {
    const reason = this.rejectReason(socket);
    if (reason) {
      this.stats.rejections.push({ at: new Date().toISOString(), namespace, reason });
      next(new Error('Connection rejected by server'));
      return;
    }
    if (this.options.serverRestartEvent) {
      socket.emit(
        'server_restart',
        envelope(MANAGER_ID, { emittedAt: new Date().toISOString(), runtimeId: this.runtime.id }),
      );
    }
    next();
  }

  /** @param {IoSocket} socket @returns {string | null} */
  rejectReason(socket) {
    const headers = socket.handshake.headers;
    const originProblem = checkOrigin(headers, this.options);
    if (originProblem) return originProblem;
    const auth = socket.handshake.auth ?? {};
    const token = auth.csrf_token ?? auth.csrfToken;
    if (typeof token !== 'string' || !token) return 'csrf_missing';
    if (!this.csrf.isValid(token)) return 'csrf_invalid';
    if (
      this.options.requireCsrfCookie &&
      !this.csrf.cookieMatches(parseCookies(headers.cookie), token)
    )
      return 'csrf_cookie';
    return null;
  }

  /** @param {string} namespace @param {Handler} handler */
  register(namespace, handler) {
    const byEvent = this.handlers.get(namespace);
    if (!byEvent) throw new Error(`Unknown namespace ${namespace}`);
    for (const event of handler.events) {
      const list = byEvent.get(event) ?? [];
      list.push(handler);
      byEvent.set(event, list);
    }
  }

  /** @param {string} namespace @param {IoSocket} socket */
  onConnection(namespace, socket) {
    this.stats.connections += 1;
    this.stats.totalConnections += 1;
    socket.onAny((event, ...args) => {
      void this.onEvent(namespace, socket, String(event), args);
    });
    socket.on('disconnect', () => {
      this.stats.connections -= 1;
      const seen = new Set();
      for (const list of this.handlers.get(namespace)?.values() ?? []) {
        for (const h of list)
          if (!seen.has(h)) {
            seen.add(h);
            h.onDisconnect?.(socket.id, namespace);
          }
      }
    });
  }

  /** @param {string} namespace @param {IoSocket} socket @param {string} event @param {unknown[]} args */
  async onEvent(namespace, socket, event, args) {
    const ack =
      typeof args[args.length - 1] === 'function'
        ? /** @type {(v: unknown) => void} */ (args.pop())
        : null;
    const incoming = /** @type {any} */ (args[0]);
    const wrapped = isPlainObject(incoming) && isPlainObject(incoming.data);
    const given =
      isPlainObject(incoming) &&
      typeof incoming.correlationId === 'string' &&
      incoming.correlationId
        ? incoming.correlationId
        : '';
    const correlationId = given || randomUUID().replace(/-/g, '');
    this.stats.received.set(correlationId, (this.stats.received.get(correlationId) ?? 0) + 1);
    if (this.swallow?.(namespace, event)) return;

    if (!EVENT_NAME.test(event))
      return ack?.(managerError(correlationId, 'INVALID_EVENT', `Invalid event name '${event}'`));
    const list = this.handlers.get(namespace)?.get(event) ?? [];
    if (list.length === 0)
      return ack?.(managerError(correlationId, 'NO_HANDLERS', `No handler for '${event}'`));

    const results = await Promise.all(
      list.map(async (handler) => {
        // The client's ts is dropped, as in route_event(); each handler gets its own copy.
        const payload = wrapped ? { ...incoming.data, correlationId } : incoming;
        try {
          return toItem(
            handler.handlerId,
            correlationId,
            await handler.handle(
              event,
              payload,
              this.context(namespace, socket, handler, correlationId),
            ),
          );
        } catch (err) {
          const details = String(/** @type {any} */ (err)?.message ?? err);
          return /** @type {ResultItem} */ ({
            handlerId: handler.handlerId,
            ok: false,
            correlationId,
            error: { code: 'HANDLER_ERROR', error: 'Internal server error', details },
          });
        }
      }),
    );
    if (ack && socket.connected) ack({ correlationId, results });
  }

  /** @param {string} namespace @param {IoSocket} socket @param {Handler} handler @param {string} correlationId @returns {HandlerContext} */
  context(namespace, socket, handler, correlationId) {
    const id = handler.handlerId;
    return {
      sid: socket.id,
      namespace,
      socket,
      correlationId,
      emitToSender: (event, data, cid = correlationId) =>
        this.emitTo(namespace, socket.id, event, data, cid, id),
      broadcast: (event, data, opts = {}) =>
        this.broadcast(namespace, event, data, { ...opts, correlationId, handlerId: id }),
      request: (event, data, timeoutMs = 5000) =>
        this.request(namespace, socket.id, event, data, timeoutMs, id),
    };
  }

  /** @param {string} namespace @param {string} sid */
  socket(namespace, sid) {
    return this.nsps.get(namespace)?.sockets.get(sid);
  }

  /**
   * @param {string} namespace @param {string} sid @param {string} event @param {unknown} data
   * @param {string} [correlationId] @param {string} [handlerId]
   * @returns {boolean} false when the sid is not connected
   */
  emitTo(namespace, sid, event, data, correlationId, handlerId = MANAGER_ID) {
    const socket = this.socket(namespace, sid);
    if (!socket) return false;
    socket.emit(event, envelope(handlerId, data, correlationId));
    return true;
  }

  /**
   * @param {string} namespace @param {string} event @param {unknown} data
   * @param {{ excludeSids?: string[], correlationId?: string, handlerId?: string }} [opts]
   * @returns {number} sockets reached
   */
  broadcast(namespace, event, data, opts = {}) {
    const exclude = new Set(opts.excludeSids ?? []);
    const correlationId = opts.correlationId || randomUUID();
    let n = 0;
    for (const socket of this.nsps.get(namespace)?.sockets.values() ?? []) {
      if (exclude.has(socket.id)) continue;
      socket.emit(event, envelope(opts.handlerId ?? MANAGER_ID, data, correlationId));
      n += 1;
    }
    return n;
  }

  /**
   * Server → client request with a Socket.IO ack. Resolves with the client's ack
   * value, or with a TIMEOUT aggregate; never rejects.
   * @param {string} namespace @param {string} sid @param {string} event @param {unknown} data
   * @param {number} timeoutMs @param {string} [handlerId]
   * @returns {Promise<any>}
   */
  request(namespace, sid, event, data, timeoutMs, handlerId = MANAGER_ID) {
    const correlationId = randomUUID();
    const socket = this.socket(namespace, sid);
    /** @param {string} code @param {string} error @returns {Aggregate} */
    const failure = (code, error) => ({
      correlationId,
      results: [{ handlerId, ok: false, error: { code, error } }],
    });
    if (!socket) return Promise.resolve(failure('CONNECTION_NOT_FOUND', 'Connection not found'));
    return new Promise((resolve) => {
      let done = false;
      const entry = {
        timer: setTimeout(() => entry.finish(), Math.max(0, timeoutMs)),
        finish: () => settle(failure('TIMEOUT', 'Request timeout')),
      };
      /** @param {unknown} value */
      const settle = (value) => {
        if (done) return;
        done = true;
        clearTimeout(entry.timer);
        this.pendingRequests.delete(entry);
        resolve(value);
      };
      this.pendingRequests.add(entry);
      socket.emit(event, envelope(handlerId, data, correlationId), settle);
    });
  }

  /** Closes every Engine.IO connection at the transport level: clients see "transport close" and reconnect. */
  closeTransports() {
    const clients = /** @type {Record<string, { close: () => void }>} */ (
      /** @type {any} */ (this.io.engine).clients
    );
    for (const id of Object.keys(clients)) clients[id]?.close();
  }

  /** Settles outstanding server → client requests so no timer outlives the server. */
  close() {
    for (const entry of [...this.pendingRequests]) entry.finish();
  }
}
