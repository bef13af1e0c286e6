/**
 * The client's outbound calls, `request()` and `emit()`: each holds a slot (`maxPending` of
 * them) and a deadline from the moment it is made, and settles exactly once: with its ack,
 * or with a typed error (`TIMEOUT`, `ABORTED`, `DISCONNECTED`, `OVERFLOW`, a validation error).
 */
import { fail, type SyncwireError, type SyncwireErrorCode } from '../errors';
import {
  assertEventName,
  buildPayload,
  createCorrelationId,
  validateAck,
  type RequestResponse,
} from '../protocol';
import { noop } from '../util';
import type { EmitOptions, RequestOptions } from './api';
import { checkCallOptions, type ResolvedOptions } from './options';
import type { SocketLike } from './socket';

/** A call waiting for its ack: `sent` once handed to the socket (a disconnect then loses its ack). */
interface LiveCall {
  sent?: boolean;
  /** The deadline: a clock timer of its own (a per-call path, kept out of the timer map). */
  timer?: unknown;
  end(code: SyncwireErrorCode, what: string, details?: object): void;
}

/** @internal The pending calls of one client. */
export interface Calls {
  /** `client.emit()`: resolves once the server acknowledged it (see `EmitOptions`). */
  emit: (event: string, data?: unknown, options?: EmitOptions) => Promise<void>;
  /**
   * `client.request()`: resolves with the validated ack. Its results' `data` is typed `never`
   * here, which fits every result type the client's signatures (untyped or from an event
   * map) promise: what the data holds is the server's word, not something checked.
   */
  request: (
    event: string,
    data?: unknown,
    options?: RequestOptions,
  ) => Promise<RequestResponse<never>>;
  /** Ends every call already sent: the connection closed, so its ack will never come. */
  loseSent(why: string): void;
  /** Ends every call (the client is disposed). */
  endAll(): void;
  /** True when no call is in flight (none waits for the connection or for its ack). */
  idle(): boolean;
}

/**
 * @internal Creates the pending-call table of one client. `socket` is the client's socket
 * once there is one; `connect` is the client's connect(); `onIdle` hears the last call settle.
 */
export function createCalls(
  options: ResolvedOptions,
  socket: () => SocketLike | undefined,
  connect: () => Promise<void>,
  reportError: (e: unknown) => void,
  onIdle: () => void = noop,
): Calls {
  const { clock, logger, maxPending, maxPayloadBytes, requestTimeoutMs } = options;
  // Calls holding a slot (maxPending counts them), and those waiting for an ack.
  const calls = new Set<LiveCall>();

  // A connected socket, or a rejection saying why there is none.
  const whenConnected = () =>
    connect().then(
      () => {
        if (!socket()?.connected) throw fail('NOT_CONNECTED', `not connected to ${options.ns}`);
      },
      (e: SyncwireError) => {
        if (e.code !== 'CONNECT_ERROR') throw e;
        const message = `not connected to ${options.ns}: ${e.message}`;
        throw fail('NOT_CONNECTED', message, { code: e.code }, e);
      },
    );

  /**
   * Checks the call, then sends `{ ts, data, correlationId }` once connected. With an ack
   * expected, `onAck` turns the ack into the result (or throws); an emit with
   * `confirm: false` resolves once handed to a connected socket. Never throws: bad input rejects.
   */
  const start = <R>(
    kind: 'emit' | 'request',
    event: string,
    data: unknown,
    rawOptions: unknown,
    onAck: (res: unknown, correlationId: string) => R,
  ) =>
    new Promise<R>((resolve, reject) => {
      const timeoutMs = checkCallOptions(rawOptions, requestTimeoutMs);
      // Checked: absent, or a plain object.
      const opts = (rawOptions ?? {}) as EmitOptions;
      const { signal } = opts;
      assertEventName(event);
      const payload = buildPayload(
        data,
        opts.correlationId ?? createCorrelationId(kind),
        maxPayloadBytes,
        clock.now(),
      );
      const { correlationId } = payload;
      // A slot, or OVERFLOW at once: the caller learns, nothing piles up.
      if (calls.size >= maxPending)
        throw fail('OVERFLOW', `'${event}': ${maxPending} calls already pending`, { maxPending });
      const logCall = (what: string) => {
        if (logger.isEnabled('request')) logger.log('request', what, { event, correlationId });
      };
      // Settles once, giving back the slot, the deadline and the abort listener.
      const finish = (err?: Error, value?: R) => {
        if (!calls.delete(self)) return;
        clock.clearTimeout(self.timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as R);
        if (!calls.size) onIdle();
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
        const s = socket() as SocketLike;
        self.sent = true;
        logCall(kind);
        if (opts.confirm === false) {
          // At most once: handed to a connected socket, with no way to know it arrived.
          s.emit(event, payload);
          finish();
          return;
        }
        s.emit(event, payload, (res: unknown) => {
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
      if (socket()?.connected) send();
      else whenConnected().then(send, finish);
    });

  return {
    emit: (event, data, opts) => start('emit', event, data, opts, noop),
    request: (event, data, opts) =>
      start('request', event, data, opts, (res, correlationId) => {
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
      }) as Promise<RequestResponse<never>>,
    loseSent(why) {
      // Deleting from a Set while iterating it is safe; settling runs no user code synchronously.
      for (const c of calls) {
        if (c.sent) c.end('DISCONNECTED', `lost: connection closed (${why})`);
      }
    },
    endAll() {
      for (const c of calls) c.end('DISCONNECTED', 'lost: client was disposed');
    },
    idle: () => !calls.size,
  };
}
