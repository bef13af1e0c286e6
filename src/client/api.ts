/**
 * The client's public types: its options, call options, and the client itself.
 */
import type { Clock } from '../clock';
import type { SyncwireError } from '../errors';
import type { Logger, LoggerOptions } from '../logger';
import type { ServerEnvelope, RequestResponse } from '../protocol';
import type { FetchLike } from '../util';
import type { AuthOption } from './auth';
import type {
  CallArgs,
  ClientData,
  ClientEventName,
  ClientResult,
  EventMap,
  ServerEventName,
  ServerPayload,
  UntypedClientName,
  UntypedServerName,
} from './events';
import type { SocketFactory, SocketIoOptions } from './socket';
import type { ProbeTiming, TransportInfo } from './transport';
import type { MemoStorage } from './transport-memo';

export type { EventMap } from './events';

/**
 * Options of {@link createNamespacedClient}. Each default is an entry of `DEFAULTS` in
 * src/client/options.ts (named after the option), where the client reads it.
 */
export interface ClientOptions {
  /** The server: an absolute http(s) URL (a trailing slash is dropped). @default the page's origin (`location.origin`) */
  url?: string;
  /**
   * Connect credentials; see {@link AuthOption}. A function runs before each connect the
   * client starts (cookies it sets reach the Engine.IO handshake) and its answer serves that
   * attempt; Socket.IO's own reconnects call it again. @default `GET csrfTokenUrl` → `{ csrf_token }`
   */
  auth?: AuthOption;
  /**
   * Where the default auth gets its CSRF token: a path resolved against `url`, or a URL on
   * its origin. Agent Zero builds with their API under `/api/` need `'/api/csrf_token'`.
   * @default '/csrf_token' (`DEFAULTS.csrfTokenUrl`)
   */
  csrfTokenUrl?: string;
  /** Default request timeout; always finite. @default 30000 (`DEFAULTS.requestTimeoutMs`) */
  requestTimeoutMs?: number;
  /**
   * How long `connect()` waits for the first answer before rejecting (retries go on).
   * @default 20000 (`DEFAULTS.connectTimeoutMs`)
   */
  connectTimeoutMs?: number;
  /**
   * How long an auth call may take before the attempt goes on without credentials.
   * @default 5000 (`DEFAULTS.authTimeoutMs`)
   */
  authTimeoutMs?: number;
  /** Largest outgoing payload, checked before sending. @default 52428800, 50 MiB (`DEFAULTS.maxPayloadBytes`) */
  maxPayloadBytes?: number;
  /**
   * Most emits and requests under way at once (waiting for the connection, or for their
   * ack). One more rejects at once with `OVERFLOW`: the caller learns, nothing piles up.
   * @default 1000 (`DEFAULTS.maxPending`)
   */
  maxPending?: number;
  /**
   * Backoff for retries after the server rejects a connect.
   * @default { baseMs: 250, maxMs: 10000 } (`DEFAULTS.retry`)
   */
  retry?: { baseMs?: number; maxMs?: number };
  /**
   * The background WebSocket probe of a connection that fell back to long-polling while
   * WebSocket is allowed: a throwaway WebSocket-only Engine.IO connection, the first after
   * `baseMs / 2` to `baseMs`, each failure doubling the delay up to `maxMs` (equal jitter), each
   * given `timeoutMs` to open. Once one opens, the connection moves back to WebSocket as soon as
   * no call is in flight. `false`: no probe.
   * @default { baseMs: 1000, maxMs: 15000, timeoutMs: 10000 } (`DEFAULTS.websocketProbe`)
   */
  websocketProbe?: Partial<ProbeTiming> | false;
  /**
   * Remembers, per server (origin and Engine.IO path), that WebSocket was blocked, for `ttlMs`:
   * a client created within it (a reload) starts on long-polling and upgrades when it can,
   * instead of waiting for the WebSocket attempt to fail. A WebSocket that works clears it.
   * `storage`: whatever has `{ getItem, setItem, removeItem }`; one that throws only makes it forget.
   * `false`: no memo.
   * @default { ttlMs: 600000, storage: sessionStorage } (`DEFAULTS.transportMemo`)
   */
  transportMemo?: { ttlMs?: number; storage?: MemoStorage } | false;
  /** Passed to socket.io-client's Manager and Socket. */
  socketOptions?: SocketIoOptions;
  /** A logger, or options for one (off by default). */
  logger?: Logger | LoggerOptions;
  /** Time source for every timer. @default systemClock */
  clock?: Clock;
  /** Randomness for backoff jitter. @default Math.random */
  random?: () => number;
  /** fetch used by the default auth. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Socket constructor, for tests and custom transports. */
  socketFactory?: SocketFactory;
}

