/**
 * Outgoing calls of a client: `request()` and confirmed `emit()`, which wait for the
 * server's ack, and fire-and-forget emits. It checks each call, caps how many are
 * under way, keeps their deadlines and settles every one exactly once.
 *
 * This is the per-request path, so it is written to allocate little: one object per
 * call with its methods on a prototype, rather than a dozen closures per call.
 */
import type { Clock, TimerHandle } from '../clock';
import { fail, invalid, type SyncwireError } from '../errors';
import type { LogCategory, Logger } from '../logger';
import { assertEventName, buildPayload, createCorrelationId, kindOf, type ClientPayload } from '../protocol';
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

/** @internal Creates the calls of one client. */
export function createCalls(host: CallHost): Calls {
  const registry: Registry = { host, pending: 0, live: new Set() };

  const call = <R>(event: string, data: unknown, opts: RequestOptions, kind: CallKind, onAck: (res: unknown, correlationId: string) => R) =>
    new Promise<R>((resolve, reject) => {
      assertEventName(event);
      const timeoutMs = positive(opts.timeoutMs, 'timeoutMs', host.requestTimeoutMs);
      const now = host.clock.now();
      const payload = buildPayload(data, opts.correlationId ?? createCorrelationId(kind), host.maxPayloadBytes, now);
      take(registry, event);
      new PendingCall(registry, event, kind, payload, timeoutMs, opts.signal, onAck, resolve as (v: unknown) => void, reject).start();
    });

  const fireAndForget = async (event: string, data: unknown, opts: EmitOptions) => {
    assertEventName(event);
    const payload = buildPayload(data, opts.correlationId ?? createCorrelationId('emit'), host.maxPayloadBytes, host.clock.now());
    take(registry, event);
    try {
      const s = await host.whenConnected();
      if (!s.connected) throw host.notConnected();
      if (host.logging('request')) host.log('request', 'emit', { event, correlationId: payload.correlationId });
      s.emit(event, payload);
    } finally {
      registry.pending--;
    }
  };

  const dropSent = (reason: SyncwireError) => {
    // Deleting from a Set while iterating it is safe; settling runs no user code synchronously.
    for (const c of registry.live) if (c.sent) c.end('DISCONNECTED', `lost: ${reason.message}`);
  };

  const dispose = (reason: SyncwireError) => {
    dropSent(reason);
    // Calls still waiting for a connection settle when that wait fails; their deadlines go now.
    for (const c of registry.live) c.cancelTimer();
  };

  return { call, fireAndForget, dropSent, dispose };
}

/** The state the calls of one client share. */
interface Registry {
  readonly host: CallHost;
  /** Calls holding a slot (maxPending counts them). */
  pending: number;
  /** Calls that wait for an ack and have not settled. */
  readonly live: Set<PendingCall>;
}

/** Takes a slot for one call, or throws OVERFLOW: the caller learns at once, nothing piles up. */
function take(registry: Registry, event: string): void {
  const max = registry.host.maxPending;
  if (registry.pending >= max) throw fail('OVERFLOW', `'${event}' refused: ${max} emits/requests already pending`, { details: { maxPending: max } });
  registry.pending++;
}

/**
 * One call waiting for its ack. It settles exactly once: the ack, `TIMEOUT`,
 * `DISCONNECTED`, `ABORTED`, or a validation error; settling gives back its slot
 * and removes its deadline and abort listener.
 */
class PendingCall {
  settled = false;
  /** Handed to the socket: a disconnect now means its ack can no longer come. */
  sent = false;
  private timer: TimerHandle;
  private timed = false;
  private readonly onAbort: (() => void) | undefined;
  private readonly correlationId: string;

  constructor(
    private readonly registry: Registry,
    private readonly event: string,
    private readonly kind: CallKind,
    private readonly payload: ClientPayload,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly onAck: (res: unknown, correlationId: string) => unknown,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (reason: SyncwireError) => void,
  ) {
    this.correlationId = payload.correlationId;
    this.onAbort = signal ? () => this.end('ABORTED', 'was aborted') : undefined;
  }

  start(): void {
    const { host, live } = this.registry;
    live.add(this);
    // The deadline counts from the call, so waiting for a connection is part of it.
    this.timed = true;
    this.timer = host.clock.setTimeout(() => this.end('TIMEOUT', `got no answer within ${this.timeoutMs} ms`, { timeoutMs: this.timeoutMs }), this.timeoutMs);
    if (this.signal?.aborted) return this.end('ABORTED', 'was aborted');
    this.signal?.addEventListener('abort', this.onAbort as () => void, { once: true });
    // Connected: send now, without a promise hop (it shows in round-trip times).
    const socket = host.connectedSocket();
    if (socket) this.send(socket);
    else host.whenConnected().then((s) => this.send(s), (e: SyncwireError) => this.finish(e));
  }

  private send(s: SocketLike): void {
    if (this.settled) return;
    if (!s.connected) return this.finish(this.registry.host.notConnected());
    this.sent = true;
    const { host } = this.registry;
    if (host.logging('request')) host.log('request', this.kind, { event: this.event, correlationId: this.correlationId, timeoutMs: this.timeoutMs });
    s.emit(this.event, this.payload, (res: unknown) => this.acked(res));
  }

  private acked(res: unknown): void {
    if (this.settled) return; // a late ack, after a timeout or an abort
    const { host } = this.registry;
    try {
      const value = this.onAck(res, this.correlationId);
      if (host.logging('request')) host.log('request', 'ack', { event: this.event, correlationId: this.correlationId });
      this.finish(undefined, value);
    } catch (e) {
      this.finish(e as SyncwireError);
    }
  }

  /** Settles with a `code` error that names the call. */
  end(code: SyncwireError['code'], what: string, details: object = {}): void {
    this.finish(fail(code, `${this.kind} '${this.event}' ${what}`, { details: { correlationId: this.correlationId, ...details } }));
  }

  finish(err?: SyncwireError, value?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.registry.pending--;
    this.registry.live.delete(this);
    this.cancelTimer();
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    if (err) this.reject(err);
    else this.resolve(value);
  }

  cancelTimer(): void {
    if (!this.timed) return;
    this.timed = false;
    this.registry.host.clock.clearTimeout(this.timer);
  }
}
