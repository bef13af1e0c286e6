/**
 * `syncwire/stream`: streamed replies to a request (Agent Zero's `delta` / `final` events
 * carrying the request's correlationId). It uses only the core's public API, so the
 * script-tag build works on `window.Syncwire`.
 */
import {
  EVENT_NAME,
  SyncwireError,
  createCorrelationId,
  type ClientData,
  type ClientEventName,
  type EventMap,
  type NamespacedClient,
  type ServerEnvelope,
  type ServerEventName,
  type ServerPayload,
  type UntypedClientName,
} from './index';

/** One event of a streamed reply. */
export interface StreamEvent<T extends object = Record<string, unknown>> {
  /** `delta`, or a terminal `final` / `error` / `aborted` (any other string passes through). */
  state: string;
  seq?: number;
  data: Readonly<T>;
  envelope: ServerEnvelope<T>;
}

/** Options of {@link requestStream}; `R` is the reply event name(s), typed by a client's event map. */
export interface StreamOptions<R extends string = string> {
  /** The event(s) the server streams on, matched by correlationId. */
  replyEvent: R | R[];
  correlationId?: string;
  /** Timeout of the initial request's ack. @default the client's requestTimeoutMs */
  timeoutMs?: number;
  /**
   * Longest silence between two stream events before the stream fails with `TIMEOUT`.
   * @default 30000
   */
  idleTimeoutMs?: number;
  /**
   * Most events kept for a reader that does not keep up; one more ends the stream with
   * `OVERFLOW`. @default 1000
   */
  maxBuffered?: number;
}

// The defaults of StreamOptions (the TSDoc above repeats them for readers of the types).
const STREAM_DEFAULTS = {
  /** Agent Zero streams a token at least every few seconds; 30 s of silence means it is gone. */
  idleTimeoutMs: 30000,
  /** Enough for a burst while the page is busy; past it the reader is not keeping up. */
  maxBuffered: 1000,
} as const;

// The largest delay a browser timer honours (a 32-bit signed int of ms); longer ones fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

const TERMINAL = ['final', 'error', 'aborted'];
const KNOWN = ['replyEvent', 'correlationId', 'timeoutMs', 'idleTimeoutMs', 'maxBuffered'];

const invalid = (field: string, what: string) =>
  new SyncwireError('VALIDATION_ERROR', `requestStream options.${field}: expected ${what}`, {
    details: { field: `options.${field}` },
  });

/** The options checked when the stream is made, not when an event fails to match later. */
function checkOptions(options: unknown): StreamOptions {
  const o = options as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    throw invalid(
      'replyEvent',
      'an options object with replyEvent (the event the server streams on)',
    );
  }
  for (const key of Object.keys(o)) {
    if (!KNOWN.includes(key)) {
      throw invalid(key, `one of the known options (${KNOWN.join(', ')})`);
    }
  }
  if (replyEvents(o.replyEvent).length === 0) {
    throw invalid('replyEvent', 'a snake_case event name, or a non-empty list of them');
  }
  for (const key of ['timeoutMs', 'idleTimeoutMs', 'maxBuffered']) {
    const value = o[key];
    const isValid = typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS;
    if (value !== undefined && !isValid) throw invalid(key, 'a number > 0');
  }
  const id = o.correlationId;
  if (id !== undefined && !(typeof id === 'string' && id.trim() !== '')) {
    throw invalid('correlationId', 'a non-empty string');
  }
  return o as unknown as StreamOptions;
}