/** What `onConnect` listeners receive. */
export interface ConnectInfo {
  /** True only for the first successful connect of this client. */
  firstConnect: boolean;
  /** The server's runtime id, from `server_restart` or `/csrf_token`, when known. */
  runtimeId?: string;
  /** True when the runtime id differs from the one seen on the previous connect. */
  runtimeChanged: boolean;
}

/** Options of `emit()`. */
export interface EmitOptions {
  correlationId?: string;
  /**
   * Wait for the server to acknowledge the event (any Socket.IO ack counts; Agent Zero's
   * server acknowledges every event that asks). Then a resolved emit was delivered, and one
   * that could not be confirmed rejects (`TIMEOUT`, `DISCONNECTED`): none is lost silently.
   * `false` is plain fire-and-forget (at most once), for servers that never acknowledge. @default true
   */
  confirm?: boolean;
  /**
   * Deadline of the ack (with `confirm: false`, of reaching a connected socket), counted from
   * the call. @default the client's requestTimeoutMs (`DEFAULTS.requestTimeoutMs`, 30000)
   */
  timeoutMs?: number;
  /** Aborting rejects a pending emit with `ABORTED`. */
  signal?: AbortSignal;
}

/** Options of `request()`. */
export interface RequestOptions {
  correlationId?: string;
  /**
   * Milliseconds from the call until the request rejects with `TIMEOUT`.
   * @default the client's requestTimeoutMs (`DEFAULTS.requestTimeoutMs`, 30000)
   */
  timeoutMs?: number;
  /** Aborting rejects the request with `ABORTED` at once; a late ack is ignored. */
  signal?: AbortSignal;
  /**
   * Called with the validated ack the moment it arrives, before the promise settles. A
   * promise settles a microtask later, after any events delivered in the same batch of
   * packets (HTTP long-polling carries several per response); this sees the ack in wire
   * order, before the events the server sent after it. A throw is reported to `onError`.
   */
  onAck?: (response: RequestResponse) => void;
}

/** A subscriber. For server requests (emits with an ack) its return value is the answer. */
export type EventCallback<T extends object = Record<string, unknown>> = (
  envelope: ServerEnvelope<T>,
) => unknown;

/**
 * One Socket.IO namespace, connected lazily. `E` is its {@link EventMap}: with one, `on`, `off`,
 * `onPayload`, `emit` and `request` take only the names it lists and infer payload, data and
 * result types from them; without one (the default), any event name goes, as
 * `Record<string, unknown>` unless a call names its own type (`on<T>()`, `request<T>()`).
 *
 * Each event method has two signatures, one per case; the other's event name is `never`. A typed
 * client is still a `NamespacedClient` (the sync store and the Alpine plugin take any client).
 */
