/**
 * Outgoing calls of a client: `request()` and confirmed `emit()`, which wait for the
 * server's ack, and fire-and-forget emits. It checks each call, caps how many are
 * under way, keeps their deadlines and settles every one exactly once.
 */
import type { Clock } from '../clock';
import { fail, invalid, type SyncwireError } from '../errors';
import type { Logger } from '../logger';
import { assertEventName, buildPayload, createCorrelationId } from '../protocol';
import { num, optObj, optShape } from '../validate';
import type { EmitOptions, RequestOptions } from './api';
import type { SocketLike } from './socket';

/** What the calls need from their client. */
export interface CallHost {
  readonly clock: Clock;
  /** Default deadline of a call, in milliseconds. */
  readonly requestTimeoutMs: number;
  readonly maxPayloadBytes: number;
  /** Most calls under way at once. */
  readonly maxPending: number;
  /** The socket, if one is connected right now. */
  readonly connectedSocket: () => SocketLike | undefined;
  /** A connected socket, or a rejection saying why there is none. */
  readonly whenConnected: () => Promise<SocketLike>;
  readonly notConnected: () => SyncwireError;
  readonly logger: Logger;
}

/** The calls of one client. */
export interface Calls {
  /**
   * A call that waits for the ack; `onAck` turns the ack into the result, or throws. An emit
   * with `confirm: false` resolves once handed to a connected socket instead. Never throws:
   * bad input rejects like every other failure.
   */
  call<R>(event: string, data: unknown, options: unknown, kind: CallKind, onAck: (res: unknown, correlationId: string) => R): Promise<R>;
  /** Rejects every call already sent (its ack can no longer come) with `DISCONNECTED`, naming `reason`. */
  dropSent(reason: SyncwireError): void;
  /** Drops every call already sent (as dropSent), and cancels every deadline. */
  dispose(reason: SyncwireError): void;
}

/** Which public method a call came from (it names the call in errors). */
export type CallKind = 'emit' | 'request';

/** @internal Call options: a plain object (or nothing), with an AbortSignal-like `signal` if any. */
export function callOptions<T extends RequestOptions>(value: unknown): T {
  if (value === null) throw invalid('options', 'options expects a plain object, but got null');
  const opts = (optObj(value, 'options') ?? {}) as T;
  optShape(opts.signal, 'signal', ['addEventListener', 'removeEventListener']);
  return opts;
}

/** A call waiting for its ack, as the client's disconnect and dispose see it. */
interface LiveCall {
  /** Handed to the socket: a disconnect now means its ack can no longer come. */
  sent?: boolean;
  timer?: unknown;
  /** Settles the call with a `code` error that names it. */
  end(code: string, what: string, details?: object): void;
}

/** @internal Creates the calls of one client. */
export function createCalls({ clock, requestTimeoutMs, maxPayloadBytes, maxPending, connectedSocket, whenConnected, notConnected, logger }: CallHost): Calls {
  // Calls holding a slot (maxPending counts them), and those waiting for an ack.
  let pending = 0;
  const live = new Set<LiveCall>();

  // Checks a call and takes its slot, or throws OVERFLOW: the caller learns at once, nothing piles up.
  const prepare = (event: string, data: unknown, opts: RequestOptions, kind: CallKind) => {
    assertEventName(event);
    const payload = buildPayload(data, opts.correlationId ?? createCorrelationId(kind), maxPayloadBytes, clock.now());
    if (pending >= maxPending) throw fail('OVERFLOW', `'${event}' refused: ${maxPending} emits/requests already pending`, { maxPending });
    pending++;
    return payload;
  };
  const log = (what: string, details: object) => logger.isEnabled('request') && logger.log('request', what, details);

  const call = <R>(event: string, data: unknown, options: unknown, kind: CallKind, onAck: (res: unknown, correlationId: string) => R) =>
    new Promise<R>((resolve, reject) => {
      const opts = callOptions(options);
      const timeoutMs = num(opts, 'timeoutMs', requestTimeoutMs);
      const payload = prepare(event, data, opts, kind);
      const { correlationId } = payload;
      const { signal } = opts;
      if ((opts as EmitOptions).confirm === false) {
        // At most once: handed to a connected socket, with no way to know it arrived.
        return void whenConnected()
          .then((s) => {
            if (!s.connected) throw notConnected();
            log(kind, { event, correlationId });
            s.emit(event, payload);
          })
          .finally(() => pending--)
          .then(() => resolve(undefined as R), reject);
      }
      // Settles once, giving back the slot, the deadline and the abort listener.
      const finish = (err?: Error, value?: R) => {
        if (!live.delete(self)) return;
        pending--;
        clock.clearTimeout(self.timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as R);
      };
      const self: LiveCall = { end: (code, what, details) => finish(fail(code, `${kind} '${event}' ${what}`, { correlationId, ...details })) };
      const onAbort = () => self.end('ABORTED', 'was aborted');
      live.add(self);
      // The deadline counts from the call, so waiting for a connection is part of it.
      self.timer = clock.setTimeout(() => self.end('TIMEOUT', `got no answer within ${timeoutMs} ms`, { timeoutMs }), timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const send = (s: SocketLike) => {
        if (!live.has(self)) return;
        if (!s.connected) return finish(notConnected());
        self.sent = true;
        log(kind, { event, correlationId, timeoutMs });
        s.emit(event, payload, (res: unknown) => {
          if (!live.has(self)) return; // a late ack, after a timeout or an abort
          try {
            const value = onAck(res, correlationId);
            log('ack', { event, correlationId });
            finish(undefined, value);
          } catch (e) {
            finish(e as Error);
          }
        });
      };
      // Connected: send now, without a promise hop (it shows in round-trip times).
      const socket = connectedSocket();
      if (socket) send(socket);
      else whenConnected().then(send, finish);
    });

  // Deleting from a Set while iterating it is safe; settling runs no user code synchronously.
  const dropSent = (reason: SyncwireError) => live.forEach((c) => c.sent && c.end('DISCONNECTED', `lost: ${reason.message}`));

  const dispose = (reason: SyncwireError) => {
    dropSent(reason);
    // Calls still waiting for a connection settle when that wait fails; their deadlines go now.
    live.forEach((c) => clock.clearTimeout(c.timer));
  };

  return { call, dropSent, dispose };
}
