/**
 * Outgoing calls of a client: `request()` and confirmed `emit()`, which wait for the
 * server's ack, and fire-and-forget emits. It checks each call, caps how many are
 * under way, keeps their deadlines and settles every one exactly once.
 *
 * This is the per-request path: a call holds its slot as a count, its deadline as one
 * clock timer, and no closures beyond the ones it needs to settle.
 */
import type { Clock, TimerHandle } from '../clock';
import { fail, invalid, type SyncwireError } from '../errors';
import type { LogCategory, Logger } from '../logger';
import { assertEventName, buildPayload, createCorrelationId, kindOf } from '../protocol';
import { optObj, optShape } from '../validate';
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
  connectedSocket(): SocketLike | undefined;
  /** A connected socket, or a rejection saying why there is none. */
  whenConnected(): Promise<SocketLike>;
  notConnected(): SyncwireError;
  log: Logger['log'];
  logging(category: LogCategory): boolean;
}

/** The calls of one client. */
export interface Calls {
  /** A call that waits for the ack; `onAck` turns the ack into the result, or throws. */
  call<R>(event: string, data: unknown, opts: RequestOptions, kind: CallKind, onAck: (res: unknown, correlationId: string) => R): Promise<R>;
  /** At most once: handed to a connected socket, with no way to know it arrived. */
  fireAndForget(event: string, data: unknown, opts: EmitOptions): Promise<void>;
  /** Rejects every call already sent (its ack can no longer come) with `DISCONNECTED`, naming `reason`. */
  dropSent(reason: SyncwireError): void;
  /** Drops every call already sent (as dropSent), and cancels every deadline. */
  dispose(reason: SyncwireError): void;
}

/** Which public method a call came from (it names the call in errors). */
export type CallKind = 'emit' | 'request';

const NO_OPTIONS = Object.freeze({});

/** @internal Call options: a plain object (or nothing), with an AbortSignal-like `signal` if any. */
export function callOptions<T extends RequestOptions>(value: T | undefined): T {
  if (value === null) throw invalid('options', 'options expects a plain object, but got null');
  const opts = optObj(value, 'options') ?? (NO_OPTIONS as T); // only read, never written
  if (opts.signal !== undefined) optShape(opts.signal, 'signal', ['addEventListener', 'removeEventListener']);
  return opts;
}

/** @internal `value`, or `fallback` when undefined; anything but a number in (0, 2^31 - 1] is a VALIDATION_ERROR. */
export function positive(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value > 2 ** 31 - 1) {
    throw invalid(field, `${field} expects a finite number > 0, but got ${typeof value === 'number' ? value : kindOf(value)}`);
  }
  return value;
}

/** A call waiting for its ack, as the client's disconnect and dispose see it. */
interface LiveCall {
  /** Handed to the socket: a disconnect now means its ack can no longer come. */
  sent: boolean;
  timer: TimerHandle;
  /** Settles the call with a `code` error that names it. */
  end(code: SyncwireError['code'], what: string, details?: object): void;
}

/** @internal Creates the calls of one client. */
export function createCalls(host: CallHost): Calls {
  const { clock } = host;
  // Calls holding a slot (maxPending counts them), and those waiting for an ack.
  let pending = 0;
  const live = new Set<LiveCall>();

  // Takes a slot for one call, or throws OVERFLOW: the caller learns at once, nothing piles up.
  const take = (event: string) => {
    if (pending >= host.maxPending) throw fail('OVERFLOW', `'${event}' refused: ${host.maxPending} emits/requests already pending`, { details: { maxPending: host.maxPending } });
    pending++;
  };

  const call = <R>(event: string, data: unknown, opts: RequestOptions, kind: CallKind, onAck: (res: unknown, correlationId: string) => R) =>
    new Promise<R>((resolve, reject) => {
      assertEventName(event);
      const timeoutMs = positive(opts.timeoutMs, 'timeoutMs', host.requestTimeoutMs);
      const payload = buildPayload(data, opts.correlationId ?? createCorrelationId(kind), host.maxPayloadBytes, clock.now());
      const { correlationId } = payload;
      const { signal } = opts;
      take(event);
      let settled = false;
      // Settles once, giving back the slot, the deadline and the abort listener.
      const finish = (err?: SyncwireError, value?: R) => {
        if (settled) return;
        settled = true;
        pending--;
        live.delete(self);
        clock.clearTimeout(self.timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as R);
      };
      const end = (code: SyncwireError['code'], what: string, details: object = {}) =>
        finish(fail(code, `${kind} '${event}' ${what}`, { details: { correlationId, ...details } }));
      const onAbort = () => end('ABORTED', 'was aborted');
      // The deadline counts from the call, so waiting for a connection is part of it.
      const self: LiveCall = { sent: false, end, timer: clock.setTimeout(() => end('TIMEOUT', `got no answer within ${timeoutMs} ms`, { timeoutMs }), timeoutMs) };
      live.add(self);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const send = (s: SocketLike) => {
        if (settled) return;
        if (!s.connected) return finish(host.notConnected());
        self.sent = true;
        if (host.logging('request')) host.log('request', kind, { event, correlationId, timeoutMs });
        s.emit(event, payload, (res: unknown) => {
          if (settled) return; // a late ack, after a timeout or an abort
          try {
            const value = onAck(res, correlationId);
            if (host.logging('request')) host.log('request', 'ack', { event, correlationId });
            finish(undefined, value);
          } catch (e) {
            finish(e as SyncwireError);
          }
        });
      };
      // Connected: send now, without a promise hop (it shows in round-trip times).
      const socket = host.connectedSocket();
      if (socket) send(socket);
      else host.whenConnected().then(send, finish);
    });

  const fireAndForget = async (event: string, data: unknown, opts: EmitOptions) => {
    assertEventName(event);
    const payload = buildPayload(data, opts.correlationId ?? createCorrelationId('emit'), host.maxPayloadBytes, clock.now());
    take(event);
    try {
      const s = await host.whenConnected();
      if (!s.connected) throw host.notConnected();
      if (host.logging('request')) host.log('request', 'emit', { event, correlationId: payload.correlationId });
      s.emit(event, payload);
    } finally {
      pending--;
    }
  };

  const dropSent = (reason: SyncwireError) => {
    // Deleting from a Set while iterating it is safe; settling runs no user code synchronously.
    for (const c of live) if (c.sent) c.end('DISCONNECTED', `lost: ${reason.message}`);
  };

  const dispose = (reason: SyncwireError) => {
    dropSent(reason);
    // Calls still waiting for a connection settle when that wait fails; their deadlines go now.
    for (const c of live) clock.clearTimeout(c.timer);
  };

  return { call, fireAndForget, dropSent, dispose };
}