export interface NamespacedClient<E extends EventMap = EventMap> {
  readonly namespace: string;
  readonly url: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The CSRF token of the current credentials, when known (for HTTP fallbacks). */
  readonly csrfToken: string | undefined;
  /** The connection's transport, and the WebSocket probes and moves so far. */
  readonly transport: TransportInfo;
  /** The server's runtime id seen last (from a token answer, `server_restart` or a connect), when known. */
  readonly runtimeId: string | undefined;
  /** Connects (one shared handshake for all callers). Rejects if the first attempt fails; retries go on in the background unless the failure is terminal. */
  connect(): Promise<void>;
  /** Sends an event. Resolves once the server acknowledged it (or, with `confirm: false`, once handed to a connected socket). */
  emit(event: UntypedClientName<E>, data?: object | null, options?: EmitOptions): Promise<void>;
  /** Sends client event `event` of the map, with the data the map gives it. */
  emit<K extends ClientEventName<E>>(
    event: K,
    ...args: CallArgs<ClientData<E, K>, EmitOptions>
  ): Promise<void>;
  /** Request/ack. Always settles: ack, `TIMEOUT`, `DISCONNECTED`, or a validation error. */
  request<T = Record<string, unknown>>(
    event: UntypedClientName<E>,
    data?: object | null,
    options?: RequestOptions,
  ): Promise<RequestResponse<T>>;
  /** Requests client event `event` of the map; each result's `data` has the map's `result` type. */
  request<K extends ClientEventName<E>>(
    event: K,
    ...args: CallArgs<ClientData<E, K>, RequestOptions>
  ): Promise<RequestResponse<ClientResult<E, K>>>;
  /** Subscribes; recorded at once, kept across reconnects and failed connects. Starts the lazy connect. */
  on<T extends object = Record<string, unknown>>(
    event: UntypedServerName<E>,
    callback: EventCallback<T>,
  ): () => void;
  /** Subscribes to server event `event` of the map; the envelope's `data` has its payload type. */
  on<K extends ServerEventName<E>>(
    event: K,
    callback: EventCallback<ServerPayload<E, K>>,
  ): () => void;
  /**
   * Subscribes to `event`'s payload as the socket delivered it, before any validation: for a
   * layer that checks the envelope and its own data in one pass (the sync store reads
   * `state_push` this way; {@link validateServerEnvelope} is the envelope check). Each call is
   * a subscription of its own, removed by the function it returns. These callbacks never
   * answer a server request. Starts the lazy connect, like `on()`. The payload stays `unknown`
   * with an event map too: nothing has checked it yet.
   */
  onPayload(
    event: UntypedServerName<E> | ServerEventName<E>,
    callback: (payload: unknown) => void,
  ): () => void;
  /** Removes that one callback. */
  off<T extends object = Record<string, unknown>>(
    event: UntypedServerName<E>,
    callback: EventCallback<T>,
  ): void;
  /** Removes that one callback of server event `event` of the map. */
  off<K extends ServerEventName<E>>(event: K, callback: EventCallback<ServerPayload<E, K>>): void;
  onConnect(listener: (info: ConnectInfo) => void): () => void;
  onDisconnect(listener: (reason: string) => void): () => void;
  onError(listener: (error: SyncwireError) => void): () => void;
  /** Called once when `dispose()` runs, before its listeners are removed; layers built on the client (a sync store) let go of it there. */
  onDispose(listener: () => void): () => void;
  /** Runs the auth provider again with `refresh: true` (e.g. after an HTTP 403), updating `csrfToken`. */
  refreshAuth(): Promise<void>;
  /** Sends an error to the `onError` listeners; layers built on the client use it. Needs no `this`, so it can be passed as a callback. */
  reportError: (error: unknown) => void;
  isConnected(): boolean;
  /** Drops the connection and connects again, optionally with fresh credentials. */
  reconnect(options?: { refreshAuth?: boolean }): Promise<void>;
  /** Closes the connection; pending requests reject with `DISCONNECTED`. A later emit/request reconnects. */
  disconnect(): void;
  /** Closes everything and removes every listener and timer. The client is unusable afterwards. */
  dispose(): void;
  readonly disposed: boolean;
}
