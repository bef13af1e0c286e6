/**
 * `syncwire/stream`: streamed replies to a request (Agent Zero's `delta` / `final` events
 * carrying the request's correlationId). It uses only the core's public API, so the
 * script-tag build works on `window.Syncwire`.
 */
import {
  SyncwireError,
  createCorrelationId,
  type NamespacedClient,
  type ServerEnvelope,
} from './index';

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
const KNOWN = ['replyEvent', 'correlationId', 'timeoutMs', 'idleTimeoutMs', 'maxBuffered'];

const invalid = (field: string, what: string) =>
  new SyncwireError('VALIDATION_ERROR', `requestStream options.${field}: expected ${what}`, {
    details: { field: `options.${field}` },
  });

/** The options checked when the stream is made, not when an event fails to match later. */
function checkOptions(options: unknown): StreamOptions {
  const o = options as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o))
    throw invalid(
      'replyEvent',
      'an options object with replyEvent (the event the server streams on)',
    );
  for (const k of Object.keys(o))
    if (!KNOWN.includes(k)) throw invalid(k, `one of the known options (${KNOWN.join(', ')})`);
  const reply = o.replyEvent;
  const names = typeof reply === 'string' ? [reply] : Array.isArray(reply) ? reply : [];
  if (!names.length || !names.every((n) => typeof n === 'string' && /^[a-z][a-z0-9_]*$/.test(n)))
    throw invalid('replyEvent', 'a snake_case event name, or a non-empty list of them');
  for (const k of ['timeoutMs', 'idleTimeoutMs', 'maxBuffered']) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 2 ** 31 - 1))
      throw invalid(k, 'a number > 0');
  }
  if (
    o.correlationId !== undefined &&
    !(typeof o.correlationId === 'string' && o.correlationId.trim())
  )
    throw invalid('correlationId', 'a non-empty string');
  return o as unknown as StreamOptions;
}

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
  const opts = checkOptions(options);
  const correlationId = opts.correlationId ?? createCorrelationId('stream');
  const idleMs = opts.idleTimeoutMs ?? 30000;
  const maxBuffered = opts.maxBuffered ?? 1000;
  const { clock } = client;
  const queue: StreamEvent<T>[] = [];
  const cleanups: (() => void)[] = [];
  // next() calls not yet answered, oldest first: a caller may ask again before the first answer.
  const waiting: [(r: IteratorResult<StreamEvent<T>>) => void, (e: unknown) => void][] = [];
  let error: SyncwireError | undefined;
  let ended = false; // a terminal event was queued, or the stream failed
  let closed = false; // nothing more will be yielded
  let lastSeq = -Infinity;
  let idle: unknown;

  const close = () => {
    if (closed) return;
    closed = true;
    clock.clearTimeout(idle);
    cleanups.forEach((fn) => fn());
  };
  // Hands the next items (events, then the error or the end) to the waiting next() calls.
  const pump = () => {
    while (waiting.length && (queue.length || error || closed)) {
      const w = waiting.shift() as (typeof waiting)[0];
      if (queue.length) w[0]({ value: queue.shift() as StreamEvent<T>, done: false });
      else if (error) w[1](error);
      else w[0]({ value: undefined, done: true });
    }
  };
  const end = (e?: SyncwireError) => {
    if (ended) return;
    ended = true;
    error = e;
    close();
    pump();
  };
  const failWith = (code: SyncwireError['code'], what: string, details?: object) =>
    end(
      new SyncwireError(code, `stream '${event}' ${what}`, {
        details: { correlationId, ...details },
      }),
    );
  const armIdle = () => {
    clock.clearTimeout(idle);
    idle = clock.setTimeout(() => failWith('TIMEOUT', `was silent for ${idleMs} ms`), idleMs);
  };

  const onEvent = (env: ServerEnvelope<T>) => {
    if (env.correlationId !== correlationId || ended) return; // late or foreign
    const d = env.data as Record<string, unknown>;
    const state = typeof d.state === 'string' ? d.state : 'delta';
    const seq = typeof d.seq === 'number' && Number.isFinite(d.seq) ? d.seq : undefined;
    const terminal = TERMINAL.includes(state);
    if (seq !== undefined) {
      if (!terminal && seq <= lastSeq) return;
      if (seq > lastSeq) lastSeq = seq;
    }
    // A reader that does not keep up ends the stream loudly rather than buffer without bound.
    if (queue.length >= maxBuffered)
      return failWith('OVERFLOW', `buffered ${maxBuffered} unread events`, { maxBuffered });
    queue.push({ state, seq, data: env.data, envelope: env });
    if (terminal) end();
    else armIdle();
    pump();
  };

  try {
    // Subscribed before the request goes out, so a fast first event is not missed.
    for (const name of ([] as unknown[]).concat(opts.replyEvent))
      cleanups.push(client.on<T>(name as string, onEvent));
    cleanups.push(client.onDisconnect((reason) => failWith('DISCONNECTED', `lost: ${reason}`)));
    armIdle();
    client.request(event, data, { correlationId, timeoutMs: opts.timeoutMs }).then((res) => {
      const first = res.results[0];
      if (first && !first.ok)
        end(
          new SyncwireError('STREAM_ERROR', first.error?.error ?? 'stream request failed', {
            details: first,
          }),
        );
    }, end);
  } catch (e) {
    // A bad event name or a disposed client: the iterator reports it on first next().
    end(e as SyncwireError); // calls that validate throw SyncwireErrors
  }

  const it: AsyncIterableIterator<StreamEvent<T>> = {
    next: () =>
      new Promise((resolve, reject) => {
        waiting.push([resolve, reject]);
        pump();
      }),
    return() {
      ended = true;
      close();
      queue.length = 0;
      error = undefined;
      pump(); // next() calls still waiting end too
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
