import { SyncwireError, fail, messageOf } from '../errors';
import { createCorrelationId, isPlainObject, type ServerEnvelope } from '../protocol';
import type { NamespacedClient } from './client';

/** One event of a streamed reply. */
export interface StreamEvent<T extends object = Record<string, unknown>> {
  /** `delta`, or a terminal `final` / `error` / `aborted` (any other string passes through). */
  state: string;
  seq?: number;
  data: Readonly<T>;
  envelope: ServerEnvelope<T>;
}

/** Options of {@link requestStream}. */
export interface StreamOptions {
  /** The event(s) the server streams on, matched by correlationId. */
  replyEvent: string | string[];
  correlationId?: string;
  /** Timeout of the initial request's ack. @default the client's requestTimeoutMs */
  timeoutMs?: number;
  /** Longest silence between two stream events before the stream fails with `TIMEOUT`. @default 30000 */
  idleTimeoutMs?: number;
  /** Most events kept for a reader that does not keep up; one more ends the stream with `OVERFLOW`. @default 1000 */
  maxBuffered?: number;
}

const TERMINAL = ['final', 'error', 'aborted'];

/**
 * Sends a request and yields the events that carry its correlationId until a
 * terminal state (`final`, `error`, `aborted`), which is yielded last. Duplicate
 * or older `seq` values are skipped (terminal events never are); events after
 * the end are ignored. A rejected request, an ok:false first result, a
 * disconnect or a silent server end the iteration with a {@link SyncwireError}.
 *
 * @example
 * ```ts
 * for await (const ev of requestStream(client, 'stream_start', { count: 3 }, { replyEvent: 'stream_event' })) {
 *   if (ev.state === 'delta') append(ev.data.text)
 * }
 * ```
 */
export function requestStream<T extends object = Record<string, unknown>>(
  client: NamespacedClient,
  event: string,
  data: object | null | undefined,
  options: StreamOptions,
): AsyncIterableIterator<StreamEvent<T>> {
  const opts: Partial<StreamOptions> = isPlainObject(options) ? options : {};
  const replyEvents = Array.isArray(opts.replyEvent) ? opts.replyEvent : [opts.replyEvent];
  const correlationId = opts.correlationId ?? createCorrelationId('stream');
  const idleMs = opts.idleTimeoutMs ?? 30000;
  const maxBuffered = opts.maxBuffered ?? 1000;
  const queue: StreamEvent<T>[] = [];
  let waiting: { resolve(r: IteratorResult<StreamEvent<T>>): void; reject(e: unknown): void } | undefined;
  let error: SyncwireError | undefined;
  let ended = false; // a terminal event was queued
  let closed = false; // nothing more will be yielded
  let lastSeq: number | undefined;
  let cancelIdle = () => {};

  const cleanups: (() => void)[] = [];
  const close = () => {
    if (closed) return;
    closed = true;
    cancelIdle();
    cleanups.forEach((fn) => fn());
  };
  const armIdle = () => {
    cancelIdle();
    const t = client.clock.setTimeout(() => failWith(fail('TIMEOUT', `stream '${event}' was silent for ${idleMs} ms`, { details: { correlationId } })), idleMs);
    cancelIdle = () => client.clock.clearTimeout(t);
  };
  const pump = () => {
    if (!waiting) return;
    const w = waiting;
    if (queue.length) {
      waiting = undefined;
      w.resolve({ value: queue.shift() as StreamEvent<T>, done: false });
    } else if (error) {
      waiting = undefined;
      w.reject(error);
    } else if (closed) {
      waiting = undefined;
      w.resolve({ value: undefined, done: true });
    }
  };
  const failWith = (e: SyncwireError) => {
    if (ended || closed) return;
    error = e;
    close();
    pump();
  };

  const onEvent = (env: ServerEnvelope<T>) => {
    if (env.correlationId !== correlationId || ended || closed) return; // late or foreign
    const d = env.data as Record<string, unknown>;
    const state = typeof d.state === 'string' ? d.state : 'delta';
    const seq = typeof d.seq === 'number' && Number.isFinite(d.seq) ? d.seq : undefined;
    const terminal = TERMINAL.includes(state);
    if (!terminal && seq !== undefined && lastSeq !== undefined && seq <= lastSeq) return;
    if (seq !== undefined && (lastSeq === undefined || seq > lastSeq)) lastSeq = seq;
    if (queue.length >= maxBuffered) {
      // The reader is not keeping up: end the stream loudly rather than buffer without bound.
      return failWith(fail('OVERFLOW', `stream '${event}' buffered ${maxBuffered} unread events`, { details: { correlationId, maxBuffered } }));
    }
    queue.push({ state, seq, data: env.data, envelope: env });
    if (terminal) {
      ended = true;
      close();
    } else armIdle();
    pump();
  };

  try {
    // Subscribed before the request goes out, so a fast first event is not missed.
    replyEvents.forEach((name) => cleanups.push(client.on<T>(name as string, onEvent)));
    cleanups.push(client.onDisconnect((reason) => failWith(fail('DISCONNECTED', `stream '${event}' lost: ${reason}`, { details: { correlationId } }))));
    armIdle();
    client.request(event, data, { correlationId, timeoutMs: opts.timeoutMs }).then((res) => {
      const first = res.results[0];
      if (first && !first.ok) failWith(fail('STREAM_ERROR', first.error?.error ?? 'stream request failed', { details: first }));
    }, failWith);
  } catch (e) {
    // A bad event name or a disposed client: the iterator reports it on first next().
    failWith(e instanceof SyncwireError ? e : fail('VALIDATION_ERROR', messageOf(e)));
  }

  const it: AsyncIterableIterator<StreamEvent<T>> = {
    next: () =>
      new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        pump();
      }),
    return: () => {
      close();
      queue.length = 0;
      error = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