/** The reply event names of a `replyEvent` option; none when it is not valid. */
function replyEvents(replyEvent: unknown): string[] {
  const names = Array.isArray(replyEvent) ? replyEvent : [replyEvent];
  const valid = names.every((name) => typeof name === 'string' && EVENT_NAME.test(name));
  return valid ? (names as string[]) : [];
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
export function requestStream<
  T extends object = Record<string, unknown>,
  E extends EventMap = EventMap,
>(
  client: NamespacedClient<E>,
  event: UntypedClientName<E>,
  data: object | null | undefined,
  options: StreamOptions,
): AsyncIterableIterator<StreamEvent<T>>;
/**
 * The same on a client with an event map: `event` and `data` are a client event of the map,
 * `replyEvent` names server events of it, and each {@link StreamEvent}'s `data` has their payload type.
 *
 * @example
 * ```ts
 * interface Events {
 *   server: { stream_event: { state: string; seq: number; text?: string } };
 *   client: { stream_start: { data: { count: number } } };
 * }
 * const client = getNamespacedClient<Events>('/dev_websocket_test');
 * for await (const ev of requestStream(client, 'stream_start', { count: 3 }, { replyEvent: 'stream_event' })) {
 *   append(ev.data.text ?? '')
 * }
 * ```
 */
export function requestStream<
  E extends EventMap,
  K extends ClientEventName<E>,
  R extends ServerEventName<E>,
>(
  client: NamespacedClient<E>,
  event: K,
  data: ClientData<E, K>,
  options: StreamOptions<R>,
): AsyncIterableIterator<StreamEvent<ServerPayload<E, R>>>;
export function requestStream<T extends object>(
  client: NamespacedClient,
  event: string,
  data: object | null | undefined,
  options: StreamOptions,
): AsyncIterableIterator<StreamEvent<T>> {
  const opts = checkOptions(options);
  const correlationId = opts.correlationId ?? createCorrelationId('stream');
  const idleMs = opts.idleTimeoutMs ?? STREAM_DEFAULTS.idleTimeoutMs;
  const maxBuffered = opts.maxBuffered ?? STREAM_DEFAULTS.maxBuffered;
  const { clock } = client;
  const queue: StreamEvent<T>[] = [];
  const cleanups: (() => void)[] = [];
  // next() calls not yet answered, oldest first: a caller may ask again before the first answer.
  const waiting: {
    resolve: (result: IteratorResult<StreamEvent<T>>) => void;
    reject: (error: unknown) => void;
  }[] = [];
  let error: SyncwireError | undefined;
  let ended = false; // a terminal event was queued, or the stream failed
  let closed = false; // nothing more will be yielded
  let lastSeq = -Infinity;
  let idle: unknown;

  const close = () => {
    if (closed) return;
    closed = true;
    clock.clearTimeout(idle);
    for (const cleanup of cleanups) cleanup();
  };
  // Hands the next items (events, then the error or the end) to the waiting next() calls.
  const pump = () => {
    while (waiting.length > 0 && (queue.length > 0 || error || closed)) {
      const next = waiting.shift()!;
      if (queue.length > 0) {
        next.resolve({ value: queue.shift()!, done: false });
      } else if (error) {
        next.reject(error);
      } else {
        next.resolve({ value: undefined, done: true });
      }
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
    if (queue.length >= maxBuffered) {
      failWith('OVERFLOW', `buffered ${maxBuffered} unread events`, { maxBuffered });
      return;
    }
    queue.push({ state, seq, data: env.data, envelope: env });
    if (terminal) end();
    else armIdle();
    pump();
  };

  try {
    // Subscribed before the request goes out, so a fast first event is not missed.
    for (const name of replyEvents(opts.replyEvent)) cleanups.push(client.on<T>(name, onEvent));
    cleanups.push(client.onDisconnect((reason) => failWith('DISCONNECTED', `lost: ${reason}`)));
    armIdle();
    client.request(event, data, { correlationId, timeoutMs: opts.timeoutMs }).then((res) => {
      const first = res.results[0];
      if (first && !first.ok) {
        const message = first.error?.error ?? 'stream request failed';
        end(new SyncwireError('STREAM_ERROR', message, { details: first }));
      }
    }, end);
  } catch (e) {
    // A bad event name or a disposed client: the iterator reports it on first next().
    end(e as SyncwireError); // calls that validate throw SyncwireErrors
  }

  const it: AsyncIterableIterator<StreamEvent<T>> = {
    next: () =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
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
