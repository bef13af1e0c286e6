/**
 * What the server sends the client: events, validated once and handed to every subscriber
 * (`on()`/`off()`), and server requests (events with an ack), answered with one result per
 * subscriber, a throw or rejection becoming a `HANDLER_ERROR` item.
 */
import { fail, messageOf, type SyncwireError } from '../errors';
import type { Logger } from '../logger';
import { validateServerEnvelope, type ServerEnvelope } from '../protocol';
import { isPlainObject, noop } from '../util';
import type { EventCallback } from './api';
import type { SocketLike, SocketListener } from './socket';

/** A subscriber of an event's raw payload, as the socket delivered it (see the client's `onPayload`). */
export type PayloadCallback = (payload: unknown) => void;

/** @internal The subscribers of one client, and the socket listeners that feed them. */
export interface Inbound {
  /** Adds `callback` for `event`; with a socket bound, it listens for `event` from now on. */
  subscribe(event: string, callback: EventCallback<object>): void;
  /** Removes `callback`; the last one of `event` also removes the socket listener. */
  unsubscribe(event: string, callback: EventCallback<object>): void;
  /** Adds a subscriber of `event`'s raw payload, which it validates itself; returns its remover. */
  subscribePayload(event: string, callback: PayloadCallback): () => void;
  /** Binds the client's socket (once, when it is made): every event subscribed so far listens. */
  bind(socket: SocketLike): void;
  /** Removes every socket listener and every subscriber (the client is disposed). */
  clear(): void;
  /** True when no server request is being answered (the subscribers' results awaited). */
  idle(): boolean;
}

/**
 * The subscribers of one event. The lists are replaced, never changed in place: an event
 * being delivered keeps the list it started with (a callback that (un)subscribes changes
 * the next event, not this one) without a copy per event.
 */
interface Subscribers {
  callbacks: readonly EventCallback<object>[];
  payloads: readonly PayloadCallback[];
}

/**
 * @internal Creates the inbound side of one client. `onIdle` hears the last server request
 * in progress answered.
 */
export function createInbound(
  logger: Logger,
  reportError: (e: unknown) => void,
  onIdle: () => void = noop,
): Inbound {
  let answering = 0; // server requests whose answer is not sent yet
  const subs = new Map<string, Subscribers>();
  const dispatchers = new Map<string, SocketListener>();
  let socket: SocketLike | undefined;

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

  // One inbound event: raw-payload subscribers first, then, when there are envelope subscribers
  // or an answer is due, validated once and handed to each subscriber.
  const dispatch = (event: string, raw: unknown, ack: unknown) => {
    const answer = typeof ack === 'function' ? (ack as (v: unknown) => void) : undefined;
    if (logger.isEnabled('push')) {
      const { correlationId, handlerId } = isPlainObject(raw) ? raw : {};
      logger.log('push', event, { correlationId, handlerId });
    }
    const entry = subs.get(event);
    if (entry) {
      for (const cb of entry.payloads) {
        try {
          cb(raw);
        } catch (e) {
          reportError(e);
        }
      }
    }
    const callbacks = entry?.callbacks ?? [];
    if (callbacks.length === 0 && !answer) return;
    let env: ServerEnvelope;
    try {
      env = validateServerEnvelope(raw);
    } catch (e) {
      const error = messageOf(e);
      reportError(
        fail('INVALID_ENVELOPE', `'${event}': ${error}`, (e as SyncwireError).details, e),
      );
      answer?.({
        correlationId: null,
        results: [{ ok: false, error: { code: 'INVALID_ENVELOPE', error } }],
      });
      return;
    }
    if (!answer) {
      // An event: each subscriber is called; a throw or a rejection is reported, not answered.
      for (const cb of callbacks) {
        try {
          const r = cb(env) as Promise<unknown> | undefined;
          if (typeof r?.then === 'function') r.then(noop, reportError);
        } catch (e) {
          reportError(e);
        }
      }
      return;
    }
    // A server request: one result per callback, awaited, errors turned into items. Until its
    // answer is sent the client is not idle: moving the connection would lose it.
    answering++;
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
      answering--;
      if (answering === 0) onIdle();
    });
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

  // Replaces `event`'s lists with `change`'s; the last subscriber gone removes the socket listener.
  const update = (event: string, change: (s: Subscribers) => Subscribers) => {
    const next = change(subs.get(event) ?? { callbacks: [], payloads: [] });
    if (next.callbacks.length || next.payloads.length) {
      subs.set(event, next);
      attach(event);
      return;
    }
    subs.delete(event);
    const d = dispatchers.get(event);
    dispatchers.delete(event);
    if (d) socket?.off(event, d);
  };
  // A callback is subscribed once: subscribing it again changes nothing (as with a Set).
  const added = <T>(list: readonly T[], cb: T) => (list.includes(cb) ? list : [...list, cb]);
  const removed = <T>(list: readonly T[], cb: T) => list.filter((x) => x !== cb);

  return {
    subscribe(event, callback) {
      update(event, (s) => ({ ...s, callbacks: added(s.callbacks, callback) }));
    },
    unsubscribe(event, callback) {
      if (!subs.get(event)?.callbacks.includes(callback)) return;
      update(event, (s) => ({ ...s, callbacks: removed(s.callbacks, callback) }));
    },
    subscribePayload(event, callback) {
      // A wrapper of its own: the same function subscribed twice is two subscriptions.
      const cb: PayloadCallback = (payload) => callback(payload);
      update(event, (s) => ({ ...s, payloads: [...s.payloads, cb] }));
      return () => {
        if (!subs.get(event)?.payloads.includes(cb)) return;
        update(event, (s) => ({ ...s, payloads: removed(s.payloads, cb) }));
      };
    },
    bind(s) {
      socket = s;
      subs.forEach((_, event) => attach(event));
    },
    idle: () => answering === 0,
    clear() {
      dispatchers.forEach((fn, event) => socket?.off(event, fn));
      dispatchers.clear();
      subs.clear();
    },
  };
}
